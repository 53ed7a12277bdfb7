"""Concurrent transactions append to one unbroken audit chain: sealed after each commit under a
lock that no request waits for (issue 20), or, as before, inside the commit under the head
row's lock (the mode SQLite uses, and the one the benchmark compares against)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from pmha.core import audit, migrate
from pmha.core.auth import Actor
from pmha.core.db import Database, make_engine


@pytest.mark.parametrize("mode", [None, "commit", "off"])
def test_concurrent_appends_keep_the_chain_whole(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, mode: str | None
) -> None:
    monkeypatch.setattr(audit, "SEAL_MODE", mode)
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    db = Database(engine, "k" * 40)

    def work(worker: int) -> None:
        for i in range(15):
            with db.transaction() as session:
                actor = Actor.system(f"worker-{worker}")
                audit.record(session, actor, "read", "probe", f"{worker}-{i}")
                audit.record(
                    session,
                    actor,
                    "update",
                    "probe",
                    f"{worker}-{i}",
                    before={"x": 1},
                    after={"x": 2},
                )

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(work, range(6)))
    with db.transaction() as session:
        written = audit.verify(session)
    # Sealing after commit skips when another sealer holds the lock: a tail may wait.
    audit.seal(engine, db.audit_key.encode())
    with db.transaction() as session:
        result = audit.verify(session)
    engine.dispose()
    assert written.ok and written.events + written.pending == 6 * 15 * 2
    if mode == "off":
        assert written.events == 0
    assert result.ok, result
    assert (result.events, result.pending) == (6 * 15 * 2, 0)
