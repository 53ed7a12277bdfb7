"""What the travel verbs read from the running app: the rule book and the `[travel]` tables."""

from __future__ import annotations

from flask import current_app

from pmha.rules import RuleBook
from pmha.travel.policy import EMPTY, TravelPolicy, load_policies

_KEY = "pmha.travel.policies"


def rulebook() -> RuleBook:
    found: RuleBook = current_app.extensions["pmha.rules"]
    return found


def policies() -> dict[str, TravelPolicy]:
    """Read once per app from the rule folder (the files were checked when the app started)."""
    found: dict[str, TravelPolicy] | None = current_app.extensions.get(_KEY)
    if found is None:
        found = load_policies(current_app.extensions["pmha.config"].RULES_DIR)
        current_app.extensions[_KEY] = found
    return found


def policy(destination: str) -> TravelPolicy:
    return policies().get(destination, EMPTY)
