"""JSON API for cases and applicants under /api/v1/."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from pmha.cases import photos, schemas, service
from pmha.cases.commands import ApplicantChanges, CaseChanges, NewApplicant, NewCase
from pmha.core.auth import Actor
from pmha.core.endpoint import Api
from pmha.core.http import load_json

bp = Blueprint("cases_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="cases")
on_applicant = api.under("/applicants/<uuid:applicant_id>")

_case_out = schemas.CaseOut()
_applicant_out = schemas.ApplicantOut()


def _page(result: service.Page) -> dict[str, Any]:
    return schemas.dump_page(result)  # what CasePage dumps, built directly


@api.get("/cases", "cases:read", response=schemas.CasePage, query=schemas.CaseListArgs)
def list_cases(db: Session, me: Actor, args: dict[str, Any]) -> Any:
    """List cases at your sites, newest first"""
    return _page(service.search_cases(db, me, **args))


@api.post("/cases/search", "cases:read", body=schemas.CaseSearch, response=schemas.CasePage)
def search_cases(db: Session, me: Actor) -> Any:
    """Search cases by member name (either script), date of birth or case number. A POST, so that
    names never appear in URLs or access logs."""
    args = load_json(schemas.CaseSearch())
    return _page(service.search_cases(db, me, **args))


@api.create("/cases", "cases:write", body=schemas.CaseIn, response=schemas.CaseOut, also=(409, 413))
def create_case(db: Session, me: Actor, body: NewCase) -> Any:
    """Register a family case with its principal applicant"""
    case = service.register_case(db, me, body)
    return _case_out.dump(case)


@api.get("/cases/<uuid:case_id>", "cases:read", response=schemas.CaseOut)
def read_case(db: Session, me: Actor, case_id: uuid.UUID) -> Any:
    """Read a case with its family members"""
    return schemas.dump_case(service.get_case(db, me, case_id))


@api.patch(
    "/cases/<uuid:case_id>", "cases:write", body=schemas.CaseUpdate, response=schemas.CaseOut
)
def update_case(db: Session, me: Actor, body: CaseChanges, case_id: uuid.UUID) -> Any:
    """Update a case; send the version you read (a stale version is a 409)"""
    return _case_out.dump(service.update_case(db, me, case_id, body))


@api.create(
    "/cases/<uuid:case_id>/applicants",
    "cases:write",
    body=schemas.ApplicantIn,
    response=schemas.ApplicantOut,
    also=(409, 413),
)
def add_applicant(db: Session, me: Actor, body: NewApplicant, case_id: uuid.UUID) -> Any:
    """Add a family member to a case; a possible duplicate is a 409 listing the candidates"""
    return schemas.dump_applicant(service.add_applicant(db, me, case_id, body))


@api.get("/applicants/<uuid:applicant_id>", "cases:read", response=schemas.ApplicantOut)
def read_applicant(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Read an applicant's identity record"""
    return schemas.dump_applicant(service.get_applicant(db, me, applicant_id))


@api.patch(
    "/applicants/<uuid:applicant_id>",
    "cases:write",
    body=schemas.ApplicantUpdate,
    response=schemas.ApplicantOut,
)
def update_applicant(
    db: Session, me: Actor, body: ApplicantChanges, applicant_id: uuid.UUID
) -> Any:
    """Correct an applicant's identity data; send the version you read"""
    return _applicant_out.dump(service.update_applicant(db, me, applicant_id, body))


@on_applicant.put("/photo", "cases:write", response=schemas.PhotoOut, also=(413, 415, 422))
def put_photo(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Store or replace an applicant's photo: the body is the image (image/jpeg or image/png, up to
    8 MiB); it is re-encoded as JPEG without metadata"""
    request.max_content_length = photos.MAX_UPLOAD
    photo = photos.set_photo(db, me, applicant_id, request.get_data(), request.mimetype)
    return schemas.PhotoOut().dump(photo)


@on_applicant.get("/photo", "cases:read")
def get_photo(db: Session, me: Actor, applicant_id: uuid.UUID) -> Response:
    """An applicant's photo (image/jpeg)"""
    photo = photos.get_photo(db, me, applicant_id)
    return Response(photo.data, mimetype=photo.content_type)


@on_applicant.delete("/photo", "cases:write", status=204)
def delete_photo(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Remove an applicant's photo"""
    photos.delete_photo(db, me, applicant_id)
    return ""
