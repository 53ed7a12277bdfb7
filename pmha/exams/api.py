"""JSON API for the exam record: sections with drafts, sign-off and amendments."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request
from marshmallow import fields, validate

from pmha.core.auth import actor, require
from pmha.core.db import get_session
from pmha.core.errors import UnsupportedMediaType, ValidationFailed
from pmha.core.http import load_json
from pmha.core.openapi import doc
from pmha.core.schemas import StrictSchema, date_in_range, strict_integer
from pmha.exams import dicom, lab_service, labs, radiology, service
from pmha.exams.models import SectionKind, SectionStatus
from pmha.exams.sections import bmi

bp = Blueprint("exams_api", __name__, url_prefix="/api/v1")


class DraftIn(StrictSchema):
    data = fields.Dict(
        required=True, metadata={"description": "The section's fields (see /api/docs)."}
    )
    version = strict_integer(load_default=None, metadata={"description": "The draft's version."})


class SignIn(StrictSchema):
    version = strict_integer(required=True)


class AmendIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=5, max=500))


class SectionOut(StrictSchema):
    id = fields.UUID()
    kind = fields.Enum(SectionKind, by_value=True)
    number = fields.Integer()
    status = fields.Enum(SectionStatus, by_value=True)
    data = fields.Dict()
    signed_by_name = fields.String(allow_none=True)
    signed_at = fields.DateTime(allow_none=True)
    amends_id = fields.UUID(allow_none=True)
    amendment_reason = fields.String(allow_none=True)
    version = fields.Integer()
    derived = fields.Dict(metadata={"description": "BMI, implied mental health class"})


class RecordOut(StrictSchema):
    sections = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(SectionOut)))


def _kind(name: str) -> SectionKind:
    try:
        return SectionKind(name)
    except ValueError:
        raise ValidationFailed(
            errors={"kind": [f"Use one of {', '.join(k.value for k in SectionKind)}."]}
        ) from None


SECTION_FIELDS = ("id", "kind", "number", "status", "data", "signed_by_name", "signed_at",
                  "amends_id", "amendment_reason", "version")  # fmt: skip


def _dump(section: Any) -> dict[str, Any]:
    derived: dict[str, Any] = {}
    if section.kind == SectionKind.PHYSICAL_EXAM:
        derived["bmi"] = bmi(section.data)
    implied = service.implied_classification(section)
    if implied is not None:
        derived["implied_classification"] = implied
    out: dict[str, Any] = SectionOut().dump(
        {**{name: getattr(section, name) for name in SECTION_FIELDS}, "derived": derived}
    )
    return out


@bp.get("/applicants/<uuid:applicant_id>/exam")
@require("exams:read")
@doc(
    "The applicant's exam record: every section, every version",
    response=RecordOut,
    errors=(404,),
    tag="exams",
)
def read_record(applicant_id: uuid.UUID) -> Any:
    found = service.record(get_session(), actor(), applicant_id)
    return {"sections": {k.value: [_dump(s) for s in v] for k, v in found.items()}}


@bp.put("/applicants/<uuid:applicant_id>/exam/<kind>")
@require("exams:write")
@doc(
    "Save the section's draft (medical_history, physical_exam, mental_health, "
    "specialist_referral, recommendations, counselling); a signed section is a 409",
    body=DraftIn,
    response=SectionOut,
    errors=(400, 404, 409, 415, 422),
    tag="exams",
)
def save_draft(applicant_id: uuid.UUID, kind: str) -> Any:
    body = load_json(DraftIn())
    section = service.save_draft(
        get_session(), actor(), applicant_id, _kind(kind), body["data"], body["version"]
    )
    return _dump(section)


@bp.post("/applicants/<uuid:applicant_id>/exam/<kind>/sign")
@require("exams:write")
@doc(
    "Sign the section's draft: it becomes immutable and feeds the plan",
    body=SignIn,
    response=SectionOut,
    errors=(400, 404, 409, 415, 422),
    tag="exams",
)
def sign(applicant_id: uuid.UUID, kind: str) -> Any:
    body = load_json(SignIn())
    rules = current_app.extensions["pmha.rules"]
    section = service.sign(
        get_session(), actor(), rules, applicant_id, _kind(kind), body["version"]
    )
    return _dump(section)


@bp.post("/applicants/<uuid:applicant_id>/exam/<kind>/amend")
@require("exams:write")
@doc(
    "Open an amendment of a signed section, with its reason",
    body=AmendIn,
    response=SectionOut,
    status=201,
    errors=(400, 404, 415, 422),
    tag="exams",
)
def amend(applicant_id: uuid.UUID, kind: str) -> Any:
    body = load_json(AmendIn())
    section = service.amend(get_session(), actor(), applicant_id, _kind(kind), body["reason"])
    return _dump(section), 201


class OrderIn(StrictSchema):
    codes = fields.List(
        fields.String(validate=validate.OneOf(labs.LAB_CODES)),
        required=True,
        validate=validate.Length(min=1, max=len(labs.LAB_CODES)),
    )


class LabResultIn(StrictSchema):
    value = fields.Raw(required=True, metadata={"description": "the code's value, or mm for TST"})
    date = fields.Date(required=True, validate=date_in_range)
    details = fields.Nested(
        "LabDetailsIn",
        load_default=dict,
        metadata={"description": "TST: placed_on and read_on; others: optional notes"},
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


class ConsentIn(StrictSchema):
    kind = fields.Enum(labs.ConsentKind, by_value=True, required=True)
    given = fields.Boolean(required=True)
    date = fields.Date(required=True, validate=date_in_range)


class OrderOut(StrictSchema):
    id = fields.UUID()
    code = fields.String()
    specimen = fields.Integer()
    status = fields.String()
    ordered_at = fields.DateTime()
    result = fields.Dict(allow_none=True)


class LabsOut(StrictSchema):
    orders = fields.List(fields.Nested(OrderOut))


def _order(order: Any, result: Any) -> dict[str, Any]:
    out: dict[str, Any] = OrderOut().dump(
        {
            "id": order.id,
            "code": order.code,
            "specimen": order.specimen,
            "status": order.status.value,
            "ordered_at": order.ordered_at,
            "result": None
            if result is None
            else {
                "value": result.value,
                "date": result.result_date.isoformat(),
                "details": result.details,
            },
        }
    )
    return out


@bp.get("/applicants/<uuid:applicant_id>/labs")
@require("labs:read")
@doc("The applicant's lab orders and results", response=LabsOut, errors=(404,), tag="labs")
def read_labs(applicant_id: uuid.UUID) -> Any:
    found = lab_service.labs(get_session(), actor(), applicant_id)
    return {"orders": [_order(o, r) for o, r in found]}


@bp.post("/applicants/<uuid:applicant_id>/lab-orders")
@require("exams:write")
@doc(
    "Order tests of the applicant's plan (sputum: three specimens); a test outside the plan "
    "is a 422",
    body=OrderIn,
    response=LabsOut,
    status=201,
    errors=(400, 404, 415, 422),
    tag="labs",
)
def order_tests(applicant_id: uuid.UUID) -> Any:
    body = load_json(OrderIn())
    made = lab_service.order_tests(
        get_session(), actor(), current_app.extensions["pmha.rules"], applicant_id, body["codes"]
    )
    return {"orders": [_order(o, None) for o in made]}, 201


@bp.post("/lab-orders/<uuid:order_id>/result")
@require("cases:read")
@doc(
    "Record the result of an ordered test (the role needed depends on the test); a result "
    "dated before its order, or an HIV result without consent, is a 422",
    body=LabResultIn,
    response=OrderOut,
    status=201,
    errors=(400, 404, 409, 415, 422),
    tag="labs",
)
def record_lab_result(order_id: uuid.UUID) -> Any:
    body = load_json(LabResultIn())
    session = get_session()
    result = lab_service.record_result(
        session, actor(), current_app.extensions["pmha.rules"], order_id, body
    )
    order = session.get(labs.LabOrder, result.order_id)
    return _order(order, result), 201


@bp.post("/applicants/<uuid:applicant_id>/consents")
@require("exams:write")
@doc(
    "Record the applicant's consent or refusal (HIV test, chest X-ray in pregnancy)",
    body=ConsentIn,
    status=201,
    errors=(400, 404, 415, 422),
    tag="labs",
)
def record_consent(applicant_id: uuid.UUID) -> Any:
    body = load_json(ConsentIn())
    consent = lab_service.record_consent(
        get_session(), actor(), applicant_id, body["kind"], body["given"], body["date"]
    )
    return {"id": str(consent.id), "kind": consent.kind.value, "given": consent.given}, 201


def _storage() -> Path:
    return Path(current_app.extensions["pmha.config"].STORAGE_DIR)


class StudyOut(StrictSchema):
    id = fields.UUID()
    modality = fields.String()
    body_part = fields.String(allow_none=True)
    view_position = fields.String(allow_none=True)
    rows = fields.Integer()
    columns = fields.Integer()
    acquired_on = fields.Date(allow_none=True)
    uploaded_at = fields.DateTime()
    sha256 = fields.String()
    reading = fields.Dict(allow_none=True)


class StudiesOut(StrictSchema):
    studies = fields.List(fields.Nested(StudyOut))


class ReadingIn(StrictSchema):
    findings = fields.List(
        fields.String(validate=validate.OneOf(radiology.FINDINGS)),
        required=True,
        validate=validate.Length(max=len(radiology.FINDINGS)),
        metadata={"description": "DS-3030 findings; empty means normal"},
    )
    comments = fields.String(load_default=None, validate=validate.Length(max=2000))


def _study(study: Any, reading: Any) -> dict[str, Any]:
    out: dict[str, Any] = StudyOut().dump(
        {
            **{
                name: getattr(study, name)
                for name in (
                    "id",
                    "modality",
                    "body_part",
                    "view_position",
                    "rows",
                    "columns",
                    "acquired_on",
                    "uploaded_at",
                    "sha256",
                )
            },
            "reading": None
            if reading is None
            else {
                "findings": reading.findings,
                "decision": reading.decision,
                "comments": reading.comments,
                "read_by": reading.read_by_name,
                "read_at": reading.read_at.isoformat(),
            },
        }
    )
    return out


@bp.post("/applicants/<uuid:applicant_id>/xrays")
@require("radiology:write")
@doc(
    "Upload a chest X-ray: the body is the DICOM file (application/dicom, up to 200 MiB); "
    "it is validated, stored by SHA-256, previewed and de-identified",
    response=StudyOut,
    status=201,
    errors=(404, 413, 415, 422),
    tag="radiology",
)
def upload_xray(applicant_id: uuid.UUID) -> Any:
    request.max_content_length = dicom.MAX_BYTES
    if request.mimetype not in ("application/dicom", "application/octet-stream"):
        raise UnsupportedMediaType("Send the file as application/dicom.")
    study = radiology.upload(get_session(), actor(), applicant_id, request.get_data(), _storage())
    return _study(study, None), 201


@bp.get("/applicants/<uuid:applicant_id>/xrays")
@require("radiology:read")
@doc(
    "The applicant's chest X-rays with their readings",
    response=StudiesOut,
    errors=(404,),
    tag="radiology",
)
def list_xrays(applicant_id: uuid.UUID) -> Any:
    found = radiology.studies(get_session(), actor(), applicant_id)
    return {"studies": [_study(s, r) for s, r in found]}


@bp.get("/xrays/<uuid:study_id>/preview.png")
@require("radiology:read")
@doc(
    "The windowed PNG preview (add ?size=thumbnail for the thumbnail)",
    errors=(404,),
    tag="radiology",
)
def xray_preview(study_id: uuid.UUID) -> Response:
    png = radiology.preview(
        get_session(),
        actor(),
        study_id,
        _storage(),
        thumbnail=request.args.get("size") == "thumbnail",
    )
    return Response(png, mimetype="image/png")


@bp.post("/xrays/<uuid:study_id>/reading")
@require("radiology:write")
@doc(
    "The radiologist's reading (DS-3030 findings): it records the chest X-ray result in the "
    "plan (suggestive of TB, other abnormality or normal)",
    body=ReadingIn,
    response=StudyOut,
    status=201,
    errors=(400, 404, 415, 422),
    tag="radiology",
)
def read_xray(study_id: uuid.UUID) -> Any:
    body = load_json(ReadingIn())
    session = get_session()
    reading = radiology.read(session, actor(), current_app.extensions["pmha.rules"], study_id, body)
    return _study(radiology.load_study(session, actor(), study_id), reading), 201
