from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask


@pytest.fixture()
def rules(app: Flask) -> Any:
    return app.extensions["pmha.rules"]


@pytest.fixture()
def in_app(app: Flask) -> Iterator[None]:
    """Service tests: the travel verbs read the rule files from the running app."""
    with app.app_context():
        yield
