"""Fixtures the vaccine tests share: the world's nurse and the app's rule book."""

from __future__ import annotations

from typing import Any

import pytest

from pmha.core.auth import Actor
from pmha.rules import RuleBook
from tests.factories import World


@pytest.fixture()
def nurse(world: World) -> Actor:
    return world.actor("nurse")


@pytest.fixture()
def rules(app: Any) -> RuleBook:
    found: RuleBook = app.extensions["pmha.rules"]
    return found
