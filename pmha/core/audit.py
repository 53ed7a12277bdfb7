"""The audit trail: append-only, hash-chained events of who saw or changed what.

Events hold field names and keyed hashes of old and new values, never the values. They are
buffered on the session and chained in `before_commit`, under a lock on the single head row, so
that concurrent transactions append in commit order and a rolled-back request leaves no event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, event, select
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from pmha.core.auth import Actor
from pmha.core.db import Base, utcnow

GENESIS = "0" * 64
_PENDING = "pmha_audit_pending"
_KEY = "pmha_audit_key"


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[uuid.UUID | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_record", "record_type", "record_id"),
        Index("ix_audit_events_actor", "actor_id"),
        Index("ix_audit_events_at", "at"),
    )


class AuditHead(Base):
    """One row: the last sequence number and hash. Locking it serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


def _canonical(value: Any) -> str:
    def default(obj: Any) -> str:
        if isinstance(obj, datetime | date | uuid.UUID):
            return obj.isoformat() if not isinstance(obj, uuid.UUID) else str(obj)
        return str(obj)

    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=default)


def value_hash(key: bytes, value: Any) -> str | None:
    """Keyed hash of a value: comparable for forensics, not reversible by guessing."""
    if value is None:
        return None
    return hmac.new(key, _canonical(value).encode(), hashlib.sha256).hexdigest()[:32]


def event_hash(row: AuditEvent) -> str:
    payload = {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor_id": str(row.actor_id) if row.actor_id else None,
        "actor_name": row.actor_name,
        "action": row.action,
        "record_type": row.record_type,
        "record_id": row.record_id,
        "site_id": str(row.site_id) if row.site_id else None,
        "ip": row.ip,
        "request_id": row.request_id,
        "changes": row.changes,
        "details": row.details,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def diff(
    key: bytes, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Changed fields with keyed hashes of their old and new values."""
    before = before or {}
    after = after or {}
    out: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            out[name] = {"old": value_hash(key, old), "new": value_hash(key, new)}
    return out


def session_key(session: Session) -> bytes:
    key = session.info.get(_KEY)
    if key is None:
        raise RuntimeError("audit key not bound to this session")
    return key  # type: ignore[no-any-return]


def record(
    session: Session,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: Any = None,
    *,
    site_id: uuid.UUID | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Queue an audit event on this transaction; it is written (chained) when it commits."""
    changes = diff(session_key(session), before, after) if (before or after) else None
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any query, drops the event
    session.info.setdefault(_PENDING, []).append(
        AuditEvent(
            at=utcnow(),
            actor_id=actor.user_id,
            actor_name=actor.username,
            action=action,
            record_type=record_type,
            record_id=str(record_id) if record_id is not None else None,
            site_id=site_id,
            ip=actor.ip,
            request_id=actor.request_id,
            changes=changes or None,
            details=details,
        )
    )


def record_reads(
    session: Session, actor: Actor, record_type: str, rows: Iterable[tuple[Any, uuid.UUID | None]]
) -> None:
    for record_id, site_id in rows:
        record(session, actor, "read", record_type, record_id, site_id=site_id)


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    pending: list[AuditEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    for row in pending:
        row.seq = head.seq + 1
        row.prev_hash = head.hash
        row.hash = event_hash(row)
        session.add(row)
        head.seq, head.hash = row.seq, row.hash
    session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    # A rolled-back transaction leaves no trace; an inner SAVEPOINT's rollback keeps the rest.
    if not previous.nested:
        session.info.pop(_PENDING, None)


@dataclass
class VerifyResult:
    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 2000) -> VerifyResult:
    """Walk the chain; report the first event whose link, hash or sequence is wrong."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for row in session.scalars(stmt):
        if row.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, "missing event (sequence gap)")
        if row.prev_hash != expected_prev:
            return VerifyResult(False, count, row.seq, "link to the previous event is broken")
        if event_hash(row) != row.hash:
            return VerifyResult(False, count, row.seq, "event content does not match its hash")
        expected_prev, expected_seq, count = row.hash, row.seq + 1, count + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.hash != expected_prev):
        return VerifyResult(False, count, count + 1, "events after the last one were removed")
    return VerifyResult(True, count)
