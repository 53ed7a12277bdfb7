"""Chest X-ray pages: upload and list an applicant's studies; view one and record its reading."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from pmha.accounts import signatures
from pmha.accounts.web_auth import confirm_signature
from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core.auth import actor
from pmha.core.context import rulebook, storage
from pmha.core.db import get_session
from pmha.core.forms import Failed, error_summary, form_action
from pmha.exams import dicom
from pmha.exams import radiology as xr
from pmha.exams.commands import XrayRead
from pmha.exams.views.common import pages, record_pages
from pmha.web.record import page_context

# The DS-3030 finding groups, by what they mean for the applicant.
GROUPS = (
    ("tb", "Suggests TB — needs smears", xr.SUGGESTS_TB),
    ("other", "Does not need smears (Class B other)", xr.OTHER_ABNORMALITY),
    ("none", "No follow-up", xr.NO_FOLLOW_UP),
)
FINDING_WORDS = xr.FINDING_WORDS
DECISIONS = {
    "suggestive_of_tb": ("Suggests TB: sputum smears and cultures needed", "bad"),
    "other_abnormality": ("Other abnormality (Class B other): no smears needed", "wait"),
    "normal": ("No finding needing follow-up", "ok"),
}
UPLOAD_WORDS = {"file": "Chest X-ray file"}
IDENTITY_WORDS = {
    xr.IdentityStatus.MATCHED: ("Identity checked: the header names the applicant", "ok"),
    xr.IdentityStatus.HELD: ("Held: identity differs", "bad"),
    xr.IdentityStatus.CONFIRMED: ("Identity differs: confirmed by a radiologist", "wait"),
    xr.IdentityStatus.NOT_CHECKED: ("Identity not checked (uploaded before the check)", "wait"),
}
OUTCOME_WORDS = {"same": "Same", "differs": "Differs", "missing": "Not in the header",
                 "other": "Not compared"}  # fmt: skip


@record_pages.page("/xrays", "radiology:read", endpoint="xrays")
def _list_page(applicant: Applicant, failed: Failed | None = None, status: int = 200) -> Any:
    me = actor()
    found = xr.studies(get_session(), me, applicant.id)
    return render_template(
        "exams/xrays.html",
        studies=found[::-1],
        can_upload=me.can("radiology:write"),
        **error_summary(failed, lambda name: UPLOAD_WORDS.get(name, name), prefix="upload"),
        decisions=DECISIONS,
        identity_words=IDENTITY_WORDS,
        max_mib=dicom.MAX_BYTES // (1024 * 1024),
        **page_context(applicant, "exams.xrays"),
    ), status


@record_pages.post("/xrays", "radiology:write")
def upload_xray(applicant: Applicant) -> Any:
    request.max_content_length = dicom.MAX_BYTES + 64 * 1024  # the file and the form around it
    upload = request.files.get("file")  # a larger body is a 413 here
    data = upload.read() if upload is not None else b""
    if not data:
        failed = Failed("upload", {}, {"file": ["Choose the chest X-ray's DICOM file."]})
        return _list_page(applicant, failed, 422)
    study = form_action(
        "upload",
        {},
        lambda _: xr.upload(get_session(), actor(), applicant.id, data, storage()),
        lambda failed: _list_page(applicant, failed.on("file")),
    )
    if study.held:
        flash(
            "Chest X-ray uploaded and HELD: its header names someone other than this "
            "applicant. Compare the two identities below.",
            "error",
        )
    else:
        flash("Chest X-ray uploaded. Read it below.")
    return redirect(url_for(".viewer", study_id=study.id))


@pages.page("/xrays/<uuid:study_id>", "radiology:read", endpoint="viewer")
def _viewer(study_id: uuid.UUID, failed: Failed | None = None, status: int = 200) -> Any:
    db, me = get_session(), actor()
    study = xr.load_study(db, me, study_id)
    applicant = cases.load_applicant(db, me, study.applicant_id)
    found = dict(xr.studies(db, me, applicant.id))  # audited: the applicant's X-rays are read
    readings = list(
        db.scalars(
            select(xr.XrayReading)
            .where(xr.XrayReading.study_id == study.id)
            .order_by(xr.XrayReading.read_at.desc())
        )
    )
    chosen = failed.values.get("findings", []) if failed else []
    return render_template(
        "exams/viewer.html",
        study=study,
        identity=xr.identity_check(db, me, study),
        header=xr.header_identity(study),
        identity_words=IDENTITY_WORDS,
        outcome_words=OUTCOME_WORDS,
        sex_words={"M": "male", "F": "female", "O": "other"},
        reason_max=xr.REASON_MAX,
        latest=found.get(study),
        readings=readings,
        groups=GROUPS,
        finding_words=FINDING_WORDS,
        decisions=DECISIONS,
        chosen=chosen,
        failed=failed,
        summary_errors={k: v for k, v in (failed.errors.items() if failed else [])},
        can_read=me.can("radiology:write"),
        signer=signatures.preview(db, me, "radiology:write") if me.can("radiology:write") else None,
        **page_context(applicant, "exams.xrays"),
    ), status


def _png(study_id: uuid.UUID, thumbnail: bool) -> Response:
    png = xr.preview(get_session(), actor(), study_id, storage(), thumbnail=thumbnail)
    return Response(png, mimetype="image/png")


@pages.get("/xrays/<uuid:study_id>/image.png", "radiology:read")
def xray_image(study_id: uuid.UUID) -> Response:
    return _png(study_id, thumbnail=False)


@pages.get("/xrays/<uuid:study_id>/pixels", "radiology:read")
def xray_pixels(study_id: uuid.UUID) -> Response:
    """The full-resolution stored values (16-bit, gzip) for the viewer's canvas; the window is
    applied in the browser. A colour image answers 422 and the viewer keeps the preview."""
    image = xr.full_resolution(get_session(), actor(), study_id, storage())
    response = Response(image.body, mimetype="application/octet-stream")
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers.update(image.headers())
    return response


@pages.get("/xrays/<uuid:study_id>/thumbnail.png", "radiology:read")
def xray_thumbnail(study_id: uuid.UUID) -> Response:
    return _png(study_id, thumbnail=True)


@pages.post("/xrays/<uuid:study_id>/reading", "radiology:write")
def read_xray(study_id: uuid.UUID) -> Any:
    findings = request.form.getlist("findings")
    comments = request.form.get("comments", "").strip()
    failed = Failed("reading", {"findings": findings, "comments": comments})
    if len(comments) > 2000:
        failed.errors = {"comments": ["Keep the comments under 2,000 characters."]}
        return _viewer(study_id, failed, 422)
    normal = request.form.get("normal") == "y"
    failed.values["normal"] = normal
    if not findings and not normal:
        failed.errors = {"findings": ["Tick the findings, or tick “No abnormal finding”."]}
        return _viewer(study_id, failed, 422)
    if normal:  # the service refuses it together with any finding, naming both
        findings = [*findings, xr.NO_ABNORMAL_FINDING]
    read = XrayRead(findings=findings, comments=comments or None)

    def act(_: None) -> Any:
        signature = confirm_signature(request.form.get("password", "")[:200], "radiology:write")
        return xr.read(get_session(), actor(), rulebook(), study_id, read, signature)

    reading = form_action("reading", failed.values, act, partial(_viewer, study_id))
    flash(f"Reading recorded: {DECISIONS[reading.decision][0]}.")
    return redirect(url_for(".viewer", study_id=study_id))


@pages.post("/xrays/<uuid:study_id>/identity-confirmation", "radiology:write")
def confirm_xray_identity(study_id: uuid.UUID) -> Any:
    reason = request.form.get("reason", "")
    form_action(
        "identity",
        {"reason": reason},
        lambda _: xr.confirm_identity(get_session(), actor(), study_id, reason),
        lambda failed: _viewer(study_id, failed.on("reason")),
    )
    flash("Identity confirmed: the X-ray is attached to the applicant and can be read.")
    return redirect(url_for(".viewer", study_id=study_id))
