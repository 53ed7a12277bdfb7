"""Pages: a case's export bundles (build with progress, download, log) for the sending centre,
and for a receiving authority the upload of a bundle, the arrival list and an arrival's view."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from pmha.cases import service as cases
from pmha.core.auth import actor
from pmha.core.context import rulebook, storage
from pmha.core.db import get_session
from pmha.core.forms import Failed, form_action, form_data, load_form, sent_back
from pmha.exports import keys, receive, schemas, service, summary
from pmha.exports.models import ExportBundle, JobState
from pmha.web.files import sent_file
from pmha.web.pages import Pages
from pmha.web.words import CERTIFICATE_STATUS
from pmha.workflow.labels import CLEARANCE

bp = Blueprint("exports", __name__)
pages = Pages(bp)

STEPS = {
    "queued": "Waiting for a worker",
    "collecting": "Collecting the record",
    "packing": "Packing the files",
    "signing and encrypting": "Signing and encrypting",
    "writing": "Writing the bundle",
    "done": "Ready",
    "failed": "Failed",
}
ERRORS = {
    "exports.no_authority_certificate": "No certificate of the receiving authority is registered.",
    "exports.no_signing_key": "This centre has no signing key.",
    "exports.invalid_content": "Part of the record could not be written in the export formats.",
}


def _labels(values: list[str]) -> list[str]:
    return [schemas.classification_words(v) for v in values]


@pages.get("/cases/<uuid:case_id>/exports", "exports:create")
def case_exports(case_id: uuid.UUID) -> Any:
    db, me = get_session(), actor()
    case = cases.load_case(db, me, case_id)
    found = service.case_exports(db, me, case.id)
    running = any(j.state in (JobState.QUEUED, JobState.RUNNING) for j in found.jobs)
    return render_template(
        "exports/case.html",
        case=case,
        jobs=found.jobs,
        bundles=found.bundles,
        running=running,
        steps=STEPS,
        errors=ERRORS,
        nav="cases",
    )


@pages.post("/cases/<uuid:case_id>/exports", "exports:create")
def request_export(case_id: uuid.UUID) -> Any:
    back = url_for(".case_exports", case_id=case_id)
    form_action(
        "export",
        {},
        lambda _: service.request_export(get_session(), actor(), case_id),
        lambda failed: _back_saying(failed.message, back),
    )
    flash("Bundle requested: it is built in the background.")
    return redirect(back)


def _back_saying(message: str, url: str) -> Any:
    """Back to the page the button was on, saying why nothing was done."""
    flash(message, "error")
    return redirect(url)


@pages.get("/exports/<uuid:bundle_id>/download", "exports:create")
def download(bundle_id: uuid.UUID) -> Any:
    data = service.download(get_session(), actor(), bundle_id, storage())
    return sent_file(data, "application/pkcs7-mime", f"{bundle_id}.p7m", download=True)


@pages.post("/exports/<uuid:bundle_id>/log", "exports:create")
def log_event(bundle_id: uuid.UUID) -> Any:
    db = get_session()
    entry = form_action(
        "log",
        {},
        lambda _: service.log_event(db, actor(), bundle_id, request.form.get("event", "")),
        lambda _: _back_saying(
            "Choose delivered or acknowledged.", request.referrer or url_for("web.today")
        ),
    )
    bundle = db.get(ExportBundle, entry.bundle_id)
    assert bundle is not None
    flash(f"Recorded: {entry.event.value}.")
    return redirect(url_for(".case_exports", case_id=bundle.case_id))


SEARCH_FIELDS = ["name", "from", "to"]
SEARCH_LABELS = {"name": "Name or case number", "from": "Travel date from", "to": "Travel date to"}


@pages.page("/arrivals", "exports:import", endpoint="arrivals")
def _arrivals_page(
    error: str | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
    filters: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> Any:
    rows = receive.arrivals(get_session(), actor(), **(filters or {}))
    return render_template(
        "exports/arrivals.html",
        rows=rows,
        error=error,
        form=form or {},
        errors=errors or {},
        labels=SEARCH_LABELS,
        searched=bool(filters),
        clearance=CLEARANCE,
        words=_labels,
        nav="arrivals",
    ), status


@pages.post("/arrivals/search", "exports:import")
def search_arrivals() -> Any:
    # POSTed, as the case search is, so that names never sit in URLs or access logs.
    raw = form_data(request.form, SEARCH_FIELDS)
    data, errors = load_form(schemas.ArrivalSearch(), raw)
    if data is None:
        return _arrivals_page(form=raw, errors=errors, status=422)
    filters = {k: v for k, v in data.items() if v}
    return _arrivals_page(form=raw, filters=filters)


@pages.post("/arrivals", "exports:import")
def import_bundle() -> Any:
    request.max_content_length = receive.MAX_ENVELOPE + 64 * 1024
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _arrivals_page("Choose a bundle file (.p7m) to import.", 422)
    row = form_action(
        "import",
        {},
        lambda _: receive.import_bundle(get_session(), actor(), upload.read(), storage()),
        lambda failed: _arrivals_page(failed.message),
    )
    flash("The bundle was verified and imported.")
    return redirect(url_for(".arrival", import_id=row.id))


@pages.get("/arrivals/<uuid:import_id>", "exports:import")
def arrival(import_id: uuid.UUID) -> Any:
    found, travellers = receive.arrival(get_session(), actor(), import_id)
    files = found.manifest.get("files", [])
    return render_template(
        "exports/arrival.html",
        b=found,
        travellers=[(t, summary.read(t.fhir), _applicant_id(t.fhir)) for t in travellers],
        files=list(enumerate(files)),
        by_path={str(f.get("path", "")): i for i, f in enumerate(files)},
        clearance=CLEARANCE,
        labels=_labels,
        groups=GROUP_NAMES,
        file_kinds=FILE_KINDS,
        nav="arrivals",
    )


def _applicant_id(document: dict[str, Any]) -> str:
    """The sending centre's applicant id (the bundle's file names carry it), from the Patient."""
    for entry in document.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Patient":
            for identifier in resource.get("identifier", []):
                if str(identifier.get("system", "")).endswith("/applicant"):
                    return str(identifier.get("value", ""))
    return ""


FILE_KINDS = {  # a bundle's folders, in words
    "fhir": "Health summary (FHIR)",
    "hl7": "Vaccinations for the registry (HL7 VXU)",
    "dicom": "Chest X-ray image (DICOM)",
    "pdf": "Document (PDF)",
    "handover": "Post-arrival handover (JSON)",
    "tb": "TB programme summary (JSON)",
    "travel": "Journey (JSON)",
}
GROUP_NAMES = {  # summary.Item.group in the analyst's words
    "result": "Result",
    "classification": "Classification",
    "vaccination": "Vaccination",
    "image": "Image",
    "vital_sign": "Vital sign",
    "screening": "Screening",
    "plan": "Plan",
    "medication": "Medication",
    "allergy": "Allergy",
    "other": "Other",
}


@pages.get("/arrivals/<uuid:import_id>/files/<int:index>", "exports:import")
def arrival_file(import_id: uuid.UUID, index: int) -> Any:
    data, media_type, ext = receive.arrival_file(
        get_session(), actor(), import_id, index, storage()
    )
    # A PDF is read in the browser; an image (DICOM) is saved for a viewer.
    return sent_file(data, media_type, f"{import_id}-{index}.{ext}", download=ext != "pdf")


@pages.page("/exports/authorities", "exports:keys", endpoint="authorities")
def _authorities_page(failed: Failed | None = None, status: int = 200) -> Any:
    destinations = rulebook().destinations
    found = keys.registry(get_session(), actor(), destinations, dt.date.today())
    return render_template(
        "exports/authorities.html",
        registry=found,
        destinations=destinations,
        statuses=CERTIFICATE_STATUS,
        **sent_back(failed),
        nav="authorities",
    ), status


@pages.post("/exports/authorities", "exports:keys")
def add_authority_certificate() -> Any:
    form = {k: request.form.get(k, "").strip() for k in ("destination", "use_from")}
    upload = request.files.get("certificate")
    try:
        use_from = dt.date.fromisoformat(form["use_from"]) if form["use_from"] else None
    except ValueError:
        when = {"use_from": ["Give a date as YYYY-MM-DD."]}
        return _authorities_page(Failed("certificate", form, when), 422)
    row = form_action(
        "certificate",
        form,
        lambda _: keys.upload_authority_certificate(
            get_session(),
            actor(),
            rulebook().destinations,
            form["destination"],
            upload.read(64 * 1024) if upload and upload.filename else b"",
            use_from,
        ),
        _authorities_page,
    )
    flash(
        f"Certificate for the {row.destination} authority registered, in use from {row.use_from}."
    )
    return redirect(url_for(".authorities"))
