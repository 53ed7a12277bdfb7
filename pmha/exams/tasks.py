"""The X-ray job: previews and the de-identified copy of an uploaded study, made after the
upload's commit (issue 20). Its argument is the study's id only; it is idempotent."""

from __future__ import annotations

import uuid
from pathlib import Path

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from pmha.core.db import database
from pmha.exams import radiology

PREPARE = radiology.PREPARE_JOB


@shared_task(  # type: ignore[untyped-decorator]
    name=PREPARE,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def prepare_xray(study_id: str) -> str:
    """Make the study's previews and de-identified copy; its images status afterwards."""
    storage = Path(current_app.extensions["pmha.config"].STORAGE_DIR)
    return radiology.prepare_outside(database(), uuid.UUID(study_id), storage)
