"""Concurrent transactions append to one unbroken audit chain (the head row serialises them)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pmha.core import audit, migrate
from pmha.core.auth import Actor
from pmha.core.db import Database, make_engine


def test_concurrent_appends_keep_the_chain_whole(empty_database_url):
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
        result = audit.verify(session)
    engine.dispose()
    assert result.ok, result
    assert result.events == 6 * 15 * 2
