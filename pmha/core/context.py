"""What code running in the app reads from it: the rule book and the file store (views, API
endpoints, and a service that defaults to the app's own)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from pmha.rules import RuleBook


def rulebook() -> RuleBook:
    """The destination rules loaded (and checked) when the app started."""
    found: RuleBook = current_app.extensions["pmha.rules"]
    return found


def storage() -> Path:
    """Where files (chest X-rays, attachments) are kept, by their SHA-256."""
    return Path(current_app.extensions["pmha.config"].STORAGE_DIR)
