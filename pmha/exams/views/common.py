"""The exam pages' blueprint, its page decorators (one set for labs, X-rays, sections and
worklists), and the template globals its worklists use; what every record page
shares (header, tabs) is in pmha/web/record.py; a refused form, in pmha/core/forms.py."""

from __future__ import annotations

import uuid

from flask import Blueprint

from pmha.core.db import get_session
from pmha.web.pages import RECORD, Pages

bp = Blueprint("exams", __name__)
pages = Pages(bp)
record_pages = Pages(bp, prefix=RECORD)


@bp.app_template_global("latest_xray")
def latest_xray(applicant_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the applicant's latest chest X-ray, for a worklist's link to its viewer.

    Only for applicants a list has already loaded for this user (at their sites); the viewer
    itself checks and audits."""
    from sqlalchemy import select

    from pmha.exams.radiology import XrayStudy

    found: uuid.UUID | None = get_session().scalar(
        select(XrayStudy.id)
        .where(XrayStudy.applicant_id == applicant_id)
        .where(XrayStudy.identity_status != "held")  # a held image is not to be read
        .order_by(XrayStudy.uploaded_at.desc())
        .limit(1)
    )
    return found


@bp.app_template_global("held_xray")
def held_xray(applicant_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the applicant's latest X-ray held for its header identity (worklists link
    to it to compare the identities, not to read it). Same scope as `latest_xray`."""
    from sqlalchemy import select

    from pmha.exams.radiology import XrayStudy

    found: uuid.UUID | None = get_session().scalar(
        select(XrayStudy.id)
        .where(XrayStudy.applicant_id == applicant_id, XrayStudy.identity_status == "held")
        .order_by(XrayStudy.uploaded_at.desc())
        .limit(1)
    )
    return found
