"""Pages: find a case, read it, register a family, add a family member."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from pmha.cases import schemas, service
from pmha.cases.models import Destination, DocumentType, Programme, Relationship, Sex, Site
from pmha.core.auth import actor, require
from pmha.core.db import get_session
from pmha.core.errors import AppError
from pmha.core.forms import app_error_fields, form_data, load_form

bp = Blueprint("cases", __name__)

APPLICANT_FIELDS = [
    "family_name", "given_names", "family_name_original", "given_names_original",
    "dob", "sex", "nationality", "relationship",
]
CASE_FIELDS = ["site_code", "destination", "programme", "planned_departure", "external_ref"]
DOC_FIELDS = {"doc_type": "doc_type", "doc_number": "number", "doc_country": "issuing_country",
              "doc_expiry": "expiry_date"}
SEARCH_FIELDS = ["q", "case_number", "dob", "page"]


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "destination": [(d.value, d.value) for d in Destination],
        "programme": [(p.value, _label(p.value)) for p in Programme],
        "sex": [(s.value, _label(s.value)) for s in Sex],
        "relationship": [(r.value, _label(r.value)) for r in Relationship],
        "doc_type": [(d.value, _label(d.value)) for d in DocumentType],
    }


def _applicant_input(form: Any) -> dict[str, Any]:
    data = form_data(form, APPLICANT_FIELDS)
    data["dob_estimated"] = form.get("dob_estimated") == "y"
    data["acknowledge_duplicates"] = form.get("acknowledge_duplicates") == "y"
    doc = form_data(form, list(DOC_FIELDS))
    if doc:
        data["documents"] = [{DOC_FIELDS[k]: v for k, v in doc.items()}]
    return data


def _document_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Map API error paths (documents.0.number) onto the page's field names (doc_number)."""
    back = {v: k for k, v in DOC_FIELDS.items()}
    out = {}
    for key, messages in errors.items():
        if key.startswith("documents.0."):
            key = back.get(key.removeprefix("documents.0."), key)
        out[key] = messages
    return out


@bp.route("/cases", methods=["GET", "POST"])
@require("cases:read")
def case_list() -> Any:
    # Searches are POSTed so that names and dates of birth never sit in URLs or logs.
    raw = form_data(request.form, SEARCH_FIELDS) if request.method == "POST" else {}
    data, errors = load_form(schemas.CaseSearch(), raw)
    page = None
    if data is not None:
        page = service.search_cases(get_session(), actor(), **data)
    searched = any(raw.get(k) for k in ("q", "case_number", "dob"))
    return render_template(
        "cases/list.html", page=page, form=raw, errors=errors, searched=searched, nav="cases"
    ), (422 if errors else 200)


@bp.get("/cases/<uuid:case_id>")
@require("cases:read")
def case_page(case_id: uuid.UUID) -> Any:
    case = service.get_case(get_session(), actor(), case_id)
    return render_template("cases/case.html", case=case, nav="cases")


def _my_sites() -> list[Site]:
    return list(get_session().scalars(select(Site).where(Site.id.in_(actor().site_ids))
                                      .order_by(Site.code)))


def _register_page(form: dict[str, Any], errors: dict[str, Any], candidates: Any = None,
                   status: int = 200) -> Any:
    return render_template(
        "cases/register.html", form=form, errors=errors, choices=_choices(),
        site_choices=[(s.code, f"{s.code} · {s.name}") for s in _my_sites()],
        candidates=candidates, nav="register",
    ), status


@bp.route("/cases/new", methods=["GET", "POST"])
@require("cases:write")
def register() -> Any:
    if request.method == "GET":
        return _register_page({"relationship": "principal"}, {})
    form = request.form.to_dict()
    principal = _applicant_input(request.form)
    principal["relationship"] = Relationship.PRINCIPAL.value
    raw = {**form_data(request.form, CASE_FIELDS), "principal": principal}
    data, errors = load_form(schemas.CaseIn(), raw)
    errors = _document_errors({k.removeprefix("principal."): v for k, v in errors.items()})
    if data is None:
        return _register_page(form, errors, status=422)
    try:
        case = service.register_case(get_session(), actor(), data)
    except service.PossibleDuplicate as exc:
        return _register_page(form, {}, candidates=exc.extra["candidates"], status=409)
    except AppError as exc:
        fields = {k.removeprefix("principal."): v for k, v in app_error_fields(exc).items()}
        return _register_page(form, _document_errors(fields), status=exc.status)
    flash(f"Case {case.case_number} registered. Add the other family members below.")
    return redirect(url_for("cases.case_page", case_id=case.id))


def _member_page(case: Any, form: dict[str, Any], errors: dict[str, Any],
                 candidates: Any = None, status: int = 200) -> Any:
    return render_template(
        "cases/member.html", case=case, form=form, errors=errors, choices=_choices(),
        candidates=candidates, nav="cases",
    ), status


@bp.route("/cases/<uuid:case_id>/members/new", methods=["GET", "POST"])
@require("cases:write")
def add_member(case_id: uuid.UUID) -> Any:
    db = get_session()
    case = service.get_case(db, actor(), case_id)
    if request.method == "GET":
        return _member_page(case, {}, {})
    form = request.form.to_dict()
    data, errors = load_form(schemas.ApplicantIn(), _applicant_input(request.form))
    if data is None:
        return _member_page(case, form, _document_errors(errors), status=422)
    try:
        applicant = service.add_applicant(db, actor(), case.id, data)
    except service.PossibleDuplicate as exc:
        return _member_page(case, form, {}, candidates=exc.extra["candidates"], status=409)
    except AppError as exc:
        return _member_page(case, form, _document_errors(app_error_fields(exc)),
                            status=exc.status)
    flash(f"{applicant.given_names} {applicant.family_name} added to case {case.case_number}.")
    return redirect(url_for("cases.case_page", case_id=case.id))
