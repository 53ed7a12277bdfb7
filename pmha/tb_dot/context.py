"""What the tb_dot views, API and tasks read from the running app: the treatment catalogue."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app

from pmha.tb_dot.regimens import TreatmentRules, load_catalogue


def catalogue() -> Mapping[str, TreatmentRules]:
    """Each destination's `[tb_treatment]` rules, from the app's rule directory."""
    return load_catalogue(current_app.extensions["pmha.config"].RULES_DIR)
