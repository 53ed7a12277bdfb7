"""JSON API for laboratory orders, results and consent."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.core.context import rulebook
from pmha.core.endpoint import Api
from pmha.core.errors import Forbidden
from pmha.core.http import load_json
from pmha.core.schemas import CommandSchema, StrictSchema, date_in_range
from pmha.exams import lab_service, labs
from pmha.exams.commands import NewLabResult, Reinterpretation

bp = Blueprint("labs_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="labs")
on_applicant = api.under("/applicants/<uuid:applicant_id>")
on_lab_order = api.under("/lab-orders/<uuid:order_id>")


class OrderIn(StrictSchema):
    codes = fields.List(
        fields.String(validate=validate.OneOf(labs.LAB_CODES)),
        required=True,
        validate=validate.Length(min=1, max=len(labs.LAB_CODES)),
    )


class LabResultIn(CommandSchema):
    command = NewLabResult
    specimen_number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "the number on the specimen's label: this order's accession"},
    )
    value = fields.Raw(
        load_default=None,
        metadata={
            "description": "mm for a TST; the interpretation of a test whose interpretation is "
            "not derived; for syphilis and IGRA it is derived from the values (if given, it "
            "must agree)"
        },
    )
    date = fields.Date(required=True, validate=date_in_range)
    collected_on = fields.Date(validate=date_in_range)
    details = fields.Nested(
        "LabDetailsIn",
        load_default=dict,
        metadata={"description": "TST: placed_on and read_on; others: optional notes"},
    )
    measurements = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.Float(allow_nan=False),
        metadata={
            "description": "serum creatinine (creatinine, umol/L) and urinalysis (protein, "
            "glucose mg/dL; blood /uL; ph; specific_gravity): each analyte's value in the "
            "UCUM unit shown; flags and normal/abnormal follow from the applicant's reference "
            "ranges (a child's creatinine has none: give `value`)"
        },
    )
    performing_lab = fields.String(
        validate=validate.Length(max=120),
        metadata={"description": "the laboratory that performed the test"},
    )


class LabDetailsIn(StrictSchema):
    placed_on = fields.Date(validate=date_in_range)
    read_on = fields.Date(validate=date_in_range)
    titre = fields.String(validate=validate.Regexp(r"^1:\d{1,5}$"))
    method = fields.String(validate=validate.Length(max=60))
    collection_method = fields.String(
        validate=validate.OneOf(["spontaneous", "induced", "gastric_aspirate", "bronchoscopy"])
    )
    note = fields.String(validate=validate.Length(max=500))
    # syphilis (reverse algorithm): each assay, and what the applicant says of past treatment
    treponemal = fields.String(validate=validate.OneOf(["reactive", "non_reactive"]))
    non_treponemal = fields.String(validate=validate.OneOf(["reactive", "non_reactive"]))
    treatment_history = fields.String(validate=validate.Length(max=500))
    second_treponemal = fields.String(validate=validate.OneOf(["reactive", "non_reactive"]))
    treatment_documented = fields.Boolean()
    # sputum culture: the date the culture was final (cultures take up to 8 weeks)
    final_on = fields.Date(validate=date_in_range)
    # IGRA (DS-3030): the assay and its values
    assay = fields.String(validate=validate.OneOf(["QFT-Plus", "QFT-GIT", "T-SPOT.TB"]))
    nil = fields.Float(validate=validate.Range(min=0, max=100))
    tb1 = fields.Float(validate=validate.Range(min=0, max=100))
    tb2 = fields.Float(validate=validate.Range(min=0, max=100))
    mitogen = fields.Float(validate=validate.Range(min=0, max=1000))
    panel_a = fields.Float(validate=validate.Range(min=0, max=1000))  # T-SPOT.TB spot counts
    panel_b = fields.Float(validate=validate.Range(min=0, max=1000))
    # HIV: pre-test counselling comes before the result
    pre_test_counselling_on = fields.Date(validate=date_in_range)


class OverrideIn(CommandSchema):
    command = Reinterpretation
    value = fields.String(required=True, validate=validate.Length(min=1, max=40))
    reason = fields.String(required=True, validate=validate.Length(max=500))


class ConsentIn(StrictSchema):
    kind = fields.Enum(labs.ConsentKind, by_value=True, required=True)
    given = fields.Boolean(required=True)
    date = fields.Date(required=True, validate=date_in_range)


class OrderOut(StrictSchema):
    id = fields.UUID()
    code = fields.String()
    specimen = fields.Integer()
    status = fields.String()
    accession = fields.String(metadata={"description": "the specimen number on the label"})
    ordered_at = fields.DateTime()
    result = fields.Dict(allow_none=True)


class LabsOut(StrictSchema):
    orders = fields.List(fields.Nested(OrderOut))


def _measured(rows: list[labs.LabMeasurement]) -> list[dict[str, Any]]:
    return [
        {
            "analyte": m.analyte,
            "value": m.value,
            "unit": m.unit,
            "reference_range": None
            if m.reference_low is None
            else {"low": m.reference_low, "high": m.reference_high},
            "flag": m.flag,
        }
        for m in rows
    ]


def _order(
    order: Any, result: Any, measured: list[labs.LabMeasurement] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = OrderOut().dump(
        {
            "id": order.id,
            "code": order.code,
            "specimen": order.specimen,
            "status": order.status.value,
            "accession": order.accession,
            "ordered_at": order.ordered_at,
            "result": None
            if result is None
            else {
                "value": result.value,
                "date": result.result_date.isoformat(),
                "details": result.details,
                "specimen_number": result.specimen_number,
                "interpretation": result.interpretation.value,
                "derived": result.derived,
                "derivation": result.derivation,
                "performing_lab": result.performing_lab,
                "measurements": _measured(measured or []),
                "override": None
                if result.overridden_at is None
                else {
                    "by": result.overridden_by_name,
                    "at": result.overridden_at.isoformat(),
                    "reason": result.override_reason,
                },
            },
        }
    )
    return out


@on_applicant.get("/labs", "labs:read", response=LabsOut)
def read_labs(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The applicant's lab orders and results"""
    found = lab_service.labs(db, me, applicant_id)
    measured = lab_service.measurements(db, [r for _, r in found if r is not None])
    return {
        "orders": [_order(o, r, measured.get(r.id) if r is not None else None) for o, r in found]
    }


@on_applicant.create("/lab-orders", "exams:write", body=OrderIn, response=LabsOut)
def order_tests(db: Session, me: Actor, body: dict[str, Any], applicant_id: uuid.UUID) -> Any:
    """Order tests of the applicant's plan (sputum: three specimens); a test outside the plan is a
    422"""
    made = lab_service.order_tests(db, me, rulebook(), applicant_id, body["codes"])
    return {"orders": [_order(o, None) for o in made]}


@on_lab_order.create("/result", "cases:read", body=LabResultIn, response=OrderOut, also=(409,))
def record_lab_result(db: Session, me: Actor, body: NewLabResult, order_id: uuid.UUID) -> Any:
    """Record the result of an ordered test (the role needed depends on the test): it names the
    order's specimen number (another order's is a 422 labs.specimen_mismatch); syphilis, IGRA
    and TST interpretations are derived from the values (values that contradict each other are a
    422 labs.values_contradict); impossible dates, or an HIV result without consent, are a 422"""
    session = db
    result = lab_service.record_result(session, me, rulebook(), order_id, body)
    order = session.get(labs.LabOrder, result.order_id)
    measured = lab_service.measurements(session, [result]).get(result.id)
    return _order(order, result, measured)


@on_lab_order.post("/interpretation", "exams:sign", body=OverrideIn, response=OrderOut, also=(409,))
def override_interpretation(
    db: Session, me: Actor, body: Reinterpretation, order_id: uuid.UUID
) -> Any:
    """A physician overrides the interpretation derived from a syphilis or IGRA result's values,
    with a reason (audited); without a reason, or for a typed result, a 422"""
    session = db
    result = lab_service.override_interpretation(session, me, rulebook(), order_id, body)
    order = session.get(labs.LabOrder, result.order_id)
    return _order(order, result)


@on_applicant.create("/consents", "labs:read", body=ConsentIn)
def record_consent(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Record the applicant's consent or refusal (HIV test, chest X-ray in pregnancy), by the staff
    who counsel or collect: nurse, physician or lab technician"""
    me = me
    if not (me.can("exams:write") or me.can("labs:write")):
        raise Forbidden("Only the staff who counsel or collect specimens record consent.")
    body = load_json(ConsentIn())
    consent = lab_service.record_consent(
        db, me, applicant_id, body["kind"], body["given"], body["date"]
    )
    return {"id": str(consent.id), "kind": consent.kind.value, "given": consent.given}
