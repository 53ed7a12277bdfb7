"""Issue 20, "Audit without the global lock": events are written in the request's transaction with
their own HMAC and chained later by a sealer, which may be killed at any point.

- An event is written at commit with `event_hmac` (keyed: the audit key is not in the database)
  and no place in the chain; a rolled-back transaction leaves nothing.
- `verify` checks every unsealed event against its own HMAC and reports how many wait ("N events
  not yet sealed") without calling the chain broken; an unsealed event edited, forged (made-up or
  missing HMAC), copied, or given a made-up chain link, is named as tampered with.
- The database still refuses every update but the sealer's (filling an unsealed event's chain
  columns, nothing else), and every delete.
- A sealer stopped inside a batch (an exception, or `kill -9` of its process) loses nothing: its
  batch rolls back and the next run seals every event exactly once.
- Every reader (the audit page and search) sees unsealed events.
- On PostgreSQL, a commit does not wait for the sealers' lock: it leaves its events for the
  next sealer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pmha.audit import service
from pmha.core import audit, migrate
from pmha.core.audit import AuditEvent
from pmha.core.auth import Actor
from pmha.core.db import Database, make_engine
from tests.audit.conftest import Family
from tests.audit.test_audit_chain import EVENTS, _last, _refused, chain_ok

ON_POSTGRES = os.environ.get("PMHA_TEST_DATABASE_URL", "").startswith("postgresql")


class Killed(Exception):
    """A sealer stopped part-way (an exception inside its batch)."""


@pytest.fixture()
def held(monkeypatch: pytest.MonkeyPatch) -> None:
    """No sealing at commit: events wait for the sealer (beat's job), as when it is behind."""
    monkeypatch.setattr(audit, "SEAL_MODE", "off")


def _write(session: Session, family: Family, n: int) -> list[int]:
    """Write n events in one transaction; the ids of all unsealed events, in order."""
    actor = family.world.actor("nurse")
    for i in range(n):
        audit.record(session, actor, "read", "applicant", family.principal.id, details={"n": i})
    session.commit()
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent.id).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)
        )
    )


def _seal(session: Session, **kwargs: Any) -> int:
    count = audit.seal(session.get_bind(), audit.session_key(session), **kwargs)
    session.expire_all()
    return count


def _by_id(session: Session, row_id: int) -> AuditEvent:
    session.expire_all()
    event = session.get(AuditEvent, row_id)
    assert event is not None
    return event


def _triggers_off(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        )
    else:
        connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(text("DROP TRIGGER audit_events_no_delete"))


def _assert_sealed_once(session: Session, total: int) -> None:
    """Every event has exactly one place: seq 1..total, no event left, none twice."""
    session.expire_all()
    seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.id)))
    assert None not in seqs
    assert sorted(s for s in seqs if s is not None) == list(range(1, total + 1))


# --- written with their own HMAC, sealed later ---------------------------------------------------


def test_events_wait_with_their_own_hmac_and_the_sealer_chains_them(
    session: Session, family: Family, held: None
) -> None:
    sealed = _last(session)
    ids = _write(session, family, 3)
    assert len(ids) == 3
    key = audit.session_key(session)
    for event_id in ids:
        event = _by_id(session, event_id)
        assert (event.seq, event.prev_hash, event.hash, event.scheme) == (None, None, None, 3)
        assert event.event_id is not None
        digest = audit.content_digest({n: getattr(event, n) for n in audit.PAYLOAD_FIELDS})
        assert event.event_hmac == audit.event_mac(key, event.event_id, digest)

    waiting = chain_ok(session)
    assert (waiting.ok, waiting.events, waiting.pending) == (True, sealed, 3)
    assert waiting.summary == f"audit chain intact: {sealed} events; 3 events not yet sealed"

    assert _seal(session) == 3
    assert [_by_id(session, i).seq for i in ids] == [sealed + 1, sealed + 2, sealed + 3]
    done = chain_ok(session)
    assert (done.ok, done.events, done.pending) == (True, sealed + 3, 0)
    assert _seal(session) == 0  # nothing twice


def test_a_rolled_back_transaction_leaves_no_unsealed_event(
    session: Session, family: Family, held: None
) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    audit.record(session, family.world.actor("nurse"), "read", "case", family.case.id)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert chain_ok(session).pending == 0


def test_a_checkpoint_seals_what_waits_and_signs_the_sealed_head(
    session: Session, family: Family, held: None, tmp_path: Any
) -> None:
    _write(session, family, 2)
    log = service.checkpoint_log(session, tmp_path)
    mark = audit.checkpoint(session, log)
    session.expire_all()
    assert mark.seq == _last(session)
    result = audit.verify(session, checkpoints=log)
    assert (result.ok, result.pending, result.checkpoints) == (True, 0, 1)


def test_events_committed_in_a_savepoint_are_sealed_with_the_whole_transaction(
    session: Session, family: Family
) -> None:
    """Sealing after a savepoint's release would take the sealers' lock inside a transaction
    that has not committed (and hold it until it does): it waits for the whole commit."""
    sealed = _last(session)
    actor = family.world.actor("nurse")
    audit.record(session, actor, "read", "case", family.case.id)
    nested = session.begin_nested()
    audit.record(session, actor, "read", "applicant", family.principal.id)
    nested.commit()
    unsealed = select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))
    if ON_POSTGRES:  # sealed after commit; SQLite seals inside it (the savepoint's, here)
        assert session.scalar(unsealed) == 2
    session.commit()
    assert session.scalar(unsealed) == 0
    done = chain_ok(session)
    assert (done.ok, done.events, done.pending) == (True, sealed + 2, 0)


def test_a_sealer_failing_after_commit_does_not_fail_the_commit(
    session: Session, family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction has committed when the seal runs: its events wait for the next sealer."""

    def broken(*_: Any, **__: Any) -> int:
        raise Killed

    monkeypatch.setattr(audit, "SEAL_MODE", "after")
    monkeypatch.setattr(audit, "seal", broken)
    sealed = _last(session)
    audit.record(session, family.world.actor("nurse"), "read", "case", family.case.id)
    session.commit()
    assert chain_ok(session).pending == 1
    monkeypatch.undo()
    assert _seal(session) == 1
    assert (chain_ok(session).events, chain_ok(session).pending) == (sealed + 1, 0)


# --- tampering with unsealed events --------------------------------------------------------------

UNSEALED_EDITS: dict[str, Any] = {
    "actor_name": "mallory",
    "action": "update",
    "record_id": str(uuid.uuid4()),
    "ip": "10.6.6.6",
    "details": {"n": 99},
    "changes": {"dob": {"old": None, "new": "0" * 32}},
    "event_id": uuid.uuid4(),
    "event_hmac": "e" * 64,
}


@pytest.mark.parametrize("column", list(UNSEALED_EDITS))
def test_an_edited_unsealed_event_is_found(
    connection: Connection, session: Session, family: Family, held: None, column: str
) -> None:
    ids = _write(session, family, 3)
    _triggers_off(connection)
    connection.execute(
        update(EVENTS).where(EVENTS.c.id == ids[1]).values({column: UNSEALED_EDITS[column]})
    )
    result = chain_ok(session)
    assert (result.ok, result.broken_seq, result.broken_id) == (False, None, ids[1])
    assert result.reason == "unsealed event content does not match its HMAC"
    assert result.summary.startswith(f"audit chain BROKEN at unsealed event {ids[1]}:")


def _copy(session: Session, row_id: int, **changes: Any) -> dict[str, Any]:
    event = _by_id(session, row_id)
    row = {c.name: getattr(event, c.key) for c in AuditEvent.__mapper__.columns}
    del row["id"]
    return row | changes


def test_a_forged_unsealed_event_is_found(
    connection: Connection, session: Session, family: Family, held: None
) -> None:
    """INSERT is all the append-only trigger allows; without the key the HMAC cannot be made."""
    ids = _write(session, family, 1)
    row = _copy(session, ids[0], event_id=uuid.uuid4(), actor_name="mallory")
    connection.execute(insert(EVENTS).values(**row))
    forged = max(_write(session, family, 0))
    result = chain_ok(session)
    assert (result.ok, result.broken_id) == (False, forged)
    assert result.reason == "unsealed event content does not match its HMAC"


@pytest.mark.parametrize("scheme", [1, 2, 3])
def test_an_unsealed_event_without_its_own_hmac_is_found(
    connection: Connection, session: Session, family: Family, held: None, scheme: int
) -> None:
    ids = _write(session, family, 1)
    row = _copy(session, ids[0], event_id=None, event_hmac=None, scheme=scheme)
    connection.execute(insert(EVENTS).values(**row))
    result = chain_ok(session)
    assert (result.ok, result.broken_id) == (False, max(_write(session, family, 0)))
    assert result.reason == "an unsealed event without its own HMAC (forged)"


@pytest.mark.parametrize("original", ["unsealed", "sealed"])
def test_a_copied_event_is_found(
    connection: Connection, session: Session, family: Family, held: None, original: str
) -> None:
    """A replay keeps the event id (its HMAC covers it): the database refuses the duplicate,
    and with its unique index dropped, verify finds it."""
    ids = _write(session, family, 2)
    if original == "sealed":
        _seal(session)
    row = _copy(session, ids[0], seq=None, prev_hash=None, hash=None)
    with pytest.raises(IntegrityError), connection.begin_nested():
        connection.execute(insert(EVENTS).values(**row))
    connection.execute(text("DROP INDEX ux_audit_events_event_id"))
    connection.execute(insert(EVENTS).values(**row))
    result = chain_ok(session)
    assert not result.ok
    assert result.reason == "an event appears twice (a copy was inserted)"


def test_an_unsealed_event_given_a_made_up_place_in_the_chain_is_found(
    connection: Connection, session: Session, family: Family, held: None
) -> None:
    """The trigger lets anyone fill an unsealed event's chain columns (that is the sealer's
    update): without the key the link does not match."""
    last = _last(session)
    ids = _write(session, family, 1)
    head = session.execute(text("SELECT hash FROM audit_head WHERE id = 1")).scalar()
    connection.execute(
        update(EVENTS).where(EVENTS.c.id == ids[0]).values(seq=last + 1, prev_hash=head,
                                                            hash="f" * 64)
    )  # fmt: skip
    result = chain_ok(session)
    assert (result.ok, result.broken_seq) == (False, last + 1)
    assert result.reason == "event content does not match its hash"


def test_sealed_events_of_the_new_scheme_edited_reordered_deleted_are_found(
    connection: Connection, session: Session, family: Family, held: None
) -> None:
    """The chain over events sealed by the sealer holds as before (each case on its own
    savepoint): an edit, a swap of two events' places, a deletion."""
    ids = _write(session, family, 4)
    _seal(session)
    first = _by_id(session, ids[0]).seq
    assert first is not None
    _triggers_off(connection)
    cases = {
        "edited": [update(EVENTS).where(EVENTS.c.id == ids[1]).values(actor_name="mallory")],
        "hmac replaced": [update(EVENTS).where(EVENTS.c.id == ids[1]).values(event_hmac="0" * 64)],
        "swapped": [
            update(EVENTS).where(EVENTS.c.id == ids[1]).values(seq=-1),
            update(EVENTS).where(EVENTS.c.id == ids[2]).values(seq=first + 1),
            update(EVENTS).where(EVENTS.c.id == ids[1]).values(seq=first + 2),
        ],
        "deleted": [delete(EVENTS).where(EVENTS.c.id == ids[1])],
    }
    for name, statements in cases.items():
        nested = connection.begin_nested()
        for statement in statements:
            connection.execute(statement)
        result = chain_ok(session)
        assert (result.ok, result.broken_seq) == (False, first + 1), name
        nested.rollback()
    assert chain_ok(session).ok


# --- the database lets only the sealer's update through ------------------------------------------


def test_the_database_refuses_all_but_the_sealers_update(
    connection: Connection, session: Session, family: Family, held: None
) -> None:
    ids = _write(session, family, 2)
    last = _last(session)
    events = EVENTS.c
    for statement in [
        update(EVENTS).where(events.id == ids[0]).values(actor_name="mallory"),
        update(EVENTS).where(events.id == ids[0]).values(event_hmac="0" * 64),
        update(EVENTS).where(events.id == ids[0]).values(seq=last + 1),  # a part of the link
        update(EVENTS)
        .where(events.id == ids[0])
        .values(seq=last + 1, prev_hash="a" * 64, hash="b" * 64, ip="10.6.6.6"),
        delete(EVENTS).where(events.id == ids[0]),
    ]:
        _refused(connection, statement)
    assert _seal(session) == 2
    # Sealed now: not even the chain columns move again.
    _refused(
        connection,
        update(EVENTS).where(events.id == ids[0]).values(seq=None, prev_hash=None, hash=None),
    )
    _refused(connection, update(EVENTS).where(events.id == ids[0]).values(seq=last + 9))
    assert chain_ok(session).ok


# --- a sealer stopped part-way loses nothing ----------------------------------------------------


def test_a_sealer_stopped_inside_a_batch_loses_nothing_and_the_next_seals_each_once(
    session: Session, family: Family, held: None
) -> None:
    sealed = _last(session)
    for _ in range(5):
        ids = _write(session, family, 5)
    assert len(ids) == 25

    def stop(seq: int) -> None:
        if seq == sealed + 15:  # the 5th row of the second batch of 10
            raise Killed

    with pytest.raises(Killed):
        _seal(session, batch=10, on_row=stop)
    halfway = chain_ok(session)
    # The first batch committed; the second rolled back whole.
    assert (halfway.ok, halfway.events, halfway.pending) == (True, sealed + 10, 15)

    assert _seal(session, batch=10) == 15
    _assert_sealed_once(session, sealed + 25)
    done = chain_ok(session)
    assert (done.ok, done.events, done.pending) == (True, sealed + 25, 0)


KILLED_SEALER = textwrap.dedent(
    """
    import os, sys, time
    from pmha.core import audit
    from pmha.core.db import make_engine

    def stop(seq):
        if seq == 17:
            print("inside the second batch", flush=True)
            time.sleep(120)

    engine = make_engine(os.environ["SEALER_URL"])
    audit.seal(engine, os.environ["SEALER_KEY"].encode(), batch=10, on_row=stop)
    """
)


@pytest.fixture()
def real_db(empty_database_url: str) -> Iterator[Database]:
    """A database of its own with committed data (other processes see it)."""
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    yield Database(engine, "k" * 40)
    engine.dispose()


def _write_committed(db: Database, transactions: int, each: int) -> None:
    for t in range(transactions):
        with db.transaction() as s:
            for i in range(each):
                audit.record(s, Actor.system("probe"), "read", "probe", f"{t}-{i}")


def test_a_sealer_process_killed_mid_batch_loses_nothing(
    real_db: Database, held: None, empty_database_url: str
) -> None:
    _write_committed(real_db, 4, 10)
    env = os.environ | {"SEALER_URL": empty_database_url, "SEALER_KEY": real_db.audit_key}
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_SEALER], env=env, stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "inside the second batch"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with real_db.transaction() as s:
        halfway = audit.verify(s)
    assert (halfway.ok, halfway.events, halfway.pending) == (True, 10, 30)

    key = real_db.audit_key.encode()
    assert audit.seal(real_db.engine, key, batch=10) == 30
    assert audit.seal(real_db.engine, key) == 0
    with real_db.transaction() as s:
        _assert_sealed_once(s, 40)
        done = audit.verify(s)
    assert (done.ok, done.events, done.pending) == (True, 40, 0)


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite runs one writer at a time: no lock to skip")
def test_a_commit_does_not_wait_for_a_sealer_holding_the_lock(real_db: Database) -> None:
    """Sealing after commit only tries the lock: a request never queues behind a sealer."""
    _write_committed(real_db, 1, 1)  # sealed at once
    with real_db.engine.connect() as other:
        other.execute(select(func.pg_advisory_lock(audit.SEAL_LOCK)))
        _write_committed(real_db, 3, 2)
        with real_db.transaction() as s:
            waiting = audit.verify(s)
        assert (waiting.ok, waiting.events, waiting.pending) == (True, 1, 6)
        other.execute(select(func.pg_advisory_unlock(audit.SEAL_LOCK)))
        other.commit()
    assert audit.seal(real_db.engine, real_db.audit_key.encode()) == 6
    with real_db.transaction() as s:
        done = audit.verify(s)
    assert (done.ok, done.events, done.pending) == (True, 7, 0)


# --- readers see unsealed events -----------------------------------------------------------------


def test_the_audit_page_shows_unsealed_events_and_their_count(
    signed_in: Any, session: Session, family: Family, held: None
) -> None:
    ids = _write(session, family, 2)
    client = signed_in("auditor")
    page = client.get("/audit?verify=1")
    assert page.status_code == 200
    assert "pending" in page.text
    assert "events not yet sealed" in page.text
    found = service.search(session, family.world.actor("auditor"), record_type="applicant")
    assert set(ids) <= {e.id for e in found.items}


def test_pmha_audit_verify_reports_events_not_yet_sealed(
    cli_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "SEAL_MODE", "off")
    made = cli_db("users", "create", "--username", "nurse2", "--full-name", "n", "--role",
                  "nurse", "--site", "IST", "--password", "long-enough-password")  # fmt: skip
    assert made.exit_code == 0, made.output
    waiting = cli_db("audit", "verify")
    assert waiting.exit_code == 0
    assert waiting.output.splitlines()[0] == "audit chain intact: 2 events; 1 events not yet sealed"
    # verify sealed the tail before its checkpoint
    assert cli_db("audit", "verify").output.splitlines()[0] == "audit chain intact: 3 events"
    assert cli_db("audit", "seal").output.strip() == "sealed 0 audit events"
