"""Background jobs: sent only after commit, plain arguments, and run by a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

from pmha.app import create_app
from pmha.audit.tasks import verify_chain
from pmha.core import audit, migrate
from pmha.core.auth import Actor
from pmha.core.db import Database, database, make_engine
from pmha.core.tasks import enqueue_after_commit
from tests.conftest import config_for_tests


class RecordingTask:
    name = "pmha.tests.recording_job"

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def apply_async(self, args, kwargs, **options):
        self.sent.append(tuple(args))


@pytest.fixture()
def task(app):
    """A recording job in the app's Celery: jobs are sent through the session's app, by name."""
    registry = app.extensions["celery"].tasks
    registry[RecordingTask.name] = recording = RecordingTask()
    yield recording
    registry.pop(RecordingTask.name, None)


def test_a_rolled_back_transaction_sends_nothing(session, task):
    enqueue_after_commit(session, task, "first")
    session.rollback()
    enqueue_after_commit(session, task, "second")
    session.commit()
    assert task.sent == [("second",)]


def test_a_job_goes_through_the_app_whose_database_the_session_belongs_to(session, task, tmp_path):
    """Session 8's CI: a process holding two apps (the suite's and a worker test's) sent a job
    through whichever Celery app the thread held as current, so it ran against the other app's
    (dropped) database. The session's own database now names the Celery that sends its jobs."""
    other = create_app(config_for_tests(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "var"))
    stray = RecordingTask()
    other.extensions["celery"].tasks[RecordingTask.name] = stray
    other.extensions["celery"].set_current()  # the other app's Celery is the thread's current
    try:
        enqueue_after_commit(session, RecordingTask.name, "mine")
        session.commit()
    finally:
        database(other).engine.dispose()
    assert task.sent == [("mine",)] and stray.sent == []


def test_task_arguments_are_ids_and_plain_values(session, task):
    with pytest.raises(TypeError):
        enqueue_after_commit(session, task, {"family_name": "x"})


def test_audit_verification_job_runs_in_process(app, world):
    with app.app_context():
        result = verify_chain.delay().get(timeout=10)
    assert result["ok"] is True
    assert result["events"] > 0


@pytest.mark.worker
def test_job_runs_in_a_real_celery_worker(empty_database_url, tmp_path: Path):
    broker = os.environ.get("PMHA_TEST_BROKER_URL")
    if not broker:
        pytest.skip("needs PMHA_TEST_BROKER_URL (CI's PostgreSQL + Redis run sets it)")
    audit_key = uuid.uuid4().hex * 2
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    db = Database(engine, audit_key)
    with db.transaction() as s:
        for i in range(3):
            audit.record(s, Actor.system("tests"), "create", "probe", i)
    engine.dispose()

    queue = f"pmha-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PMHA_ENV": "development",
        "PMHA_DATABASE_URL": empty_database_url,
        "PMHA_BROKER_URL": broker,
        "PMHA_VAR_DIR": str(tmp_path),
        "PMHA_AUDIT_KEY": audit_key,
        "PMHA_SECRET_KEY": uuid.uuid4().hex * 2,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pmha.worker",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    client = Celery("pmha-test-client", broker=broker, backend=broker)
    try:
        result = client.send_task("pmha.audit.verify_chain", queue=queue)
        value = result.get(timeout=90)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0].decode(errors="replace")
        client.close()
    assert value == {"ok": True, "events": 3, "broken_seq": None, "reason": None, "pending": 0}, (
        output
    )
