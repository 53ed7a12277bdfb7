"""JSON API for chest X-rays: upload, list, preview, reading."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from pmha.accounts.web_auth import confirm_signature
from pmha.core.auth import Actor, actor
from pmha.core.context import rulebook, storage
from pmha.core.db import get_session
from pmha.core.endpoint import Api
from pmha.core.errors import UnsupportedMediaType
from pmha.core.schemas import StrictSchema, password_again
from pmha.exams import dicom, radiology
from pmha.exams.commands import XrayRead

bp = Blueprint("radiology_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="radiology")
on_applicant = api.under("/applicants/<uuid:applicant_id>")
on_xray = api.under("/xrays/<uuid:study_id>")


def _storage() -> Path:
    return storage()


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
    images_status = fields.String(
        metadata={
            "description": "preparing (the preview, thumbnail and de-identified copy are made "
            "by a job after the upload, within seconds), ready, or failed (the file could not "
            "be rendered; the original is kept)"
        }
    )
    identity_status = fields.String(
        metadata={
            "description": "matched, held (the header names someone else), confirmed "
            "(held, attached by a radiologist) or not_checked (uploaded before the check)"
        }
    )
    identity = fields.Dict(
        metadata={"description": "The header identity compared with the applicant, by field"}
    )
    identity_confirmation = fields.Dict(allow_none=True)
    reading = fields.Dict(allow_none=True)


class ConfirmIdentityIn(StrictSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(max=radiology.REASON_MAX),
        metadata={"description": "Why the image is the applicant's although its header differs"},
    )


class StudiesOut(StrictSchema):
    studies = fields.List(fields.Nested(StudyOut))


class ReadingIn(StrictSchema):
    password = password_again("reader")
    findings = fields.List(
        fields.String(
            validate=validate.OneOf((*radiology.FINDINGS, radiology.NO_ABNORMAL_FINDING))
        ),
        required=True,
        validate=validate.Length(max=len(radiology.FINDINGS) + 1),
        metadata={
            "description": "DS-3030 findings; empty or no_abnormal_finding alone means normal; "
            "no_abnormal_finding with any finding is refused (exams.xray_findings_contradict)"
        },
    )
    comments = fields.String(load_default=None, validate=validate.Length(max=2000))


def _identity(study: Any) -> dict[str, Any]:
    session = get_session()
    check = radiology.identity_check(session, actor(), study)
    if check is None:
        return {"checked": False, "fields": []}
    return {
        "checked": True,
        "differs": check.differs,
        "missing": check.missing,
        "fields": [
            {
                "field": f.field,
                "header": f.header,
                "applicant": f.applicant,
                "outcome": f.outcome,
                "words": f.words,
            }
            for f in check.fields
        ],
    }


def _study(study: Any, reading: Any) -> dict[str, Any]:
    out: dict[str, Any] = StudyOut().dump(
        {
            "identity_status": study.identity_status,
            "identity": _identity(study),
            "identity_confirmation": None
            if study.identity_confirmed_at is None
            else {
                "reason": study.identity_reason,
                "by": study.identity_confirmed_by_name,
                "at": study.identity_confirmed_at.isoformat(),
            },
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
                    "images_status",
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


@on_applicant.create("/xrays", "radiology:write", response=StudyOut, also=(413, 415, 422))
def upload_xray(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Upload a chest X-ray: the body is the DICOM file (application/dicom, up to 200 MiB); it is
    validated, its identity checked and it is stored by SHA-256; the preview and the
    de-identified copy are made by a job right after (images_status: preparing, then ready)"""
    request.max_content_length = dicom.MAX_BYTES
    if request.mimetype not in ("application/dicom", "application/octet-stream"):
        raise UnsupportedMediaType("Send the file as application/dicom.")
    study = radiology.upload(db, me, applicant_id, request.get_data(), _storage())
    return _study(study, None)


@on_applicant.get("/xrays", "radiology:read", response=StudiesOut)
def list_xrays(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The applicant's chest X-rays with their readings"""
    found = radiology.studies(db, me, applicant_id)
    return {"studies": [_study(s, r) for s, r in found]}


@on_xray.get("/preview.png", "radiology:read", also=(409,))
def xray_preview(db: Session, me: Actor, study_id: uuid.UUID) -> Response:
    """The windowed PNG preview (add ?size=thumbnail for the thumbnail); 409 exams.xray_preparing
    (with retry_after, in seconds) while its job has not made it yet"""
    png = radiology.preview(
        db,
        me,
        study_id,
        _storage(),
        thumbnail=request.args.get("size") == "thumbnail",
    )
    return Response(png, mimetype="image/png")


@on_xray.create("/reading", "radiology:write", body=ReadingIn, response=StudyOut, also=(423,))
def read_xray(db: Session, me: Actor, body: dict[str, Any], study_id: uuid.UUID) -> Any:
    """The radiologist's reading (DS-3030 findings): it records the chest X-ray result in the plan
    (suggestive of TB, other abnormality or normal)"""
    signature = confirm_signature(body.pop("password"), "radiology:write")
    session = db
    reading = radiology.read(
        session,
        me,
        rulebook(),
        study_id,
        XrayRead(findings=body["findings"], comments=body["comments"]),
        signature,
    )
    return _study(radiology.load_study(session, me, study_id), reading)


@on_xray.post(
    "/identity-confirmation",
    "radiology:write",
    body=ConfirmIdentityIn,
    response=StudyOut,
    also=(403, 409),
)
def confirm_xray_identity(db: Session, me: Actor, body: dict[str, Any], study_id: uuid.UUID) -> Any:
    """A radiologist attaches a held X-ray (its header names someone else) to the applicant anyway,
    with the reason; audited. Only a held image can be confirmed"""
    session = db
    study = radiology.confirm_identity(session, me, study_id, body["reason"])
    return _study(study, None)
