"""The home ("today") page per role, the API docs page, and what every page template gets."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, current_app, render_template
from flask.blueprints import BlueprintSetupState

from pmha.core.auth import Role, actor, current_actor, require_login
from pmha.core.db import utcnow
from pmha.core.openapi import build_spec
from pmha.web import localtime, words
from pmha.web.pages import Pages

bp = Blueprint("web", __name__)
pages = Pages(bp)

# What each role comes to the centre to do: its queues first, then the common pages.
FIND = ("Find a case", "cases.case_list")
REGISTER = ("Register a family", "cases.register")
DOT_LIST = ("Today's DOT list", "tb_dot.dot_list")
TODAY: dict[Role, list[tuple[str, str]]] = {
    Role.PANEL_PHYSICIAN: [
        ("Physician worklist", "workflow.worklist_physician"),
        ("TB treatment programme", "tb_dot.programme"),
        FIND,
        REGISTER,
    ],
    Role.NURSE: [
        ("Nurse worklist", "workflow.worklist_nurse"),
        ("Vaccinations today", "vaccines.queue"),
        DOT_LIST,
        FIND,
        REGISTER,
    ],
    Role.RADIOLOGIST: [("Chest X-rays to read", "exams.xray_worklist"), FIND],
    Role.LAB_TECHNICIAN: [("Lab worklist", "exams.lab_worklist"), FIND],
    Role.OPERATIONS: [
        ("Departures", "travel.departure_list"),
        ("Clearance board", "workflow.clearance_board"),
        FIND,
        REGISTER,
    ],
    Role.DOT_WORKER: [DOT_LIST, FIND],
    Role.RECEIVING_AUTHORITY: [("Arrivals", "exports.arrivals")],
    Role.AUDITOR: [("Search the audit trail", "audit.events")],
    Role.ADMIN: [
        ("Manage users", "accounts.users"),
        ("Receiving authorities", "exports.authorities"),
    ],
}

ROLE_NOTES: dict[Role, str] = {
    Role.PANEL_PHYSICIAN: "Exams, histories and follow-ups waiting for you, most urgent first.",
    Role.NURSE: "Vaccinations, skin tests, counselling and observed TB doses waiting for you.",
    Role.RADIOLOGIST: "Chest X-rays waiting for a reading, most urgent first.",
    Role.LAB_TECHNICIAN: "Lab results waiting to be recorded, most urgent first.",
    Role.OPERATIONS: "Flights and who on them is cleared, due a check or blocked.",
    Role.DOT_WORKER: "The TB doses to observe today, and missed doses to follow up.",
    Role.RECEIVING_AUTHORITY: "Bundles imported from assessment centres, and the follow-up due.",
    Role.AUDITOR: "",
    Role.ADMIN: "",
}


@bp.app_context_processor
def _page_context() -> dict[str, Any]:
    # "today" as the pages' lists and forms count it (UTC, as the database dates are kept).
    return {"me": current_actor(optional=True), "nav": None, "today": utcnow().date()}


@pages.get("/", None)
@require_login
def today() -> str:
    me = actor()
    cards = [(role, ROLE_NOTES[role], TODAY[role]) for role in sorted(me.roles) if role in TODAY]
    return render_template("today.html", cards=cards, nav="today")


@pages.get("/api/docs", None)
def api_docs() -> str:
    spec = build_spec(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_template("api_docs.html", spec=spec, nav="api")


@pages.get("/healthz", None)
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@bp.record_once
def _register_words(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    words.init_words(app)
    localtime.init_localtime(app)
    # Browsers ask for /favicon.ico whatever the page links: the static file answers, not a 404.
    app.add_url_rule("/favicon.ico", endpoint="static", defaults={"filename": "favicon.ico"})
