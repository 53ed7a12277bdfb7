"""Pages: find a case, read it, register a family, add a family member."""

from __future__ import annotations

import unicodedata
import uuid
from functools import cache, partial
from typing import Any

import pycountry
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from pmha.cases import schemas, service
from pmha.cases.models import Destination, DocumentType, Programme, Relationship, Sex, Site
from pmha.core.auth import actor
from pmha.core.db import get_session
from pmha.core.forms import Failed, form_action, form_data, load_form
from pmha.core.schemas import STATELESS_OR_UNKNOWN
from pmha.rules.regions import country_name as country_words
from pmha.web.pages import Pages
from pmha.web.words import age_text

bp = Blueprint("cases", __name__)
pages = Pages(bp)

APPLICANT_FIELDS = [
    "family_name",
    "given_names",
    "family_name_original",
    "given_names_original",
    "dob",
    "sex",
    "nationality",
    "relationship",
]
CASE_FIELDS = ["site_code", "destination", "programme", "planned_departure", "external_ref"]
DOC_FIELDS = {
    "doc_type": "doc_type",
    "doc_number": "number",
    "doc_country": "issuing_country",
    "doc_expiry": "expiry_date",
}
SEARCH_FIELDS = ["q", "case_number", "dob", "page"]
COUNTRY_FIELDS = ("nationality", "doc_country")

# What each form field is called on the page: the error summary and messages use these words.
FIELD_LABELS = {
    "site_code": "Site",
    "destination": "Destination country",
    "programme": "Programme",
    "planned_departure": "Planned departure",
    "external_ref": "Programme reference",
    "family_name": "Family name",
    "given_names": "Given names",
    "family_name_original": "Family name in original script",
    "given_names_original": "Given names in original script",
    "dob": "Date of birth",
    "sex": "Sex",
    "nationality": "Nationality",
    "relationship": "Relationship",
    "doc_type": "Document type",
    "doc_number": "Document number",
    "doc_country": "Document issued by",
    "doc_expiry": "Document expiry date",
    "q": "Name",
    "case_number": "Case number",
    "page": "Page",
}
# Fields picked from a list: a missing one reads "Choose the ...", not "Enter the ...".
CHOSEN_FIELDS = frozenset(
    ("site_code", "destination", "programme", "sex", "nationality", "relationship", "doc_type")
)
MISSING_MESSAGES = {"doc_country": "Choose the country that issued the document."}
_MISSING = "Missing data for required field."

# Nationalities most often seen in resettlement and migration health work, offered first.
COMMON_COUNTRIES = (
    STATELESS_OR_UNKNOWN,
    "AF", "CD", "ER", "ET", "IQ", "IR", "MM", "PS", "SD", "SO", "SS", "SY", "UA", "VE", "YE",
)  # fmt: skip


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


@cache
def _country_names() -> dict[str, str]:
    # One way to name a country everywhere (e.g. "Democratic Republic of the Congo", as the
    # presumptive-treatment reasons say it), not ISO's inverted "Congo, The Democratic ...".
    names = {c.alpha_2: country_words(c.alpha_2) for c in pycountry.countries}
    names[STATELESS_OR_UNKNOWN] = "Stateless or unknown"
    # Sorted on the unaccented name, so that "Åland Islands" comes with the A's.
    return dict(sorted(names.items(), key=lambda item: unicodedata.normalize("NFKD", item[1])))


@bp.app_template_filter("country")
def country_name(code: str | None) -> str:
    """'SY' -> 'Syria'; an unknown code is shown as it is."""
    return _country_names().get(code or "", code or "")


@cache
def _country_choices() -> dict[str, list[tuple[str, str]]]:
    everything = [(code, f"{name} ({code})") for code, name in _country_names().items()]
    common = [choice for choice in everything if choice[0] in COMMON_COUNTRIES]
    everything = [c for c in everything if c[0] != STATELESS_OR_UNKNOWN]
    return {"common": common, "all": everything}


def country_choices() -> dict[str, list[tuple[str, str]]]:
    """A country picker's choices, by name: the common ones first, then all (with the
    stateless entry among the common ones)."""
    return _country_choices()


def _choices() -> dict[str, Any]:
    return {
        "destination": [(d.value, f"{country_name(d.value)} ({d.value})") for d in Destination],
        "programme": [(p.value, _label(p.value)) for p in Programme],
        "sex": [(s.value, _label(s.value)) for s in Sex],
        "member_relationship": [
            (r.value, _label(r.value)) for r in Relationship if r != Relationship.PRINCIPAL
        ],
        "doc_type": [(d.value, _label(d.value)) for d in DocumentType],
        "countries": _country_choices(),
        "document_countries": {
            group: [c for c in choices if c[0] != STATELESS_OR_UNKNOWN]
            for group, choices in _country_choices().items()
        },
    }


def _humane(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Marshmallow's 'Missing data for required field.' in the words of the page."""
    out = {}
    for name, messages in errors.items():
        label = FIELD_LABELS.get(name, _label(name)).lower()
        verb = "Choose" if name in CHOSEN_FIELDS else "Enter"
        missing = MISSING_MESSAGES.get(name, f"{verb} the {label}.")
        out[name] = [missing if m == _MISSING else m for m in messages]
    return out


def _form_values(form: MultiDict[str, str]) -> MultiDict[str, str]:
    """The submitted form with country codes in capitals (the API insists; people need not)."""
    values = MultiDict(form)
    for name in COUNTRY_FIELDS:
        if name in values:
            values[name] = values[name].strip().upper()
    return values


def _applicant_input(form: MultiDict[str, str]) -> dict[str, Any]:
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
    return _humane(out)


@pages.route("/cases", "cases:read", methods=("GET", "POST"))
def case_list() -> Any:
    # Searches are POSTed so that names and dates of birth never sit in URLs or logs.
    raw = form_data(request.form, SEARCH_FIELDS) if request.method == "POST" else {}
    data, errors = load_form(schemas.CaseSearchForm(), raw)
    page = None
    if data is not None:
        page = service.search_cases(get_session(), actor(), **data)
    searched = any(raw.get(k) for k in ("q", "case_number", "dob"))
    return render_template(
        "cases/list.html",
        page=page,
        form=raw,
        errors=_humane(errors),
        labels=FIELD_LABELS,
        searched=searched,
        nav="cases",
    ), (422 if errors else 200)


@pages.get("/cases/<uuid:case_id>", "cases:read")
def case_page(case_id: uuid.UUID) -> Any:
    case = service.get_case(get_session(), actor(), case_id)
    return render_template("cases/case.html", case=case, age=age_text, nav="cases")


def _my_sites() -> list[Site]:
    mine = select(Site).where(Site.id.in_(actor().site_ids)).order_by(Site.code)
    return list(get_session().scalars(mine))


def _identity_page(
    template: str, form: MultiDict[str, str] | dict[str, Any], failed: Failed | None, **extra: Any
) -> Any:
    """A form for a person's identity and document (a case's principal, a new member): refused,
    with the errors by field in the page's field names, or, for a person who may already be on
    file, the candidates to compare instead."""
    errors, candidates = {}, None
    if failed is not None and isinstance(failed.problem, service.PossibleDuplicate):
        candidates = failed.problem.extra["candidates"]
    elif failed is not None:
        errors = _document_errors(
            {k.removeprefix("principal."): v for k, v in failed.errors.items()}
        )
    return render_template(
        template,
        form=form,
        errors=errors,
        candidates=candidates,
        labels=FIELD_LABELS,
        choices=_choices(),
        **extra,
    )


def _register_page(form: MultiDict[str, str] | dict[str, Any], failed: Failed | None = None) -> Any:
    sites = [(s.code, f"{s.code} · {s.name}") for s in _my_sites()]
    return _identity_page("cases/register.html", form, failed, site_choices=sites, nav="register")


@pages.route("/cases/new", "cases:write", methods=("GET", "POST"))
def register() -> Any:
    if request.method == "GET":
        return _register_page({})
    form = _form_values(request.form)
    principal = _applicant_input(form)
    principal["relationship"] = Relationship.PRINCIPAL.value
    raw = {**form_data(form, CASE_FIELDS), "principal": principal}
    case = form_action(
        "register",
        raw,
        lambda cmd: service.register_case(get_session(), actor(), cmd),
        partial(_register_page, form),
        schema=schemas.CaseIn(),
    )
    flash(f"Case {case.case_number} registered. Now add the other family members.")
    return redirect(url_for("cases.case_page", case_id=case.id))


def _member_page(case: Any, form: Any, failed: Failed | None = None) -> Any:
    return _identity_page("cases/member.html", form, failed, case=case, nav="cases")


@pages.route("/cases/<uuid:case_id>/members/new", "cases:write", methods=("GET", "POST"))
def add_member(case_id: uuid.UUID) -> Any:
    db = get_session()
    case = service.get_case(db, actor(), case_id)
    if request.method == "GET":
        return _member_page(case, {})
    form = _form_values(request.form)
    applicant = form_action(
        "member",
        _applicant_input(form),
        lambda cmd: service.add_applicant(db, actor(), case.id, cmd),
        partial(_member_page, case, form),
        schema=schemas.ApplicantIn(),
    )
    flash(f"{applicant.given_names} {applicant.family_name} added to case {case.case_number}.")
    return redirect(url_for("cases.case_page", case_id=case.id))
