"""The bundle job: plain ids as arguments, retried with backoff on transient database errors."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from pmha.core.db import database
from pmha.core.outbox import track_jobs
from pmha.exports import build
from pmha.exports.models import ExportJob, JobState

log = logging.getLogger("pmha.exports")


@shared_task(  # type: ignore[untyped-decorator]
    name="pmha.exports.build_bundle",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=5,
)
def build_bundle(job_id: str) -> str | None:
    """Build (or find) the bundle of an export job; returns its id, None if the content failed."""
    app = current_app
    found = build.run(
        database(),
        uuid.UUID(job_id),
        app.extensions["pmha.rules"],
        Path(app.extensions["pmha.config"].STORAGE_DIR),
    )
    if found is None:
        log.warning("export job %s failed (see its error code)", job_id)
    return str(found) if found else None


# Its runs beat ExportJob.heartbeat_at; the sweep re-queues a job whose worker died.
track_jobs(
    ExportJob, "pmha.exports.build_bundle", running=JobState.RUNNING, queued=JobState.QUEUED,
    step="queued", progress=0,
)  # fmt: skip
