"""Jobs on the audit trail."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import shared_task
from flask import current_app

from pmha.audit import service
from pmha.core import audit
from pmha.core.db import database

log = logging.getLogger("pmha.audit")


def _storage() -> Path:
    return Path(current_app.extensions["pmha.config"].STORAGE_DIR)


@shared_task(name="pmha.audit.seal")  # type: ignore[untyped-decorator]
def seal() -> dict[str, Any]:
    """Chain the events that requests wrote but did not seal (beat, every minute): the safety
    net behind sealing at commit, which skips when another sealer holds the lock. Killed at any
    point, it loses nothing: the next run starts again from the head."""
    db = database()
    return {"sealed": audit.seal(db.engine, db.audit_key.encode())}


@shared_task(name="pmha.audit.checkpoint")  # type: ignore[untyped-decorator]
def checkpoint() -> dict[str, Any]:
    """Seal the chain's head with a signed checkpoint outside the database (beat, every few
    minutes): events removed or rewritten before it are found by verify."""
    with database().transaction() as session:
        mark = audit.checkpoint(session, service.checkpoint_log(session, _storage()))
    return {"events": mark.seq}


@shared_task(name="pmha.audit.verify_chain")  # type: ignore[untyped-decorator]
def verify_chain() -> dict[str, Any]:
    """Walk the hash chain and check it against the checkpoints; run nightly by beat in
    production, on demand by operators."""
    with database().transaction() as session:
        result = service.verify(session, _storage())
    if not result.ok:
        log.error("%s", result.summary)
    return {
        "ok": result.ok,
        "events": result.events,
        "broken_seq": result.broken_seq,
        "reason": result.reason,
        "pending": result.pending,
    }
