"""JSON API for the exam record: sections with drafts, sign-off and amendments."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from pmha.accounts.web_auth import confirm_signature
from pmha.core.auth import Actor
from pmha.core.context import rulebook, storage
from pmha.core.endpoint import Api
from pmha.core.errors import ValidationFailed
from pmha.core.schemas import StrictSchema, password_again, strict_integer
from pmha.exams import attachments, service
from pmha.exams.commands import SectionDraft
from pmha.exams.models import SectionKind, SectionStatus
from pmha.exams.sections import SIGN_PERMISSION, bmi

bp = Blueprint("exams_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="exams")
# A section kind in a path: one of these.
KINDS = {"kind": [k.value for k in SectionKind]}
on_applicant = api.under("/applicants/<uuid:applicant_id>")


class DraftIn(StrictSchema):
    data = fields.Dict(
        required=True, metadata={"description": "The section's fields (see /api/docs)."}
    )
    version = strict_integer(load_default=None, metadata={"description": "The draft's version."})


class SignIn(StrictSchema):
    version = strict_integer(required=True)
    password = password_again("signer")
    classification_reason = fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "Mental health: why the class differs from the implied one."},
    )


class AmendIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=5, max=500))


class SectionOut(StrictSchema):
    id = fields.UUID()
    kind = fields.Enum(SectionKind, by_value=True)
    number = fields.Integer()
    status = fields.Enum(SectionStatus, by_value=True)
    data = fields.Dict()
    signed_by_name = fields.String(allow_none=True, metadata={"description": "full name"})
    signed_by_role = fields.String(allow_none=True)
    signed_by_registration = fields.String(
        allow_none=True, metadata={"description": "professional registration number"}
    )
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


SECTION_FIELDS = ("id", "kind", "number", "status", "data", "signed_by_name", "signed_by_role",
                  "signed_by_registration", "signed_at", "amends_id", "amendment_reason",
                  "version")  # fmt: skip


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


@on_applicant.get("/exam", "exams:read", response=RecordOut)
def read_record(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The applicant's exam record: every section, every version"""
    found = service.record(db, me, applicant_id)
    return {"sections": {k.value: [_dump(s) for s in v] for k, v in found.items()}}


@on_applicant.put(
    "/exam/<kind>",
    "exams:write",
    body=DraftIn,
    response=SectionOut,
    path=KINDS,
)
def save_draft(
    db: Session, me: Actor, body: dict[str, Any], applicant_id: uuid.UUID, kind: str
) -> Any:
    """Save the section's draft (medical_history, physical_exam, mental_health,
    specialist_referral, recommendations, counselling); a signed section is a 409"""
    draft = SectionDraft(kind=_kind(kind), content=body["data"], version=body["version"])
    section = service.save_draft(db, me, applicant_id, draft)
    return _dump(section)


@on_applicant.post(
    "/exam/<kind>/sign",
    "exams:write",
    body=SignIn,
    response=SectionOut,
    path=KINDS,
    also=(423,),
)
def sign(db: Session, me: Actor, body: dict[str, Any], applicant_id: uuid.UUID, kind: str) -> Any:
    """Sign the section's draft with your password: it becomes immutable and feeds the plan. A
    wrong password is a 422 (auth.signature_not_confirmed) and counts toward the lockout; a
    mental health class other than the implied one needs classification_reason"""
    section_kind = _kind(kind)
    signature = confirm_signature(body["password"], SIGN_PERMISSION[section_kind])
    section = service.sign(
        db,
        me,
        rulebook(),
        applicant_id,
        section_kind,
        body["version"],
        signature,
        body["classification_reason"],
    )
    return _dump(section)


@on_applicant.create(
    "/exam/<kind>/amend",
    "exams:write",
    body=AmendIn,
    response=SectionOut,
    path=KINDS,
)
def amend(db: Session, me: Actor, body: dict[str, Any], applicant_id: uuid.UUID, kind: str) -> Any:
    """Open an amendment of a signed section, with its reason"""
    section = service.amend(db, me, applicant_id, _kind(kind), body["reason"])
    return _dump(section)


@on_applicant.create(
    "/attachments/<purpose>",
    "exams:write",
    body_content={
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in ("application/pdf", "image/jpeg", "image/png")
    },
    path={"purpose": list(attachments.PURPOSES)},
    also=(413, 422),
)
def attach(db: Session, me: Actor, applicant_id: uuid.UUID, purpose: str) -> Any:
    """Attach a document to the record (purpose: specialist_report); the body is the file (PDF,
    JPEG or PNG, up to 20 MiB)"""
    request.max_content_length = attachments.MAX_BYTES
    found = attachments.attach(db, me, applicant_id, purpose, request.get_data(), _storage())
    return {"id": str(found.id), "media_type": found.media_type, "sha256": found.sha256}


@api.get("/attachments/<uuid:attachment_id>", "exams:read")
def attachment(db: Session, me: Actor, attachment_id: uuid.UUID) -> Response:
    """An attached document's content"""
    found, data = attachments.content(db, me, attachment_id, _storage())
    return Response(
        data,
        mimetype=found.media_type,
        headers={"Content-Disposition": f'inline; filename="{found.id}"'},
    )


def _storage() -> Path:
    return storage()
