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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, SmallInteger, String, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from pmha.core.auth import Actor
from pmha.core.db import Base, PendingQueue, utcnow

GENESIS = "0" * 64
_PENDING = PendingQueue("pmha_audit_pending")
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
    scheme: Mapped[int] = mapped_column(SmallInteger, server_default="1")

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


PAYLOAD_FIELDS = (
    "at", "actor_id", "actor_name", "action", "record_type", "record_id", "site_id", "ip",
    "request_id", "changes", "details",
)  # fmt: skip
CURRENT_SCHEME = 2


def content_digest(row: Mapping[str, Any]) -> str:
    """SHA-256 of what an event says (everything but its place in the chain)."""
    payload = {name: row[name] for name in PAYLOAD_FIELDS}
    payload["at"] = payload["at"].isoformat()
    for name in ("actor_id", "site_id"):
        payload[name] = str(payload[name]) if payload[name] else None
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def link_hash(key: bytes, seq: int, prev_hash: str, digest: str) -> str:
    """The chain link (scheme 2): keyed with the audit key, which the database does not hold,
    so that whoever can write to the database still cannot forge a consistent chain."""
    message = f"v2|{seq}|{prev_hash}|{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _legacy_hash(row: Mapping[str, Any]) -> str:
    # Scheme 1 (the first events, before the chain was keyed): plain SHA-256 of the event.
    payload = {name: row[name] for name in PAYLOAD_FIELDS}
    payload.update(seq=row["seq"], at=row["at"].isoformat(), prev_hash=row["prev_hash"])
    for name in ("actor_id", "site_id"):
        payload[name] = str(payload[name]) if payload[name] else None
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def expected_hash(key: bytes, row: AuditEvent) -> str:
    values = {name: getattr(row, name) for name in (*PAYLOAD_FIELDS, "seq", "prev_hash")}
    if row.scheme == 1:
        return _legacy_hash(values)
    return link_hash(key, row.seq, row.prev_hash, content_digest(values))


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
    key = session_key(session)
    row: dict[str, Any] = {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "action": action,
        "record_type": record_type,
        "record_id": str(record_id) if record_id is not None else None,
        "site_id": site_id,
        "ip": actor.ip,
        "request_id": actor.request_id,
        "changes": (diff(key, before, after) or None) if (before or after) else None,
        "details": details,
    }
    # Hashed now, outside the lock that chaining takes at commit.
    row["digest"] = content_digest(row)
    _PENDING.append(session, row)


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    rows: list[dict[str, Any]] = _PENDING.take(session)
    if not rows:
        return
    key = session_key(session)
    # The head row's lock serialises appends until this transaction commits: keep the work
    # under it short (two statements, no ORM unit of work).
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    ).first()
    if head is None:
        session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        session.flush()
        seq, prev = 0, GENESIS
    else:
        seq, prev = head.seq, head.hash
    for row in rows:
        seq += 1
        digest = row.pop("digest")
        row.update(seq=seq, prev_hash=prev, scheme=CURRENT_SCHEME)
        row["hash"] = prev = link_hash(key, seq, row["prev_hash"], digest)
    session.execute(insert(AuditEvent), rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))


@dataclass
class VerifyResult:
    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 2000) -> VerifyResult:
    """Walk the chain; report the first event whose link, hash or sequence is wrong."""
    key = session_key(session)
    expected_prev, expected_seq, count = GENESIS, 1, 0
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    result = session.scalars(stmt)
    try:
        for row in result:
            if row.seq != expected_seq:
                return VerifyResult(False, count, expected_seq, "missing event (sequence gap)")
            if row.prev_hash != expected_prev:
                return VerifyResult(False, count, row.seq, "link to the previous event is broken")
            if not hmac.compare_digest(expected_hash(key, row), row.hash):
                return VerifyResult(False, count, row.seq, "event content does not match its hash")
            expected_prev, expected_seq, count = row.hash, row.seq + 1, count + 1
    finally:
        result.close()
    head = session.get(AuditHead, 1)
    if head is not None and head.seq > count:
        return VerifyResult(
            False,
            count,
            count + 1,
            f"events after the last one were removed (the head records {head.seq}, "
            f"the chain ends at {count})",
        )
    if head is not None and (head.seq < count or head.hash != expected_prev):
        return VerifyResult(
            False,
            count,
            head.seq + 1,
            "events were added without moving the head (the head records "
            f"{head.seq}, the chain ends at {count})",
        )
    return VerifyResult(True, count)
