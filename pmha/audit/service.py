"""Search and verify the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.audit import AuditEvent
from pmha.core.audit_checkpoints import CheckpointLog
from pmha.core.auth import Actor

UTC_MIDNIGHT = time(0, 0, tzinfo=UTC)


@dataclass
class EventPage:
    items: list[AuditEvent]
    page: int
    per_page: int
    total: int


def search(
    session: Session,
    actor: Actor,
    *,
    actor_name: str | None = None,
    action: str | None = None,
    record_type: str | None = None,
    record_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> EventPage:
    """Events matching the filters, newest first (by when they were written: events not yet
    sealed into the chain are shown too). The search itself is audited."""
    where: list[Any] = []
    if actor_name:
        where.append(AuditEvent.actor_name == actor_name.strip().lower())
    if action:
        where.append(AuditEvent.action == action)
    if record_type:
        where.append(AuditEvent.record_type == record_type)
    if record_id:
        where.append(AuditEvent.record_id == record_id.strip())
    if since:
        where.append(AuditEvent.at >= datetime.combine(since, UTC_MIDNIGHT))
    if until:
        end = datetime.combine(until + timedelta(days=1), UTC_MIDNIGHT)
        where.append(AuditEvent.at < end)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    items = list(
        session.scalars(
            select(AuditEvent)
            .where(*where)
            .order_by(AuditEvent.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    audit.record(session, actor, "search", "audit_event", None, details={"total": total})
    return EventPage(items, page, per_page, total)


def checkpoint_log(session: Session, storage: Path) -> CheckpointLog:
    """The signed checkpoints of the chain's head, in storage (outside the database)."""
    return CheckpointLog(storage / "audit" / "checkpoints.jsonl", audit.session_key(session))


def verify(session: Session, storage: Path) -> audit.VerifyResult:
    """Check the whole chain from the first event, and against every checkpoint."""
    return audit.verify(session, checkpoints=checkpoint_log(session, storage))


def verify_and_checkpoint(session: Session, storage: Path) -> audit.VerifyResult:
    """Verify; when the chain is intact, seal the events waiting and sign the new head with a
    checkpoint. The result is the verification's (before those events were sealed)."""
    log = checkpoint_log(session, storage)
    result = audit.verify(session, checkpoints=log)
    if result.ok:
        audit.checkpoint(session, log)
    return result


def seal(session: Session) -> int:
    """Chain every event written but not yet sealed (waiting for the lock if need be)."""
    return audit.seal(session.get_bind(), audit.session_key(session))
