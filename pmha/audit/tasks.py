"""Jobs on the audit trail."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from pmha.audit import service
from pmha.core.db import database

log = logging.getLogger("pmha.audit")


@shared_task(name="pmha.audit.verify_chain")  # type: ignore[untyped-decorator]
def verify_chain() -> dict[str, Any]:
    """Walk the hash chain; run nightly by beat in production, on demand by operators."""
    with database().transaction() as session:
        result = service.verify(session)
    if not result.ok:
        log.error("audit chain broken at event %s: %s", result.broken_seq, result.reason)
    return {
        "ok": result.ok,
        "events": result.events,
        "broken_seq": result.broken_seq,
        "reason": result.reason,
    }
