"""JSON API for chest X-rays: upload, list, preview, reading."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import fields, validate

from pmha.core.auth import actor, require
from pmha.core.db import get_session
from pmha.core.errors import UnsupportedMediaType
from pmha.core.http import load_json
from pmha.core.openapi import doc
from pmha.core.schemas import StrictSchema
from pmha.exams import dicom, radiology
from pmha.web.context import rulebook, storage

bp = Blueprint("radiology_api", __name__, url_prefix="/api/v1")


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
    reading = radiology.read(session, actor(), rulebook(), study_id, body)
    return _study(radiology.load_study(session, actor(), study_id), reading), 201
