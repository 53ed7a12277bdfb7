"""The job outbox (issue 19, "jobs that survive"): the job's message is committed with the job,
a broker that is down leaves it for the sweep while the request still answers, and the sweep
re-queues a job whose worker died (stale heartbeat). Pattern: the transactional outbox
(microservices.io, "Pattern: Transactional outbox"); Celery's own advice on acks_late and
idempotent tasks (docs.celeryq.dev, "Tasks: Should I use retry or acks_late?")."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from kombu.exceptions import OperationalError as BrokerDown
from sqlalchemy import func, select

from pmha.core import outbox, tasks
from pmha.core.db import utcnow
from pmha.core.outbox import OutboxMessage
from pmha.core.tasks import BEAT_SCHEDULE, SWEEP, enqueue_after_commit, sweep_now
from pmha.exports import service
from pmha.exports.models import ExportBundle, ExportJob, ExportLogEntry, JobState
from tests.exports.conftest import make_export_case

LATER = timedelta(minutes=1)  # past the grace a request has to send its own message


class RecordingTask:
    name = "pmha.tests.recording"

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[tuple, str]] = []
        self.fail = fail

    def apply_async(self, args, kwargs, task_id=None, **options):
        if self.fail is not None:
            raise self.fail
        self.sent.append((tuple(args), task_id))


@pytest.fixture()
def recording(app):
    """RecordingTask(...) registered in the app's Celery under its name: jobs are sent through
    the Celery of the session's app, looked up by name."""
    registry = app.extensions["celery"].tasks

    def make(fail: Exception | None = None) -> RecordingTask:
        registry[RecordingTask.name] = task = RecordingTask(fail)
        return task

    yield make
    registry.pop(RecordingTask.name, None)


def _messages(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def _broker_down(monkeypatch) -> None:
    def refuse(task, message_id, args, kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(outbox, "send", refuse)


@pytest.fixture()
def exported(app, session, world):
    return make_export_case(app, session, world, Path(app.extensions["pmha.config"].STORAGE_DIR))


def test_the_message_is_committed_with_the_change_and_sent_once(recording, session, app):
    task = recording()
    enqueue_after_commit(session, task, "7d0c", 3)
    (row,) = _messages(session)[-1:]
    assert (row.task, row.args, row.sent_at) == ("pmha.tests.recording", ["7d0c", 3], None)
    session.commit()
    assert task.sent == [(("7d0c", 3), str(row.id))]  # the row's id is the task id
    session.refresh(row)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None


def test_a_savepoint_released_sends_nothing_until_the_whole_transaction_commits(recording, session):
    """STYLE.md: jobs are enqueued after commit, so a rolled-back request sends nothing. A job
    asked inside a savepoint (begin_nested) ran at the savepoint's release, while the outer
    transaction still held SQLite's write lock (CI's FHIR check: 'database is locked')."""
    task = recording()
    with session.begin_nested():
        enqueue_after_commit(session, task, "b")
    assert task.sent == []
    session.commit()
    assert [args for args, _ in task.sent] == [("b",)]


def test_a_rollback_keeps_no_message(recording, session):
    before = len(_messages(session))
    task = recording()
    enqueue_after_commit(session, task, "a")
    session.rollback()
    assert len(_messages(session)) == before and task.sent == []


def test_a_broker_that_is_down_leaves_the_message_for_the_sweep(recording, session, app):
    task = recording(fail=BrokerDown("Connection refused"))
    enqueue_after_commit(session, task, "x")
    session.commit()  # no exception: the request that asked still answers
    row = _messages(session)[-1]
    assert row.sent_at is None and row.attempts == 1 and row.last_error == "OperationalError"


def test_an_export_asked_while_the_broker_is_down_answers_202_and_is_built_later(
    app, client, session, world, exported, monkeypatch
):
    """Issue 19: it was a bare 500 and a job queued for ever."""
    _broker_down(monkeypatch)
    started = client.post(
        f"/api/v1/cases/{exported.case.id}/bundles", headers=world.auth("panel_physician")
    )
    assert started.status_code == 202, started.text
    assert started.json["state"] == "queued"
    job_id = started.json["id"]
    (row,) = [m for m in _messages(session) if m.args == [job_id]]
    assert row.task == "pmha.exports.build_bundle" and row.sent_at is None
    assert row.last_error == "OperationalError"
    assert json.dumps(row.args) == json.dumps([job_id])  # an id, nothing about the travellers

    # Still down at the next sweep: nothing lost, nothing built.
    with app.app_context():
        result = sweep_now(app, now=utcnow() + LATER)
    assert (result.sent, result.failed) == (0, 1)

    monkeypatch.undo()  # the broker is back (here: the in-process runner)
    with app.app_context():
        result = sweep_now(app, now=utcnow() + LATER)
    assert result.sent == 1 and result.failed == 0
    session.expire_all()
    job = session.get(ExportJob, uuid.UUID(row.args[0]))
    assert job.state == JobState.DONE and job.attempts == 1
    assert session.get(OutboxMessage, row.id).sent_at is not None
    with app.app_context():  # a further sweep sends nothing again
        assert sweep_now(app, now=utcnow() + LATER).sent == 0


def test_the_page_asks_for_an_export_while_the_broker_is_down(
    app, signed_in, session, world, exported, monkeypatch
):
    from tests.conftest import csrf_token

    _broker_down(monkeypatch)
    client = signed_in("panel_physician")
    page = client.get(f"/cases/{exported.case.id}/exports")
    answer = client.post(
        f"/cases/{exported.case.id}/exports", data={"csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code in (302, 303), answer.text
    jobs = session.scalars(select(ExportJob).where(ExportJob.case_id == exported.case.id))
    assert [j.state for j in jobs] == [JobState.QUEUED]


def test_a_job_whose_worker_died_is_queued_again_and_finishes_once(
    app, session, world, exported, monkeypatch
):
    # The worker took the job and died (kill -9): running, its heartbeat old.
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)
    job = service.request_export(session, world.actor("panel_physician"), exported.case.id)
    job.state, job.step, job.attempts = JobState.RUNNING, "packing", 1
    job.heartbeat_at = utcnow() - timedelta(minutes=10)
    alive = service.request_export(session, world.actor("panel_physician"), exported.case.id)
    alive.state, alive.heartbeat_at = JobState.RUNNING, utcnow()  # beating: left alone
    session.commit()

    with app.app_context():
        result = sweep_now(app)
    assert result.requeued == 1 and result.sent == 1, result
    session.expire_all()
    job = session.get(ExportJob, job.id)
    assert job.state == JobState.DONE and job.attempts == 2
    assert session.get(ExportJob, alive.id).state == JobState.RUNNING
    bundles = session.scalar(
        select(func.count()).select_from(ExportBundle).where(ExportBundle.id == job.bundle_id)
    )
    created = session.scalar(
        select(func.count())
        .select_from(ExportLogEntry)
        .where(ExportLogEntry.bundle_id == job.bundle_id)
    )
    assert (bundles, created) == (1, 1)

    # The same message delivered again (the broker's own redelivery): done once, not twice.
    with app.app_context():
        assert tasks.outbox.tracked("pmha.exports.build_bundle") is not None
        from pmha.exports.tasks import build_bundle

        assert build_bundle.delay(str(job.id)).get() == str(job.bundle_id)
    session.expire_all()
    assert session.get(ExportJob, job.id).attempts == 2


def test_a_job_queued_too_long_is_sent_again(app, session, world, exported, monkeypatch):
    """A message the broker lost (a restart without persistence) is sent again."""
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)
    job = service.request_export(session, world.actor("panel_physician"), exported.case.id)
    session.commit()
    with app.app_context():
        assert sweep_now(app).resent == 0  # not yet
        result = sweep_now(app, now=utcnow() + timedelta(hours=1))
    assert result.resent == 1
    session.expire_all()
    assert session.get(ExportJob, job.id).state == JobState.DONE


def test_the_running_job_beats_its_heartbeat(app, session, world, exported, monkeypatch):
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)
    job = service.request_export(session, world.actor("panel_physician"), exported.case.id)
    session.commit()
    table = outbox.tracked("pmha.exports.build_bundle")
    from pmha.core.db import database

    with outbox.heartbeat(database(app), table, str(job.id), every=0.05):
        pass
    session.expire_all()
    assert session.get(ExportJob, job.id).heartbeat_at is not None


def test_the_sweep_runs_every_minute_and_redis_hands_back_well_before_an_hour(app, connection):
    assert BEAT_SCHEDULE["jobs-sweep"]["task"] == SWEEP
    assert BEAT_SCHEDULE["jobs-sweep"]["schedule"] <= 60
    config = app.extensions["pmha.config"]
    visibility = app.extensions["celery"].conf.broker_transport_options["visibility_timeout"]
    assert config.JOB_STALE_SECONDS < visibility < 3600
    assert config.JOB_HEARTBEAT_SECONDS * 4 <= config.JOB_STALE_SECONDS
    with app.app_context():  # the beat's task, here in process
        assert tasks.sweep_jobs.delay().get().startswith("sent 0, failed to send 0")


def test_pmha_jobs_sweep_sends_what_waits(tmp_path, monkeypatch):
    """The sweep by hand (README, Production), on a fresh SQLite database, jobs in process."""
    from click.testing import CliRunner

    from pmha.app import create_app
    from pmha.cli import main
    from pmha.config import Config
    from pmha.core.db import database

    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PMHA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("PMHA_BROKER_URL", raising=False)
    monkeypatch.delenv("PMHA_ENV", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], catch_exceptions=False).exit_code == 0
    app = create_app(Config.from_env())
    with database(app).transaction() as s:  # left by a broker that was down
        row = outbox.message("pmha.audit.verify_chain", (), {})
        row.created_at = utcnow() - timedelta(minutes=5)
        s.add(row)
    database(app).engine.dispose()

    done = runner.invoke(main, ["jobs", "sweep"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "sent 1, failed to send 0" in done.output
    again = runner.invoke(main, ["jobs", "sweep"], catch_exceptions=False)
    assert "sent 0, failed to send 0" in again.output
