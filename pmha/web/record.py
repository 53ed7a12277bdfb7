"""What every page of an applicant's clinical record shares (exam, labs, X-rays, vaccinations,
TB treatment, documents): the applicant loaded at the caller's sites, the header with its banner
and tabs, and the version a form was read at. Each domain owns its pages; these
pieces are the web layer's, not one domain's."""

from __future__ import annotations

import uuid
from typing import Any

from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core.auth import Actor, actor
from pmha.core.db import get_session
from pmha.core.errors import NotFound
from pmha.exams import banner
from pmha.web.words import age_text

# The record's tabs: (endpoint, words, the permission that shows it).
TABS = (
    ("exams.record", "Exam record", "exams:read"),
    ("exams.labs", "Labs", "labs:read"),
    ("exams.xrays", "Chest X-rays", "radiology:read"),
    ("vaccines.applicant", "Vaccinations", "vaccines:read"),
    ("tb_dot.applicant", "TB treatment", "tb_dot:read"),
)


def applicant_of(case_id: uuid.UUID, applicant_id: uuid.UUID) -> Applicant:
    """The applicant, at one of the caller's sites and in this case (404 otherwise).

    The service verb the page calls next audits the read of what it shows."""
    applicant = cases.load_applicant(get_session(), actor(), applicant_id)
    if applicant.case_id != case_id:
        raise NotFound("No such applicant.", code="applicants.not_found")
    return applicant


def tabs(who: Actor) -> list[tuple[str, str]]:
    return [(endpoint, text) for endpoint, text, permission in TABS if who.can(permission)]


def page_context(applicant: Applicant, current: str) -> dict[str, Any]:
    return {
        "a": applicant,
        "case": applicant.case,
        "banner": banner.banner(get_session(), actor(), applicant),
        "age": age_text,
        "tabs": tabs(actor()),
        "current_tab": current,
        "nav": "cases",
    }


def version_of(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None
