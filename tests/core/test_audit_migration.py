"""Migration 0035 (issue 20): audit events already on file keep verifying, new ones (written with
their own HMAC and sealed later) continue the same chain, the append-only triggers still refuse
edits and deletes of old events, and a downgrade works while no new-scheme event exists."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from pmha.core import audit, migrate
from pmha.core.auth import Actor
from pmha.core.db import Database, make_engine

KEY = "m" * 40


def _old_chain(engine: sa.Engine, count: int) -> None:
    """Events as the code before 0035 wrote them: scheme 2, seq the primary key, a head row."""
    meta = sa.MetaData()
    meta.reflect(engine, only=["audit_events", "audit_head"])
    events, head = meta.tables["audit_events"], meta.tables["audit_head"]
    prev, at = audit.GENESIS, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    rows = []
    for seq in range(1, count + 1):
        row = {
            "at": at + timedelta(minutes=seq), "actor_id": None, "actor_name": "nurse1",
            "action": "read", "record_type": "case", "record_id": str(uuid.uuid4()),
            "site_id": None, "ip": "127.0.0.1", "request_id": f"r{seq}", "changes": None,
            "details": {"n": seq},
        }  # fmt: skip
        link = audit.link_hash(KEY.encode(), seq, prev, audit.content_digest(row))
        rows.append(row | {"seq": seq, "prev_hash": prev, "hash": link, "scheme": 2})
        prev = link
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # naive UTC, as UTCDateTime stores it there
            rows = [r | {"at": r["at"].replace(tzinfo=None)} for r in rows]
        conn.execute(events.insert(), rows)
        moved = conn.execute(head.update().where(head.c.id == 1).values(seq=count, hash=prev))
        if not moved.rowcount:
            conn.execute(head.insert().values(id=1, seq=count, hash=prev))


def test_events_on_file_keep_verifying_and_new_ones_continue_the_chain(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0034")
        _old_chain(engine, 5)
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0035")
        db = Database(engine, KEY)
        with db.transaction() as s:
            before = audit.verify(s)
            assert (before.ok, before.events, before.pending) == (True, 5, 0), before
            assert list(s.scalars(sa.select(audit.AuditEvent.id).order_by("id"))) == [1, 2, 3, 4, 5]
        for n in range(3):
            with db.transaction() as s:
                audit.record(s, Actor.system("probe"), "read", "probe", str(n))
        audit.seal(engine, KEY.encode())
        with db.transaction() as s:
            after = audit.verify(s)
            ids = list(s.scalars(sa.select(audit.AuditEvent.id).order_by("id")))
            schemes = list(s.scalars(sa.select(audit.AuditEvent.scheme).order_by("seq")))
        assert (after.ok, after.events, after.pending) == (True, 8, 0), after
        assert ids == [1, 2, 3, 4, 5, 6, 7, 8]  # new ids follow the old events' numbers
        assert schemes == [2] * 5 + [3] * 3
        with engine.connect() as conn:
            for statement in (
                "UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 2",
                "UPDATE audit_events SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq = 5",
                "DELETE FROM audit_events WHERE seq = 5",
            ):
                with pytest.raises(DBAPIError, match="append-only"), conn.begin():
                    conn.execute(sa.text(statement))
        with pytest.raises(RuntimeError, match="scheme 3"), engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0034")
    finally:
        engine.dispose()


def test_a_downgrade_keeps_the_events_of_the_older_scheme(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0034")
        _old_chain(engine, 3)
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0035")
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0034")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("audit_events")}
        assert "event_hmac" not in columns and "id" not in columns
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM audit_events")) == 3
            conn.rollback()
            with pytest.raises(DBAPIError, match="append-only"), conn.begin():
                conn.execute(sa.text("DELETE FROM audit_events WHERE seq = 3"))
    finally:
        engine.dispose()
