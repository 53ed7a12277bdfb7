"""The auditor's page: search the trail and check the chain."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from marshmallow import fields, validate

from pmha.audit import service
from pmha.core.auth import actor, require
from pmha.core.db import get_session
from pmha.core.forms import form_data, load_form
from pmha.core.schemas import PageArgs

bp = Blueprint("audit", __name__)


class EventFilter(PageArgs):
    actor_name = fields.String(validate=validate.Length(max=60))
    action = fields.String(validate=validate.Length(max=40))
    record_type = fields.String(validate=validate.Length(max=60))
    record_id = fields.String(validate=validate.Length(max=64))
    since = fields.Date()
    until = fields.Date()


FILTERS = ["actor_name", "action", "record_type", "record_id", "since", "until", "page"]


@bp.get("/audit")
@require("audit:read")
def events() -> Any:
    raw = form_data(request.args, FILTERS)
    data, errors = load_form(EventFilter(), raw)
    db = get_session()
    page = service.search(db, actor(), **(data or {"page": 1, "per_page": 50}))
    check = service.verify(db) if request.args.get("verify") else None
    return render_template(
        "audit/events.html", page=page, form=raw, errors=errors, check=check, nav="audit"
    ), (422 if errors else 200)
