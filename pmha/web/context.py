"""What views and API endpoints read from the running app: the rule book and the file store."""

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
