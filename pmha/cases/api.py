"""JSON API for cases and applicants under /api/v1/."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, request

from pmha.cases import photos, schemas, service
from pmha.cases.commands import ApplicantChanges, CaseChanges, NewApplicant, NewCase
from pmha.core.auth import actor, require
from pmha.core.db import get_session
from pmha.core.http import load_args, load_command, load_json
from pmha.core.openapi import doc

bp = Blueprint("cases_api", __name__, url_prefix="/api/v1")

_case_out = schemas.CaseOut()
_applicant_out = schemas.ApplicantOut()


def _page(result: service.Page) -> dict[str, Any]:
    return schemas.dump_page(result)  # what CasePage dumps, built directly


@bp.get("/cases")
@require("cases:read")
@doc(
    "List cases at your sites, newest first",
    query=schemas.CaseListArgs,
    response=schemas.CasePage,
    errors=(422,),
)
def list_cases() -> Any:
    args = load_args(schemas.CaseListArgs())
    return _page(service.search_cases(get_session(), actor(), **args))


@bp.post("/cases/search")
@require("cases:read")
@doc(
    "Search cases by member name (either script), date of birth or case number. "
    "A POST, so that names never appear in URLs or access logs.",
    body=schemas.CaseSearch,
    response=schemas.CasePage,
    errors=(400, 415, 422),
)
def search_cases() -> Any:
    args = load_json(schemas.CaseSearch())
    return _page(service.search_cases(get_session(), actor(), **args))


@bp.post("/cases")
@require("cases:write")
@doc(
    "Register a family case with its principal applicant",
    body=schemas.CaseIn,
    response=schemas.CaseOut,
    status=201,
    errors=(400, 409, 413, 415, 422),
)
def create_case() -> Any:
    data = load_command(schemas.CaseIn(), NewCase)
    case = service.register_case(get_session(), actor(), data)
    return _case_out.dump(case), 201


@bp.get("/cases/<uuid:case_id>")
@require("cases:read")
@doc("Read a case with its family members", response=schemas.CaseOut, errors=(404,))
def read_case(case_id: uuid.UUID) -> Any:
    return schemas.dump_case(service.get_case(get_session(), actor(), case_id))


@bp.patch("/cases/<uuid:case_id>")
@require("cases:write")
@doc(
    "Update a case; send the version you read (a stale version is a 409)",
    body=schemas.CaseUpdate,
    response=schemas.CaseOut,
    errors=(400, 404, 409, 415, 422),
)
def update_case(case_id: uuid.UUID) -> Any:
    data = load_command(schemas.CaseUpdate(), CaseChanges)
    return _case_out.dump(service.update_case(get_session(), actor(), case_id, data))


@bp.post("/cases/<uuid:case_id>/applicants")
@require("cases:write")
@doc(
    "Add a family member to a case; a possible duplicate is a 409 listing the candidates",
    body=schemas.ApplicantIn,
    response=schemas.ApplicantOut,
    status=201,
    errors=(400, 404, 409, 413, 415, 422),
)
def add_applicant(case_id: uuid.UUID) -> Any:
    data = load_command(schemas.ApplicantIn(), NewApplicant)
    return schemas.dump_applicant(service.add_applicant(get_session(), actor(), case_id, data)), 201


@bp.get("/applicants/<uuid:applicant_id>")
@require("cases:read")
@doc("Read an applicant's identity record", response=schemas.ApplicantOut, errors=(404,))
def read_applicant(applicant_id: uuid.UUID) -> Any:
    return schemas.dump_applicant(service.get_applicant(get_session(), actor(), applicant_id))


@bp.patch("/applicants/<uuid:applicant_id>")
@require("cases:write")
@doc(
    "Correct an applicant's identity data; send the version you read",
    body=schemas.ApplicantUpdate,
    response=schemas.ApplicantOut,
    errors=(400, 404, 409, 415, 422),
)
def update_applicant(applicant_id: uuid.UUID) -> Any:
    data = load_command(schemas.ApplicantUpdate(), ApplicantChanges)
    return _applicant_out.dump(service.update_applicant(get_session(), actor(), applicant_id, data))


@bp.put("/applicants/<uuid:applicant_id>/photo")
@require("cases:write")
@doc(
    "Store or replace an applicant's photo: the body is the image (image/jpeg or image/png, "
    "up to 8 MiB); it is re-encoded as JPEG without metadata",
    response=schemas.PhotoOut,
    errors=(404, 413, 415, 422),
)
def put_photo(applicant_id: uuid.UUID) -> Any:
    request.max_content_length = photos.MAX_UPLOAD
    photo = photos.set_photo(
        get_session(), actor(), applicant_id, request.get_data(), request.mimetype
    )
    return schemas.PhotoOut().dump(photo)


@bp.get("/applicants/<uuid:applicant_id>/photo")
@require("cases:read")
@doc("An applicant's photo (image/jpeg)", errors=(404,))
def get_photo(applicant_id: uuid.UUID) -> Response:
    photo = photos.get_photo(get_session(), actor(), applicant_id)
    return Response(photo.data, mimetype=photo.content_type)


@bp.delete("/applicants/<uuid:applicant_id>/photo")
@require("cases:write")
@doc("Remove an applicant's photo", status=204, errors=(404,))
def delete_photo(applicant_id: uuid.UUID) -> Any:
    photos.delete_photo(get_session(), actor(), applicant_id)
    return "", 204
