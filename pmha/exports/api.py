"""JSON API for bundles under /api/v1/: the sending centre builds, lists, downloads and logs a
case's bundles; the receiving authority lists the bundles addressed to it, downloads and
acknowledges them, imports them by upload, and reads its arrivals. A token acts as its user: an
authority's user belongs to one destination, and sees only what is addressed to it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, request, url_for

from pmha.core.auth import actor, require
from pmha.core.db import get_session
from pmha.core.errors import Forbidden, UnsupportedMediaType
from pmha.core.http import load_args, load_json
from pmha.core.openapi import doc
from pmha.exports import receive, schemas, service, summary
from pmha.exports.models import ExportJob
from pmha.web.context import storage

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("exports_api", __name__, url_prefix="/api/v1")

BUNDLE_TYPE = "application/pkcs7-mime"
BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD = {
    BUNDLE_TYPE: BINARY,
    "application/octet-stream": BINARY,
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        }
    },
}
_job_out = schemas.JobOut()


def require_any(*permissions: str) -> Callable[[F], F]:
    """View decorator: 403 unless the caller holds at least one of the permissions (the service
    then decides which records each may see)."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = actor()
            if not any(who.can(p) for p in permissions):
                raise Forbidden("Your role does not allow this.", code="auth.forbidden")
            return fn(*args, **kwargs)

        wrapper.pmha_permissions = ()  # type: ignore[attr-defined]
        wrapper.pmha_any_permission = permissions  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def _job(job: ExportJob) -> dict[str, Any]:
    return _job_out.dump(job)  # type: ignore[no-any-return]


# --- the sending centre --------------------------------------------------------------------------


@bp.get("/cases/<uuid:case_id>/bundles")
@require("exports:create")
@doc(
    "A case's export jobs (the last ten, newest first) and bundles with their logs",
    response=schemas.CaseBundles,
    errors=(404,),
    tag="exports",
    operation_id="listCaseBundles",
)
def list_case_bundles(case_id: uuid.UUID) -> Any:
    found = service.case_exports(get_session(), actor(), case_id)
    return {
        "jobs": [_job(j) for j in found.jobs],
        "bundles": [schemas.bundle_out(b, log) for b, log in found.bundles],
    }


@bp.post("/cases/<uuid:case_id>/bundles")
@require("exports:create")
@doc(
    "Build the case's bundle: starts a job and answers with it (202); follow its progress at "
    "the Location given. Refused (409) while the authority's certificate or the centre's "
    "signing key is missing.",
    response=schemas.JobOut,
    status=202,
    errors=(404, 409),
    tag="exports",
    operation_id="createCaseBundle",
)
def create_bundle(case_id: uuid.UUID) -> Any:
    job = service.request_export(get_session(), actor(), case_id)
    location = url_for(".read_export_job", job_id=job.id)
    return _job(job), 202, {"Location": location}


@bp.get("/export-jobs/<uuid:job_id>")
@require("exports:create")
@doc(
    "An export job's state and progress; once done, its bundle_id",
    response=schemas.JobOut,
    errors=(404,),
    tag="exports",
    operation_id="readExportJob",
)
def read_export_job(job_id: uuid.UUID) -> Any:
    return _job(service.job(get_session(), actor(), job_id))


# --- both sides: one bundle ----------------------------------------------------------------------


@bp.get("/bundles")
@require("exports:import")
@doc(
    "The bundles addressed to your authority's destination, newest first, with their logs",
    response=schemas.BundleList,
    tag="exports",
    operation_id="listAuthorityBundles",
)
def list_bundles() -> Any:
    rows = service.bundles_for_authority(get_session(), actor())
    return {"items": [schemas.bundle_out(b, log) for b, log in rows]}


@bp.get("/bundles/<uuid:bundle_id>")
@require_any("exports:create", "exports:import")
@doc(
    "One bundle with its log: for its centre, or the authority it is addressed to",
    response=schemas.BundleOut,
    errors=(404,),
    tag="exports",
    operation_id="readBundle",
)
def read_bundle(bundle_id: uuid.UUID) -> Any:
    found, log = service.bundle_with_log(get_session(), actor(), bundle_id)
    return schemas.bundle_out(found, log)


@bp.get("/bundles/<uuid:bundle_id>/content")
@require_any("exports:create", "exports:import")
@doc(
    "Download the sealed bundle (CMS, application/pkcs7-mime; opens with stock OpenSSL); "
    "the download is logged",
    errors=(404,),
    tag="exports",
    operation_id="downloadBundle",
    response_content={BUNDLE_TYPE: BINARY},
)
def download_bundle(bundle_id: uuid.UUID) -> Response:
    data = service.download(get_session(), actor(), bundle_id, storage())
    return Response(
        data,
        mimetype=BUNDLE_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="bundle-{bundle_id}.p7m"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/bundles/<uuid:bundle_id>/events")
@require_any("exports:create", "exports:import")
@doc(
    "Log a bundle's delivery (the centre) or acknowledgement (the centre, or the authority "
    "it is addressed to)",
    body=schemas.BundleEventIn,
    response=schemas.BundleOut,
    status=201,
    errors=(400, 404, 415, 422),
    tag="exports",
    operation_id="recordBundleEvent",
)
def record_bundle_event(bundle_id: uuid.UUID) -> Any:
    data = load_json(schemas.BundleEventIn())
    db, me = get_session(), actor()
    service.log_event(db, me, bundle_id, data["event"])
    found, log = service.bundle_with_log(db, me, bundle_id)
    return schemas.bundle_out(found, log), 201


# --- the receiving authority ---------------------------------------------------------------------


def _upload() -> bytes:
    """The bundle's bytes: the multipart field `file`, or the raw body."""
    request.max_content_length = receive.MAX_ENVELOPE + 64 * 1024
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise receive.ImportRefused(
                "Send the bundle in the form field 'file'.", code="exports.no_file"
            )
        return bytes(upload.read())
    if request.mimetype not in (BUNDLE_TYPE, "application/octet-stream"):
        raise UnsupportedMediaType(
            "Send the bundle as application/pkcs7-mime (or multipart/form-data with a 'file')."
        )
    return request.get_data()


@bp.post("/arrivals")
@require("exports:import")
@doc(
    "Import a bundle (the .p7m as the body, or multipart field 'file'): decrypted with your "
    "key, its sender and every file checked, kept all or nothing. A second import of the same "
    "bundle is a 409.",
    response=schemas.ArrivalOut,
    status=201,
    errors=(404, 409, 413, 415, 422),
    tag="arrivals",
    operation_id="importBundle",
    body_content=UPLOAD,
)
def import_arrival() -> Any:
    db, me = get_session(), actor()
    row = receive.import_bundle(db, me, _upload(), storage())
    found, travellers = receive.arrival(db, me, row.id)
    location = url_for(".read_arrival", import_id=row.id)
    return schemas.arrival_out(found, travellers), 201, {"Location": location}


@bp.get("/arrivals")
@require("exports:import")
@doc(
    "Your arrivals, one row per traveller, newest travel date first; filter by travel date "
    "(search by name with POST /arrivals/search: names stay out of URLs)",
    query=schemas.ArrivalListArgs,
    response=schemas.ArrivalList,
    errors=(422,),
    tag="arrivals",
    operation_id="listArrivals",
)
def list_arrivals() -> Any:
    args = load_args(schemas.ArrivalListArgs())
    rows = receive.arrivals(get_session(), actor(), **args)
    return {"items": [schemas.arrival_row(b, t) for b, t in rows]}


@bp.post("/arrivals/search")
@require("exports:import")
@doc(
    "Search your arrivals by part of a name or the case number, and travel date",
    body=schemas.ArrivalSearch,
    response=schemas.ArrivalList,
    errors=(400, 415, 422),
    tag="arrivals",
    operation_id="searchArrivals",
)
def search_arrivals() -> Any:
    args = load_json(schemas.ArrivalSearch())
    rows = receive.arrivals(get_session(), actor(), **args)
    return {"items": [schemas.arrival_row(b, t) for b, t in rows]}


@bp.get("/arrivals/<uuid:import_id>")
@require("exports:import")
@doc(
    "One imported bundle: its sender, flight, travellers and files",
    response=schemas.ArrivalOut,
    errors=(404,),
    tag="arrivals",
    operation_id="readArrival",
)
def read_arrival(import_id: uuid.UUID) -> Any:
    found, travellers = receive.arrival(get_session(), actor(), import_id)
    return schemas.arrival_out(found, travellers)


@bp.get("/arrival-travellers/<uuid:traveller_id>")
@require("exports:import")
@doc(
    "A traveller's imported summary in words, read from its FHIR resources (results, "
    "classifications, vaccinations, images, ...) by the summary's own sections",
    response=schemas.TravellerSummary,
    errors=(404,),
    tag="arrivals",
    operation_id="readArrivalTraveller",
)
def read_arrival_traveller(traveller_id: uuid.UUID) -> Any:
    b, t = receive.traveller(get_session(), actor(), traveller_id)
    read = summary.read(t.fhir).as_dict()
    return schemas.TravellerSummary().dump(
        {
            **read,
            "traveller_id": t.id,
            "import_id": b.id,
            "clearance": t.clearance,
            "clearance_text": schemas.clearance_words(t.clearance),
            "classifications": [schemas.classification_words(c) for c in t.classifications],
            "follow_up": list(t.follow_up),
            "flight": b.flight,
            "departs_at": b.departs_at,
        }
    )


@bp.get("/arrival-travellers/<uuid:traveller_id>/fhir")
@require("exports:import")
@doc(
    "A traveller's summary as it arrived: the FHIR R4 document Bundle",
    errors=(404,),
    tag="arrivals",
    operation_id="readArrivalTravellerFhir",
    response_content={"application/fhir+json": {"schema": {"type": "object"}}},
)
def read_arrival_traveller_fhir(traveller_id: uuid.UUID) -> Response:
    import json

    _, t = receive.traveller(get_session(), actor(), traveller_id)
    return Response(json.dumps(t.fhir), mimetype="application/fhir+json")
