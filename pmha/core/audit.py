"""The audit trail: append-only, hash-chained events of who saw or changed what.

Events hold field names and keyed hashes of old and new values, never the values.

Writing and chaining are two steps (issue 20), so that no request waits on another's commit:

1. `record` queues an event on the session; at commit it is inserted in the request's own
   transaction with its own keyed HMAC (`event_hmac`, over its content and a random event id)
   and no place in the chain yet. A rolled-back request leaves nothing; a committed one loses
   nothing. Inserting takes no lock.
2. The sealer (`seal`) gives unsealed events, in the order it finds them committed (their `id`),
   the next sequence numbers, links them (`prev_hash`, `hash`) and moves the single head row,
   one short transaction per batch under a lock (a PostgreSQL advisory lock and the head row's).
   It runs right after a request's commit on PostgreSQL (best effort: it skips when another
   sealer holds the lock, that one or the next takes the event), and every minute from beat as
   the safety net. On SQLite, which runs one writer at a time anyway, it runs inside the
   committing transaction (`SEAL_MODE`). Sealing is idempotent: killed at any point, its batch
   rolls back and the next run starts again from the head.

`verify` walks the sealed chain, then checks each unsealed event's own HMAC and reports how many
there are; an unsealed event whose HMAC is wrong is tampered with, not merely late.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Engine,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from pmha.core.audit_checkpoints import Checkpoint, CheckpointFileDamaged, CheckpointLog
from pmha.core.auth import Actor
from pmha.core.db import Base, PendingQueue, utcnow

log = logging.getLogger("pmha.audit")

GENESIS = "0" * 64
_PENDING = PendingQueue("pmha_audit_pending")
_KEY = "pmha_audit_key"
_WROTE = "pmha_audit_wrote"
# Any fixed 64-bit number: the advisory lock all sealers take on PostgreSQL.
SEAL_LOCK = 0x706D6861_61756474  # "pmhaaudt"
SEAL_BATCH = 500

# When sealing runs: "after" (a short step after the request's commit, skipped when another
# sealer holds the lock), "commit" (inside the committing transaction, under the lock until it
# commits: the pre-issue-20 behaviour, kept for SQLite and to benchmark against), or "off" (beat
# and `pmha audit seal` only). None: "commit" on SQLite, "after" elsewhere.
SEAL_MODE: str | None = None


class AuditEvent(Base):
    __tablename__ = "audit_events"

    # Insertion order: how unsealed events are read and sealed. Sealed events have `seq`.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    seq: Mapped[int | None] = mapped_column(BigInteger)
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
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    scheme: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    # Scheme 3: a random id and the event's own HMAC, written with it (before it is sealed).
    event_id: Mapped[uuid.UUID | None]
    event_hmac: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_record", "record_type", "record_id"),
        Index("ix_audit_events_actor", "actor_id"),
        Index("ix_audit_events_at", "at"),
        Index("ux_audit_events_seq", "seq", unique=True),
        Index("ux_audit_events_event_id", "event_id", unique=True),
        # The unsealed tail, found without scanning the trail.
        Index(
            "ix_audit_events_unsealed",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    @property
    def sealed(self) -> bool:
        return self.seq is not None


class AuditHead(Base):
    """One row: the last sealed sequence number and hash. Only sealers lock it."""

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
CURRENT_SCHEME = 3


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


def event_mac(key: bytes, event_id: uuid.UUID | str, digest: str) -> str:
    """An event's own HMAC (scheme 3), made when it is written: its content and its random id,
    so that an unsealed event cannot be forged or edited, and a copy of one is a duplicate id."""
    message = f"v3e|{event_id}|{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_hash(key: bytes, seq: int, prev_hash: str, mac: str) -> str:
    """The chain link of a scheme-3 event: its place, its predecessor and its own HMAC."""
    message = f"v3|{seq}|{prev_hash}|{mac}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _legacy_hash(row: Mapping[str, Any]) -> str:
    # Scheme 1 (the first events, before the chain was keyed): plain SHA-256 of the event.
    payload = {name: row[name] for name in PAYLOAD_FIELDS}
    payload.update(seq=row["seq"], at=row["at"].isoformat(), prev_hash=row["prev_hash"])
    for name in ("actor_id", "site_id"):
        payload[name] = str(payload[name]) if payload[name] else None
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def _values(row: AuditEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PAYLOAD_FIELDS}


def expected_mac(key: bytes, row: AuditEvent) -> str | None:
    """What a scheme-3 event's own HMAC must be (None for the older schemes)."""
    if row.scheme != 3 or row.event_id is None:
        return None
    return event_mac(key, row.event_id, content_digest(_values(row)))


def expected_hash(key: bytes, row: AuditEvent) -> str:
    assert row.seq is not None and row.prev_hash is not None
    values = _values(row) | {"seq": row.seq, "prev_hash": row.prev_hash}
    if row.scheme == 1:
        return _legacy_hash(values)
    if row.scheme == 2:
        return link_hash(key, row.seq, row.prev_hash, content_digest(values))
    return seal_hash(key, row.seq, row.prev_hash, row.event_hmac or "")


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
    """Queue an audit event on this transaction; it is written when the transaction commits
    (with its own HMAC) and chained by the sealer."""
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
    row["event_id"] = uuid.uuid4()
    row["event_hmac"] = event_mac(key, row["event_id"], content_digest(row))
    row["scheme"] = CURRENT_SCHEME
    _PENDING.append(session, row)


def seal_mode(bind: Engine | Connection) -> str:
    if SEAL_MODE is not None:
        return SEAL_MODE
    return "commit" if bind.dialect.name == "sqlite" else "after"


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    rows: list[dict[str, Any]] = _PENDING.take(session)
    if not rows:
        return
    session.execute(insert(AuditEvent), rows)  # no lock: the sealer chains them
    mode = seal_mode(session.get_bind())
    if mode == "commit":
        _seal_all(session, wait=True)
    elif mode == "after":
        # Sealed on this same connection once the commit is done: no second connection.
        session.info[_WROTE] = session.connection()


@event.listens_for(Session, "after_commit")
def _seal_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the events are sealed once the whole transaction commits
    conn: Connection | None = session.info.pop(_WROTE, None)
    if conn is None:
        return
    try:
        _seal_after(conn, session_key(session))
    except Exception as exc:  # the request has committed: the beat's sealer takes its events
        # No traceback or SQL in the log (house rule): the kind of failure is enough here.
        log.warning("audit events left for the next sealer (%s)", type(exc).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _forget_written(session: Session, previous: Any) -> None:
    if not previous.nested:
        session.info.pop(_WROTE, None)


def _lock(conn: Connection, wait: bool) -> bool:
    """Take the sealers' lock for this transaction; False when `wait` is off and it is held."""
    if conn.dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already holds the only write lock
    if wait:
        conn.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK)))
        return True
    return bool(conn.scalar(select(func.pg_try_advisory_xact_lock(SEAL_LOCK))))


_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_SEAL_ROW = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("b_id"), _EVENTS.c.seq.is_(None))
    .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash"))
)
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)


def _seal_batch(
    conn: Connection, key: bytes, limit: int, on_row: Callable[[int], None] | None = None
) -> tuple[int, tuple[int, str]]:
    """Chain up to `limit` unsealed events after the head (the caller holds the lock);
    returns how many, and the new head."""
    head = conn.execute(_READ_HEAD.with_for_update()).first()
    if head is None:
        conn.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        seq, prev = 0, GENESIS
    else:
        seq, prev = int(head.seq), str(head.hash)
    pending = conn.execute(
        select(_EVENTS.c.id, _EVENTS.c.event_hmac)
        .where(_EVENTS.c.seq.is_(None))
        .order_by(_EVENTS.c.id)
        .limit(limit)
    ).all()
    if not pending:
        return 0, (seq, prev)
    links: list[dict[str, Any]] = []
    for row in pending:
        seq += 1
        link = seal_hash(key, seq, prev, row.event_hmac or "")
        links.append({"b_id": row.id, "b_seq": seq, "b_prev": prev, "b_hash": link})
        prev = link
    if on_row is None:
        conn.execute(_SEAL_ROW, links)
    else:  # one statement a row, so that a test can stop the batch part-way
        for one in links:
            conn.execute(_SEAL_ROW, one)
            on_row(one["b_seq"])
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(seq=seq, hash=prev))
    return len(links), (seq, prev)


def _seal_all(session: Session, *, wait: bool, batch: int = SEAL_BATCH) -> int:
    """Seal every unsealed event inside this session's transaction ("commit" mode)."""
    conn = session.connection()
    if not _lock(conn, wait):
        return 0
    key, total = session_key(session), 0
    while True:
        done, _ = _seal_batch(conn, key, batch)
        total += done
        if done < batch:
            return total


def seal(
    bind: Engine | Connection,
    key: bytes,
    *,
    wait: bool = True,
    batch: int = SEAL_BATCH,
    on_row: Callable[[int], None] | None = None,
) -> int:
    """Seal every event not yet in the chain, one transaction per batch; returns how many.

    With `wait` off, return at once (0) when another sealer holds the lock: it, or the next
    one, takes the events. On a connection already in a transaction (a test's), each batch is
    a savepoint.
    """
    return _seal_loop(bind, key, wait=wait, batch=batch, on_row=on_row)[0]


def _seal_loop(
    bind: Engine | Connection,
    key: bytes,
    *,
    wait: bool,
    batch: int = SEAL_BATCH,
    on_row: Callable[[int], None] | None = None,
    durable: bool = False,
) -> tuple[int, tuple[int, str] | None]:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _seal_loop(conn, key, wait=wait, batch=batch, on_row=on_row, durable=durable)
    conn, total = bind, 0
    postgres = conn.dialect.name == "postgresql"
    while True:
        # Core, not the ORM: this runs after every commit on PostgreSQL, and skipping is the
        # common case under load (three statements: begin, try-lock, commit).
        trans = conn.begin_nested() if conn.in_transaction() else conn.begin()
        try:
            if not _lock(conn, wait):
                trans.rollback()
                return total, None
            if postgres and not durable:
                # A seal lost in a crash is made again from the head (its events are
                # durable): it need not wait for the disk. `checkpoint` seals durably.
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            done, head = _seal_batch(conn, key, batch, on_row)
            trans.commit()
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
        total += done
        if done < batch:
            return total, head


# Sealing after commit, once per process at a time: a thread that finds another of its process
# sealing leaves its events to it (it seals again while events keep arriving, a few rounds).
_LOCAL = threading.Lock()
_DIRTY = threading.Event()


def _seal_after(conn: Connection, key: bytes) -> None:
    _DIRTY.set()
    for _ in range(3):
        if not _LOCAL.acquire(blocking=False):
            return
        try:
            for _ in range(3):
                if not _DIRTY.is_set():
                    break
                _DIRTY.clear()
                seal(conn, key, wait=False)
        finally:
            _LOCAL.release()
        if not _DIRTY.is_set():
            return


@dataclass
class VerifyResult:
    ok: bool
    events: int  # sealed events verified
    broken_seq: int | None = None
    reason: str | None = None
    checkpoints: int = 0  # checkpoints the chain was checked against
    unsealed: int = 0  # sealed events after the newest checkpoint (not yet covered by one)
    pending: int = 0  # events written with their own HMAC, not yet chained by the sealer
    broken_id: int | None = None  # the tampered unsealed event (its id: it has no seq)

    @property
    def summary(self) -> str:
        """One line for people: what was checked, or the first bad event."""
        if self.ok:
            tail = f"; {self.pending} events not yet sealed" if self.pending else ""
            return f"audit chain intact: {self.events} events{tail}"
        where = (
            f"unsealed event {self.broken_id}"
            if self.broken_seq is None and self.broken_id is not None
            else f"event {self.broken_seq}"
        )
        return (
            f"audit chain BROKEN at {where}: {self.reason} "
            f"({self.events} events verified before it)"
        )


def _check_unsealed(session: Session, key: bytes, batch: int) -> tuple[int, int | None, str]:
    """Each unsealed event's own HMAC: (how many, the first bad one's id, why)."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.seq.is_(None))
        .order_by(AuditEvent.id)
        .execution_options(yield_per=batch)
    )
    count = 0
    result = session.scalars(stmt)
    try:
        for row in result:
            if row.prev_hash is not None or row.hash is not None:
                return count, row.id, "an unsealed event carries a chain link (forged)"
            mac = expected_mac(key, row)
            if mac is None:
                return count, row.id, "an unsealed event without its own HMAC (forged)"
            if not hmac.compare_digest(mac, row.event_hmac or ""):
                return count, row.id, "unsealed event content does not match its HMAC"
            count += 1
    finally:
        result.close()
    return count, None, ""


def verify(
    session: Session, batch: int = 2000, checkpoints: CheckpointLog | None = None
) -> VerifyResult:
    """Walk the chain; report the first event whose link, hash or sequence is wrong, or the
    first checkpoint (kept outside the database) the chain contradicts; then check each event
    not yet sealed against its own HMAC.

    Events of the first, unkeyed scheme are accepted only as one contiguous prefix sealed by a
    keyed event after it (whose keyed link covers the last unkeyed hash): an unkeyed event
    after a keyed one, or a chain with no keyed event at all, is a forgery anyone could make.
    """
    key = session_key(session)
    try:
        marks = checkpoints.read() if checkpoints is not None else []
    except CheckpointFileDamaged as exc:
        return VerifyResult(False, 0, None, str(exc))
    wanted = {c.seq for c in marks}
    seen: dict[int, str] = {}
    expected_prev, expected_seq, count, keyed = GENESIS, 1, 0, False
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=batch)
    )
    result = session.scalars(stmt)
    try:
        for row in result:
            assert row.seq is not None
            if row.seq != expected_seq:
                return VerifyResult(False, count, expected_seq, "missing event (sequence gap)")
            if row.prev_hash != expected_prev:
                return VerifyResult(False, count, row.seq, "link to the previous event is broken")
            if row.scheme == 1 and keyed:
                return VerifyResult(
                    False, count, row.seq, "an unkeyed event after keyed ones (forged)"
                )
            if row.scheme == 3:
                mac = expected_mac(key, row)
                if mac is None or not hmac.compare_digest(mac, row.event_hmac or ""):
                    return VerifyResult(
                        False, count, row.seq, "event content does not match its hash"
                    )
            elif row.scheme != 1 and row.scheme != 2:
                return VerifyResult(False, count, row.seq, "an event of an unknown scheme")
            if not hmac.compare_digest(expected_hash(key, row), row.hash or ""):
                return VerifyResult(False, count, row.seq, "event content does not match its hash")
            keyed = keyed or row.scheme != 1
            if row.seq in wanted:
                seen[row.seq] = row.hash or ""
            expected_prev, expected_seq, count = row.hash or "", row.seq + 1, count + 1
    finally:
        result.close()
    if count and not keyed:
        return VerifyResult(
            False, count, 1, "no keyed event seals the unkeyed events (anyone could write them)"
        )
    for mark in marks:
        if mark.seq > count:
            return VerifyResult(
                False,
                count,
                count + 1,
                f"events were removed: the checkpoint of {mark.at:%Y-%m-%d %H:%M} UTC (line "
                f"{mark.line}) recorded {mark.seq} events, the chain ends at {count}",
                len(marks),
            )
        if mark.seq and seen.get(mark.seq) != mark.hash:
            return VerifyResult(
                False,
                count,
                mark.seq,
                f"event {mark.seq} differs from the checkpoint of {mark.at:%Y-%m-%d %H:%M} UTC "
                f"(line {mark.line})",
                len(marks),
            )
    newest = max((m.seq for m in marks), default=0)
    head = session.get(AuditHead, 1)
    if head is not None and head.seq > count:
        return VerifyResult(
            False,
            count,
            count + 1,
            f"events after the last one were removed (the head records {head.seq}, "
            f"the chain ends at {count})",
            len(marks),
        )
    if head is not None and (head.seq < count or head.hash != expected_prev):
        return VerifyResult(
            False,
            count,
            head.seq + 1,
            "events were added without moving the head (the head records "
            f"{head.seq}, the chain ends at {count})",
            len(marks),
        )
    if head is None and count:
        return VerifyResult(False, count, 1, "the chain has no head row", len(marks))
    # A copy of a real event (sealed or not) carries its id and HMAC: the id is unique.
    copied = session.execute(
        select(AuditEvent.event_id, func.min(AuditEvent.id))
        .where(AuditEvent.event_id.is_not(None))
        .group_by(AuditEvent.event_id)
        .having(func.count() > 1)
        .limit(1)
    ).first()
    if copied is not None:
        twin = session.scalar(
            select(AuditEvent.seq)
            .where(AuditEvent.event_id == copied[0])
            .order_by(AuditEvent.seq.is_(None), AuditEvent.seq.desc())
            .limit(1)
        )
        return VerifyResult(
            False, count, twin, "an event appears twice (a copy was inserted)", len(marks)
        )
    pending, bad_id, why = _check_unsealed(session, key, batch)
    if bad_id is not None:
        return VerifyResult(
            False, count, None, why, len(marks), count - newest, pending, broken_id=bad_id
        )
    return VerifyResult(
        True, count, checkpoints=len(marks), unsealed=count - newest, pending=pending
    )


def checkpoint(session: Session, log: CheckpointLog) -> Checkpoint:
    """Seal what is waiting, then append a signed checkpoint of the sealed head to the log
    outside the database."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # In a transaction of its own that waits for the disk, which also flushes every seal
        # before it: a head signed here cannot be lost in a crash.
        _, head = _seal_loop(bind, session_key(session), wait=True, durable=True)
        assert head is not None
        seq, head_hash = head
    else:  # SQLite: this transaction holds the only write lock; seals are durable
        _seal_all(session, wait=True)
        row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))
        found = row.first()
        seq, head_hash = (found.seq, found.hash) if found is not None else (0, GENESIS)
    return log.append(seq, head_hash, utcnow())
