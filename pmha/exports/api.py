"""JSON API for bundles under /api/v1/: the sending centre builds, lists, downloads and logs a
case's bundles; the receiving authority lists the bundles addressed to it, downloads and
acknowledges them, imports them by upload, and reads its arrivals. A token acts as its user: an
authority's user belongs to one destination, and sees only what is addressed to it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, request, url_for
from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.core.context import storage
from pmha.core.endpoint import Api
from pmha.core.errors import UnsupportedMediaType
from pmha.core.http import load_json
from pmha.exports import receive, schemas, service, summary
from pmha.exports.models import ExportJob

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("exports_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="exports", operation_ids=True)
on_bundle = api.under("/bundles/<uuid:bundle_id>")
on_case = api.under("/cases/<uuid:case_id>")
# The receiving authority's arrivals: the bundles it imported, one row per traveller.
arrivals = Api(bp, tag="arrivals", operation_ids=True)
# Either side of a bundle: the centre that sent it, or the authority it is addressed to.
EITHER_SIDE = ("exports:create", "exports:import")

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


def _job(job: ExportJob) -> dict[str, Any]:
    return _job_out.dump(job)  # type: ignore[no-any-return]


# --- the sending centre --------------------------------------------------------------------------


@on_case.get("/bundles", "exports:create", response=schemas.CaseBundles)
def list_case_bundles(db: Session, me: Actor, case_id: uuid.UUID) -> Any:
    """A case's export jobs (the last ten, newest first) and bundles with their logs"""
    found = service.case_exports(db, me, case_id)
    return {
        "jobs": [_job(j) for j in found.jobs],
        "bundles": [schemas.bundle_out(b, log) for b, log in found.bundles],
    }


@on_case.post(
    "/bundles",
    "exports:create",
    response=schemas.JobOut,
    status=202,
    operation_id="createCaseBundle",
    also=(409,),
)
def create_bundle(db: Session, me: Actor, case_id: uuid.UUID) -> Any:
    """Build the case's bundle: starts a job and answers with it (202); follow its progress at the
    Location given. Refused (409) while the authority's certificate or the centre's signing key
    is missing."""
    job = service.request_export(db, me, case_id)
    location = url_for(".read_export_job", job_id=job.id)
    return _job(job), 202, {"Location": location}


@api.get("/export-jobs/<uuid:job_id>", "exports:create", response=schemas.JobOut)
def read_export_job(db: Session, me: Actor, job_id: uuid.UUID) -> Any:
    """An export job's state and progress; once done, its bundle_id"""
    return _job(service.job(db, me, job_id))


# --- both sides: one bundle ----------------------------------------------------------------------


@api.get(
    "/bundles", "exports:import", response=schemas.BundleList, operation_id="listAuthorityBundles"
)
def list_bundles(db: Session, me: Actor) -> Any:
    """The bundles addressed to your authority's destination, newest first, with their logs"""
    rows = service.bundles_for_authority(db, me)
    return {"items": [schemas.bundle_out(b, log) for b, log in rows]}


@api.get("/bundles/<uuid:bundle_id>", EITHER_SIDE, response=schemas.BundleOut)
def read_bundle(db: Session, me: Actor, bundle_id: uuid.UUID) -> Any:
    """One bundle with its log: for its centre, or the authority it is addressed to"""
    found, log = service.bundle_with_log(db, me, bundle_id)
    return schemas.bundle_out(found, log)


@on_bundle.get("/content", EITHER_SIDE, response_content={BUNDLE_TYPE: BINARY})
def download_bundle(db: Session, me: Actor, bundle_id: uuid.UUID) -> Response:
    """Download the sealed bundle (CMS, application/pkcs7-mime; opens with stock OpenSSL); the
    download is logged"""
    data = service.download(db, me, bundle_id, storage())
    return Response(
        data,
        mimetype=BUNDLE_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="bundle-{bundle_id}.p7m"',
            "Cache-Control": "no-store",
        },
    )


@on_bundle.create("/events", EITHER_SIDE, body=schemas.BundleEventIn, response=schemas.BundleOut)
def record_bundle_event(db: Session, me: Actor, body: dict[str, Any], bundle_id: uuid.UUID) -> Any:
    """Log a bundle's delivery (the centre) or acknowledgement (the centre, or the authority it is
    addressed to)"""
    db, me = db, me
    service.log_event(db, me, bundle_id, body["event"])
    found, log = service.bundle_with_log(db, me, bundle_id)
    return schemas.bundle_out(found, log)


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


@arrivals.post(
    "/arrivals",
    "exports:import",
    response=schemas.ArrivalOut,
    status=201,
    operation_id="importBundle",
    body_content=UPLOAD,
    also=(404, 409, 413, 415, 422),
)
def import_arrival(db: Session, me: Actor) -> Any:
    """Import a bundle (the .p7m as the body, or multipart field 'file'): decrypted with your key,
    its sender and every file checked, kept all or nothing. A second import of the same bundle
    is a 409."""
    db, me = db, me
    row = receive.import_bundle(db, me, _upload(), storage())
    found, travellers = receive.arrival(db, me, row.id)
    location = url_for(".read_arrival", import_id=row.id)
    return schemas.arrival_out(found, travellers), 201, {"Location": location}


@arrivals.get(
    "/arrivals", "exports:import", response=schemas.ArrivalList, query=schemas.ArrivalListArgs
)
def list_arrivals(db: Session, me: Actor, args: dict[str, Any]) -> Any:
    """Your arrivals, one row per traveller, newest travel date first; filter by travel date
    (search by name with POST /arrivals/search: names stay out of URLs)"""
    rows = receive.arrivals(db, me, **args)
    return {"items": [schemas.arrival_row(b, t) for b, t in rows]}


@arrivals.post(
    "/arrivals/search", "exports:import", body=schemas.ArrivalSearch, response=schemas.ArrivalList
)
def search_arrivals(db: Session, me: Actor) -> Any:
    """Search your arrivals by part of a name or the case number, and travel date"""
    args = load_json(schemas.ArrivalSearch())
    rows = receive.arrivals(db, me, **args)
    return {"items": [schemas.arrival_row(b, t) for b, t in rows]}


@arrivals.get("/arrivals/<uuid:import_id>", "exports:import", response=schemas.ArrivalOut)
def read_arrival(db: Session, me: Actor, import_id: uuid.UUID) -> Any:
    """One imported bundle: its sender, flight, travellers and files"""
    found, travellers = receive.arrival(db, me, import_id)
    return schemas.arrival_out(found, travellers)


@arrivals.get(
    "/arrival-travellers/<uuid:traveller_id>", "exports:import", response=schemas.TravellerSummary
)
def read_arrival_traveller(db: Session, me: Actor, traveller_id: uuid.UUID) -> Any:
    """A traveller's imported summary in words, read from its FHIR resources (results,
    classifications, vaccinations, images, ...) by the summary's own sections"""
    b, t = receive.traveller(db, me, traveller_id)
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


@arrivals.get(
    "/arrival-travellers/<uuid:traveller_id>/fhir",
    "exports:import",
    response_content={"application/fhir+json": {"schema": {"type": "object"}}},
)
def read_arrival_traveller_fhir(db: Session, me: Actor, traveller_id: uuid.UUID) -> Response:
    """A traveller's summary as it arrived: the FHIR R4 document Bundle"""
    import json

    _, t = receive.traveller(db, me, traveller_id)
    return Response(json.dumps(t.fhir), mimetype="application/fhir+json")
