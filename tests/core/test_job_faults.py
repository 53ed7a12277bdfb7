"""Job faults with a real broker and worker (issue 19, "Done when": the fault test kills the worker
mid-job and takes the broker away, then checks every job finishes exactly once).

Runs in CI's PostgreSQL + Redis pass (PMHA_TEST_BROKER_URL); skipped without a broker. The shared
Redis cannot be stopped, so the broker outage is a broker address where nothing listens (the
send fails as it does when Redis is down), then the real one again.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from pmha.app import create_app
from pmha.cases import service as case_service
from pmha.core import migrate
from pmha.core.auth import Actor
from pmha.core.db import database, utcnow
from pmha.core.outbox import OutboxMessage
from pmha.core.tasks import sweep_now
from pmha.exports import service
from pmha.exports.models import ExportBundle, ExportJob, ExportLogEntry, JobState, LogEvent
from tests import factories
from tests.conftest import config_for_tests
from tests.exports import keyring
from tests.exports.conftest import make_export_case

ROOT = Path(__file__).resolve().parents[2]
EXPORT_MESSAGES = select(OutboxMessage).where(OutboxMessage.task == "pmha.exports.build_bundle")
JOBS = 4


def _broker() -> str:
    broker = os.environ.get("PMHA_TEST_BROKER_URL")
    if not broker:
        pytest.skip("needs PMHA_TEST_BROKER_URL (CI's PostgreSQL + Redis run sets it)")
    return broker


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Rig:
    """A migrated database with export cases, an app on the broker, and worker processes."""

    def __init__(self, url: str, tmp_path: Path, broker: str) -> None:
        self.url, self.tmp, self.broker = url, tmp_path, broker
        self.queue = f"pmha-test-{uuid.uuid4().hex[:8]}"
        self.secret_key, self.audit_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.app = self.make_app(broker)
        self.config = self.app.extensions["pmha.config"]
        self.db = database(self.app)
        with self.db.engine.begin() as conn:
            migrate.upgrade(connection=conn)
        self.workers: list[subprocess.Popen[bytes]] = []

    def make_app(self, broker: str) -> Flask:
        """An app on this database and `broker`, sending to this test's own queue."""
        config = config_for_tests(self.url, self.tmp / "var", BROKER_URL=broker)
        config.SECRET_KEY, config.AUDIT_KEY = self.secret_key, self.audit_key
        app = create_app(config)
        app.extensions["celery"].conf.task_default_queue = self.queue
        return app

    def cases(self, n: int, monkeypatch) -> tuple[Actor, list[uuid.UUID]]:  # type: ignore[no-untyped-def]
        storage = Path(self.config.STORAGE_DIR)
        ids = []
        # The same synthetic family each time: not a possible duplicate here.
        monkeypatch.setattr(case_service, "find_duplicates", lambda *a, **k: [])
        with self.app.app_context(), self.db.transaction() as s:
            world = factories.build_world(s)
            for i in range(n):
                ids.append(make_export_case(self.app, s, world, storage).case.id)
                if i == 0:  # the keys once
                    monkeypatch.setattr(keyring, "install", lambda *a, **k: None)
            physician = world.actor("panel_physician")
        return physician, ids

    def request(self, app: Flask, physician: Actor, case_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        jobs = []
        db = database(app)
        with app.app_context():
            for case_id in case_ids:
                with db.transaction() as s:  # committed: the outbox sends after commit
                    jobs.append(service.request_export(s, physician, case_id).id)
        return jobs

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PMHA_ENV": "development",
            "PMHA_DATABASE_URL": self.url,
            "PMHA_BROKER_URL": self.broker,
            "PMHA_VAR_DIR": str(self.tmp / "var"),
            "PMHA_STORAGE_DIR": self.config.STORAGE_DIR,
            "PMHA_AUDIT_KEY": self.config.AUDIT_KEY,
            "PMHA_SECRET_KEY": self.config.SECRET_KEY,
            "PMHA_JOB_HEARTBEAT_SECONDS": "1",
            "PMHA_TEST_CRASH_MARKER": str(self.tmp / "crashed"),
        }
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fault_jobs_worker.py")),
             "--pool=solo", "-Q", self.queue, "-n", f"{name}-{self.queue}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel=WARNING"],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.workers.append(process)
        return process

    def states(self, jobs: list[uuid.UUID]) -> dict[uuid.UUID, JobState]:
        with self.db.transaction() as s:
            return {j: s.get(ExportJob, j).state for j in jobs}

    def wait(self, jobs: list[uuid.UUID], done: set[JobState], seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if set(self.states(jobs).values()) <= done:
                return
            time.sleep(0.5)
        raise AssertionError(f"jobs not finished: {self.states(jobs)}")

    def stop(self) -> str:
        out = []
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
            out.append(process.communicate(timeout=60)[0].decode(errors="replace"))
        self.db.engine.dispose()
        return "\n".join(out)

    def exactly_once(self, jobs: list[uuid.UUID]) -> dict[str, int]:
        """Every job done with its own bundle, each bundle created once and stored once."""
        with self.db.transaction() as s:
            found = [s.get(ExportJob, j) for j in jobs]
            assert all(j.state == JobState.DONE for j in found), [j.state for j in found]
            bundles = {j.bundle_id for j in found}
            assert len(bundles) == len(jobs)  # one bundle per case
            assert s.scalar(select(func.count()).select_from(ExportBundle)) == len(jobs)
            created = s.scalar(
                select(func.count())
                .select_from(ExportLogEntry)
                .where(ExportLogEntry.event == LogEvent.CREATED)
            )
            assert created == len(jobs)
            unsent = s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
            )
            assert unsent == 0
            attempts = sum(j.attempts for j in found)
        stored = sorted(p.name for p in (Path(self.config.STORAGE_DIR) / "exports").iterdir())
        assert stored == sorted(f"{b}.p7m" for b in bundles), stored
        return {"jobs": len(jobs), "bundles": len(bundles), "runs": attempts}


@pytest.mark.worker
def test_a_worker_killed_mid_job_comes_back_through_the_sweep(
    empty_database_url, tmp_path: Path, monkeypatch
):
    rig = Rig(empty_database_url, tmp_path, _broker())
    output = ""
    try:
        physician, cases = rig.cases(JOBS, monkeypatch)
        jobs = rig.request(rig.app, physician, cases)  # sent after each commit, to the real broker
        first = rig.worker("first")
        output = first.communicate(timeout=180)[0].decode(errors="replace")
        assert first.returncode == -9, output  # killed half-way through the first job
        states = rig.states(jobs)
        assert sorted(states.values()) == sorted(
            [JobState.RUNNING] + [JobState.QUEUED] * (JOBS - 1)
        )
        dead = next(j for j, state in states.items() if state == JobState.RUNNING)

        rig.worker("second")  # runs the queued ones; the dead one's message is not redelivered
        rig.wait([j for j in jobs if j != dead], {JobState.DONE})
        assert rig.states([dead])[dead] == JobState.RUNNING
        with rig.db.transaction() as s:  # the dead worker beat before it died, the live one too
            beats = {j: s.get(ExportJob, j).heartbeat_at for j in jobs}
        assert all(beat is not None for beat in beats.values()), beats
        stale = utcnow() + timedelta(seconds=rig.config.JOB_STALE_SECONDS + 5)
        with rig.app.app_context():  # a sweep once its heartbeat is stale
            swept = sweep_now(rig.app, now=stale)
        assert swept.requeued == 1 and swept.sent == 1, swept
        rig.wait(jobs, {JobState.DONE})
        with rig.app.app_context():  # nothing left to send or re-queue
            again = sweep_now(rig.app)
        assert (again.requeued, again.sent, again.failed) == (0, 0, 0), again
        figures = rig.exactly_once(jobs)
        assert figures == {"jobs": JOBS, "bundles": JOBS, "runs": JOBS + 1}, figures
        print(f"worker killed mid-job: {figures}")
    finally:
        output += rig.stop()


@pytest.mark.worker
def test_jobs_asked_while_the_broker_is_away_are_delivered_once_it_is_back(
    empty_database_url, tmp_path: Path, monkeypatch
):
    rig = Rig(empty_database_url, tmp_path, _broker())
    (tmp_path / "crashed").write_text("no crash in this test")
    try:
        physician, cases = rig.cases(JOBS, monkeypatch)
        away = rig.make_app(f"redis://127.0.0.1:{_closed_port()}/0")
        started = time.monotonic()
        jobs = rig.request(away, physician, cases)  # every send refused: no exception, jobs queued
        assert time.monotonic() - started < 30  # the requests did not hang on the broker
        with rig.db.transaction() as s:
            # the export jobs' messages (the cases' X-ray uploads sent their own before)
            rows = list(s.scalars(EXPORT_MESSAGES))
            assert len(rows) == JOBS
            assert all(r.sent_at is None and r.attempts == 1 for r in rows)
        assert set(rig.states(jobs).values()) == {JobState.QUEUED}
        with away.app_context():  # still away at the next sweep
            swept = sweep_now(away, now=_later())
        assert (swept.sent, swept.failed) == (0, 1), swept

        rig.worker("worker")
        with rig.app.app_context():  # the broker is back
            swept = sweep_now(rig.app, now=_later())
        assert (swept.sent, swept.failed) == (JOBS, 0), swept
        rig.wait(jobs, {JobState.DONE})
        with rig.app.app_context():
            assert sweep_now(rig.app, now=_later()).sent == 0  # delivered once
        with rig.db.transaction() as s:
            rows = list(s.scalars(EXPORT_MESSAGES))
            assert len(rows) == JOBS and all(r.sent_at is not None for r in rows)
            # Refused at the request; the first also at the sweep while away; sent once back.
            assert sorted(r.attempts for r in rows) == [2] * (JOBS - 1) + [3]
        figures = rig.exactly_once(jobs)
        assert figures == {"jobs": JOBS, "bundles": JOBS, "runs": JOBS}, figures
        print(f"broker away at send: {figures}")
    finally:
        rig.stop()


def _later() -> datetime:
    return utcnow() + timedelta(minutes=1)  # past the grace a request has to send its own


@pytest.mark.worker
def test_jobs_whose_messages_a_broker_restart_lost_are_sent_again(
    empty_database_url, tmp_path: Path, monkeypatch
):
    """Redis restarted without persistence: the queued messages are gone (here: the test's own
    queue emptied). The jobs stay queued in the database; the sweep sends them again once they
    have waited JOB_QUEUED_RESEND_SECONDS."""
    import redis

    rig = Rig(empty_database_url, tmp_path, _broker())
    (tmp_path / "crashed").write_text("no crash in this test")
    try:
        physician, cases = rig.cases(JOBS, monkeypatch)
        jobs = rig.request(rig.app, physician, cases)  # sent, no worker yet
        store = redis.Redis.from_url(rig.broker)
        lost = list(store.scan_iter(match=f"{rig.queue}*"))
        assert lost, "the messages were not in the broker"
        store.delete(*lost)
        store.close()

        rig.worker("worker")
        with rig.app.app_context():  # soon after: nothing to do yet (the queue may be long)
            assert sweep_now(rig.app).resent == 0
        assert set(rig.states(jobs).values()) == {JobState.QUEUED}
        waited = utcnow() + timedelta(seconds=rig.config.JOB_QUEUED_RESEND_SECONDS + 5)
        with rig.app.app_context():
            swept = sweep_now(rig.app, now=waited)
        assert (swept.resent, swept.sent, swept.failed) == (JOBS, JOBS, 0), swept
        rig.wait(jobs, {JobState.DONE})
        figures = rig.exactly_once(jobs)
        assert figures == {"jobs": JOBS, "bundles": JOBS, "runs": JOBS}, figures
        print(f"messages lost by the broker: {figures}")
    finally:
        rig.stop()
