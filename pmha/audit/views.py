"""The auditor's page: search the trail and check the chain."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, render_template, request
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.audit import service
from pmha.cases.models import Applicant, FamilyCase
from pmha.core.auth import actor
from pmha.core.context import storage
from pmha.core.db import get_session
from pmha.core.forms import form_data, load_form
from pmha.core.schemas import PageArgs
from pmha.web.pages import Pages

bp = Blueprint("audit", __name__)
pages = Pages(bp)


class EventFilter(PageArgs):
    actor_name = fields.String(validate=validate.Length(max=60))
    action = fields.String(validate=validate.Length(max=40))
    record_type = fields.String(validate=validate.Length(max=60))
    record_id = fields.String(validate=validate.Length(max=64))
    since = fields.Date()
    until = fields.Date()


FILTERS = ["actor_name", "action", "record_type", "record_id", "since", "until", "page"]


def _as_code(data: dict[str, Any]) -> dict[str, Any]:
    """'login failed' or 'Lab order' as typed -> the codes the trail keeps (login_failed)."""
    for name in ("action", "record_type"):
        if data.get(name):
            data[name] = "_".join(data[name].lower().split())
    return data


def case_numbers(db: Session, items: list[Any]) -> dict[str, tuple[str, str]]:
    """Record id -> (case number, case id) for events about a case or one of its applicants:
    the row says which case (issue 18: "applicant 8ab8091f" told the auditor nothing)."""
    ids: dict[str, set[uuid.UUID]] = {"case": set(), "applicant": set()}
    for e in items:
        if e.record_type in ids and e.record_id:
            try:
                ids[e.record_type].add(uuid.UUID(str(e.record_id)))
            except ValueError:
                continue
    found: dict[str, tuple[str, str]] = {}
    if ids["case"]:
        rows = db.execute(
            select(FamilyCase.id, FamilyCase.case_number).where(FamilyCase.id.in_(ids["case"]))
        )
        found.update({str(i): (number, str(i)) for i, number in rows})
    if ids["applicant"]:
        members = db.execute(
            select(Applicant.id, FamilyCase.case_number, FamilyCase.id)
            .join(FamilyCase, Applicant.case_id == FamilyCase.id)
            .where(Applicant.id.in_(ids["applicant"]))
        )
        found.update({str(i): (number, str(case_id)) for i, number, case_id in members})
    return found


@pages.get("/audit", "audit:read")
def events() -> Any:
    raw = form_data(request.args, FILTERS)
    data, errors = load_form(EventFilter(), raw)
    db = get_session()
    page = service.search(db, actor(), **_as_code(data or {"page": 1, "per_page": 50}))
    check = service.verify(db, storage()) if request.args.get("verify") else None
    return render_template(
        "audit/events.html",
        page=page,
        form=raw,
        errors=errors,
        check=check,
        cases=case_numbers(db, list(page.items)),
        nav="audit",
    ), (422 if errors else 200)
