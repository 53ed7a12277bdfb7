"""The labs page: order the plan's tests, record consent, record each order's result."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import fields, validate
from sqlalchemy import select

from pmha.cases.models import Applicant
from pmha.core.auth import actor
from pmha.core.context import rulebook
from pmha.core.db import get_session, utcnow
from pmha.core.errors import Forbidden
from pmha.core.forms import Failed, error_summary, form_action, form_data, form_load
from pmha.core.schemas import StrictSchema, date_in_range
from pmha.exams import lab_ranges, lab_service, lab_values, labs
from pmha.exams.commands import NewLabResult, Reinterpretation
from pmha.exams.lab_api import LabDetailsIn
from pmha.exams.views.common import pages, record_pages
from pmha.rules import vocabulary as vocab
from pmha.web.record import page_context
from pmha.workflow import service as workflow
from pmha.workflow.labels import label, value_label
from pmha.workflow.models import StepState
from pmha.workflow.roles import permission_for

COLLECTION_METHODS = {
    "spontaneous": "Spontaneous",
    "induced": "Induced",
    "gastric_aspirate": "Gastric aspirate",
    "bronchoscopy": "Bronchoscopy",
}
CONSENTS = {
    labs.ConsentKind.HIV_TEST: "HIV test",
    labs.ConsentKind.CHEST_XRAY_IN_PREGNANCY: "Chest X-ray in pregnancy",
}
STATUS_WORDS = {
    "ordered": "Ordered",
    "collected": "Collected",
    "resulted": "Resulted",
    "cancelled": "Cancelled",
}
WORDS = {
    "value": "Result",
    "specimen_number": "Specimen number",
    "collected_on": "Specimen collected on",
    "second_treponemal": "Second treponemal test",
    "treatment_documented": "Past treatment documented",
    "nil": "Nil",
    "tb1": "TB1",
    "tb2": "TB2",
    "mitogen": "Mitogen",
    "panel_a": "Panel A",
    "panel_b": "Panel B",
    "reason": "Reason",
    "date": "Date of the result",
    "placed_on": "TST placed on",
    "read_on": "TST read on",
    "titre": "Titre",
    "treponemal": "Treponemal test",
    "non_treponemal": "Non-treponemal test",
    "treatment_history": "Past treatment",
    "final_on": "Culture final on",
    "assay": "Assay",
    "pre_test_counselling_on": "Pre-test counselling",
    "collection_method": "Collection method",
    "details": "Test details",
    "consent": "Consent",
    "order": "Order",
    "codes": "Tests",
    "kind": "Consent for",
    "given": "Answer",
    "note": "Note",
    "performing_lab": "Performing laboratory",
    "measurements": "Measured values",
    **{a.code: a.words for p in lab_ranges.PANELS.values() for a in p.analytes},
}
ANALYTES = tuple(dict.fromkeys(a.code for p in lab_ranges.PANELS.values() for a in p.analytes))


def _number() -> Any:
    return fields.Float(
        validate=validate.Range(min=0, max=1000, error="Give a number from 0 to 1000."),
        error_messages={"invalid": "Give a number, e.g. 0.35."},
    )


def _measurement() -> Any:
    # The plausible range of each analyte is checked by the service, in its own words.
    return fields.Float(
        allow_nan=False, error_messages={"invalid": "Give a number, e.g. 88 or 1.020."}
    )


def _required(longest: int, missing: str) -> fields.String:
    """A text the form needs, with what to say when it is left empty."""
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=longest),
        error_messages={"required": missing},
    )


class ResultForm(StrictSchema):
    order = fields.UUID(required=True)
    specimen_number = _required(20, "Give the specimen number from the tube's label.")
    value = fields.String(validate=validate.Length(min=1, max=40))
    date = fields.Date(required=True, validate=date_in_range)
    collected_on = fields.Date(validate=date_in_range)
    second_treponemal = fields.String(validate=validate.OneOf(["reactive", "non_reactive"]))
    treatment_documented = fields.String(validate=validate.OneOf(["yes", "no"]))
    nil = _number()
    tb1 = _number()
    tb2 = _number()
    mitogen = _number()
    panel_a = _number()
    panel_b = _number()
    placed_on = fields.Date(validate=date_in_range)
    read_on = fields.Date(validate=date_in_range)
    titre = fields.String(validate=validate.Regexp(r"^1:\d{1,5}$", error="Write a titre as 1:8."))
    collection_method = fields.String(validate=validate.OneOf(list(COLLECTION_METHODS)))
    note = fields.String(validate=validate.Length(max=500))
    treponemal = fields.String(validate=validate.OneOf(["reactive", "non_reactive"]))
    non_treponemal = fields.String(validate=validate.OneOf(["reactive", "non_reactive"]))
    treatment_history = fields.String(validate=validate.Length(max=500))
    final_on = fields.Date(validate=date_in_range)
    assay = fields.String(validate=validate.OneOf(["QFT-Plus", "QFT-GIT", "T-SPOT.TB"]))
    pre_test_counselling_on = fields.Date(validate=date_in_range)
    performing_lab = fields.String(validate=validate.Length(max=120))
    creatinine = _measurement()
    protein = _measurement()
    glucose = _measurement()
    blood = _measurement()
    ph = _measurement()
    specific_gravity = _measurement()


class OverrideForm(StrictSchema):
    order = fields.UUID(required=True)
    value = _required(40, "Choose the interpretation.")
    reason = fields.String(validate=validate.Length(max=500), load_default="")


class ConsentForm(StrictSchema):
    kind = fields.Enum(labs.ConsentKind, by_value=True, required=True)
    given = fields.String(required=True, validate=validate.OneOf(["yes", "no"]))
    date = fields.Date(required=True, validate=date_in_range)


def _planned_labs(applicant_id: uuid.UUID) -> dict[str, bool]:
    """The plan's laboratory tests: code -> only if needed (conditional)."""
    found = workflow.view(get_session(), actor(), rulebook(), applicant_id)
    return {
        s.code: s.planned_status == "conditional"
        for s in found.steps
        if s.code in labs.LAB_CODES and s.state != StepState.NOT_APPLICABLE
    }


def _consents(applicant_id: uuid.UUID) -> list[labs.Consent]:
    # Read with the orders (lab_service.labs audits that read); no service lists consents yet.
    return list(
        get_session().scalars(
            select(labs.Consent)
            .where(labs.Consent.applicant_id == applicant_id)
            .order_by(labs.Consent.recorded_at.desc())
        )
    )


@record_pages.page("/labs", "labs:read", endpoint="labs")
def _page(applicant: Applicant, failed: Failed | None = None, status: int = 200) -> Any:
    me = actor()
    orders = lab_service.labs(get_session(), me, applicant.id)
    ordered = {o.code for o, _ in orders if o.status != labs.OrderStatus.CANCELLED}
    today = utcnow().date()
    years = (
        today.year
        - applicant.dob.year
        - ((today.month, today.day) < (applicant.dob.month, applicant.dob.day))
    )
    planned = _planned_labs(applicant.id)
    return render_template(
        "exams/labs.html",
        orders=orders,
        planned=planned,
        ordered=ordered,
        consents=_consents(applicant.id),
        consent_kinds=CONSENTS,
        can_order=me.can("exams:write"),
        can_consent=me.can("exams:write") or me.can("labs:write"),
        panels=lab_ranges.PANELS,
        specimen_of=lab_ranges.SPECIMEN_OF,
        flag_words=lab_ranges.FLAG_WORDS,
        ranged={
            o.code: lab_ranges.has_ranges(o.code, applicant.sex.value, years) for o, _ in orders
        },
        range_of=lambda analyte: lab_ranges.reference_range(analyte, applicant.sex.value, years),
        measured=lab_service.measurements(get_session(), [r for _, r in orders if r is not None]),
        analyte_of={a.code: a for p in lab_ranges.PANELS.values() for a in p.analytes},
        default_lab=f"{applicant.case.site.name} laboratory",
        can_result={o.id: me.can(permission_for(o.code)) for o, _ in orders},
        can_override=me.can("exams:sign"),
        overridable=lab_service.OVERRIDABLE,
        derived_codes=lab_values.DERIVED_CODES,
        assays=lab_values.catalogue().assays,
        needs_review=lab_values.NEEDS_REVIEW,
        result_values=vocab.RESULT_VALUES,
        methods=COLLECTION_METHODS,
        status_words=STATUS_WORDS,
        **error_summary(failed, lambda name: WORDS.get(name, name)),
        detail_label=lambda key: WORDS.get(key, key.replace("_", " ").capitalize()),
        today=today,
        **page_context(applicant, "exams.labs"),
    ), status


def _back(applicant: Applicant, text: str, anchor: str) -> Any:
    flash(text)
    return redirect(
        url_for(".labs", case_id=applicant.case_id, applicant_id=applicant.id, _anchor=anchor)
    )


@record_pages.post("/labs/orders", "exams:write")
def order_tests(applicant: Applicant) -> Any:
    codes = request.form.getlist("codes")
    if not codes:
        failed = Failed("order", {"codes": codes}, {"codes": ["Tick the tests to order."]})
        return _page(applicant, failed, 422)
    made = form_action(
        "order",
        {"codes": codes},
        lambda _: lab_service.order_tests(get_session(), actor(), rulebook(), applicant.id, codes),
        partial(_page, applicant),
    )
    names = ", ".join(dict.fromkeys(label(o.code) for o in made)) or "nothing new"
    return _back(applicant, f"Ordered: {names}.", "orders")


def _order_of(applicant_id: uuid.UUID, order_id: uuid.UUID) -> labs.LabOrder | None:
    """The lab order, if it is one of this applicant's."""
    order = get_session().get(labs.LabOrder, order_id)
    return order if order is not None and order.applicant_id == applicant_id else None


def _not_theirs(raw: dict[str, Any]) -> Failed:
    return Failed("result", raw, {"order": ["This is not one of this applicant's lab orders."]})


def _details(data: dict[str, Any]) -> dict[str, Any]:
    found = {k: data[k] for k in LabDetailsIn().fields if k in data}
    if "treatment_documented" in found:
        found["treatment_documented"] = found["treatment_documented"] == "yes"
    return found


@record_pages.post("/labs/results", "labs:read")
def record_lab_result(applicant: Applicant) -> Any:
    names = ["order", "specimen_number", "value", "date", "collected_on", "placed_on", "read_on",
             "titre", "collection_method", "note", "treponemal", "non_treponemal",
             "second_treponemal", "treatment_documented", "treatment_history", "final_on",
             "assay", "nil", "tb1", "tb2", "mitogen", "panel_a", "panel_b",
             "pre_test_counselling_on", "performing_lab", *ANALYTES]  # fmt: skip
    raw = form_data(request.form, names)
    target, page = f"result-{raw.get('order', '')}", partial(_page, applicant)
    data = form_load(target, raw, page, ResultForm())
    order = _order_of(applicant.id, data["order"])
    if order is None:
        # Another applicant's order (or none): refused here, whatever that applicant is.
        return _page(applicant, _not_theirs(raw), 422)
    panel = lab_ranges.PANELS.get(order.code)
    body = NewLabResult(
        specimen_number=data["specimen_number"],
        value=data.get("value"),
        date=data["date"],
        collected_on=data.get("collected_on"),
        details=_details(data),
        measurements={a.code: data.get(a.code) for a in panel.analytes} if panel else {},
        performing_lab=data.get("performing_lab"),
    )
    result = form_action(
        target,
        raw,
        lambda _: lab_service.record_result(get_session(), actor(), rulebook(), order.id, body),
        page,
    )
    text = f"{label(order.code)}"
    if order.code in labs.SPECIMENS and labs.SPECIMENS[order.code] > 1:
        text += f", specimen {order.specimen}"
    if result.value == lab_values.NEEDS_REVIEW:
        said = "recorded; the values settle nothing on their own: a physician reviews them"
    elif order.code == "tst":
        said = f"{result.value} mm recorded, {value_label(result.derived or '')}"
    else:
        said = f"result {value_label(result.value)} recorded"
    return _back(applicant, f"{text}: {said}.", f"o-{order.id}")


@record_pages.post("/labs/interpretation", "exams:sign")
def override_interpretation(applicant: Applicant) -> Any:
    raw = form_data(request.form, ["order", "value", "reason"])
    target, page = f"override-{raw.get('order', '')}", partial(_page, applicant)
    data = form_load(target, raw, page, OverrideForm())
    order = _order_of(applicant.id, data["order"])
    if order is None:
        return _page(applicant, _not_theirs(raw), 422)
    change = Reinterpretation(value=data["value"], reason=data["reason"])
    result = form_action(
        target,
        raw,
        lambda _: lab_service.override_interpretation(
            get_session(), actor(), rulebook(), order.id, change
        ),
        page,
    )
    return _back(
        applicant,
        f"{label(order.code)}: interpretation overridden, now {value_label(result.value)}.",
        f"o-{order.id}",
    )


@record_pages.post("/labs/consents", "labs:read")
def record_consent(applicant: Applicant) -> Any:
    me = actor()
    if not (me.can("exams:write") or me.can("labs:write")):
        raise Forbidden("Only the staff who counsel or collect specimens record consent.")
    raw = form_data(request.form, ["kind", "given", "date"])

    def page(failed: Failed) -> Any:
        failed.errors = {
            k: ["Choose one." if m == "Missing data for required field." else m for m in v]
            for k, v in failed.errors.items()
        }
        return _page(applicant, failed)

    consent = form_action(
        "consent",
        raw,
        lambda data: lab_service.record_consent(
            get_session(), actor(), applicant.id, data["kind"], data["given"] == "yes", data["date"]
        ),
        page,
        schema=ConsentForm(),
    )
    answer = "given" if consent.given else "refused"
    return _back(applicant, f"Consent to {CONSENTS[consent.kind]}: {answer}.", "consent")


def _lab_worklist(problem: str | None = None, status: int = 200) -> Any:
    rows = lab_service.awaiting(get_session(), actor())
    return render_template(
        "exams/lab_worklist.html",
        rows=rows,
        status_words=AWAITING_WORDS,
        specimen_of=lab_ranges.SPECIMEN_OF,
        problem=problem,
        nav="today",
    ), status


@pages.get("/worklists/lab/orders", "labs:write")
def lab_worklist() -> Any:
    """Orders awaiting their specimen or their result, each leading to its form."""
    return _lab_worklist()


@pages.post("/worklists/lab/orders/<uuid:order_id>/collected", "labs:write")
def mark_collected(order_id: uuid.UUID) -> Any:
    """The specimen is taken today: the order moves to "awaiting result"."""
    order = form_action(
        "collected",
        {},
        lambda _: lab_service.mark_collected(get_session(), actor(), order_id, utcnow().date()),
        lambda failed: _lab_worklist(failed.message),
    )
    flash(f"{label(order.code)}, specimen {order.accession}: collected; it now awaits its result.")
    return redirect(url_for(".lab_worklist"))


AWAITING_WORDS = {"ordered": "Awaiting specimen", "collected": "Awaiting result"}
