"""Celery wired to the app: one transaction per task, jobs written to the outbox with the change
that asks for them and sent after commit.

With no broker configured (the embedded default) jobs run in-process, right after the commit that
enqueued them, so `make run` needs nothing but Python. With a broker, a message the broker refuses
(it is down) stays in the outbox for the sweep; the request that asked still answers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import Celery, Task, shared_task
from celery.schedules import crontab
from flask import Flask, appcontext_pushed, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from pmha.config import Config
from pmha.core import outbox
from pmha.core.db import DATABASE_KEY, PendingQueue, database

log = logging.getLogger("pmha.jobs")

_JOBS = PendingQueue("pmha_after_commit_jobs")
SWEEP = "pmha.jobs.sweep"

# Periodic jobs for `celery -A pmha.worker beat` (add one entry per job; tasks take no arguments
# that identify anyone).
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Plans a new day put out of date (reads never re-plan): just after midnight UTC, the day
    # the plans count in.
    "workflow-nightly-replan": {
        "task": "pmha.workflow.replan_out_of_date",
        "schedule": crontab(hour=0, minute=5),
    },
    "tb-dot-nightly-check": {
        "task": "pmha.tb_dot.nightly_check",
        "schedule": crontab(hour=1, minute=30),
    },
    # Events that sealing at commit skipped (issue 20): every minute.
    "audit-seal": {"task": "pmha.audit.seal", "schedule": 60.0, "options": {"expires": 55}},
    "audit-checkpoint": {"task": "pmha.audit.checkpoint", "schedule": crontab(minute="*/5")},
    "audit-verify-nightly": {
        "task": "pmha.audit.verify_chain",
        "schedule": crontab(hour=2, minute=15),
    },
    # Unsent outbox messages, and jobs whose worker died (stale heartbeat): every minute.
    "jobs-sweep": {"task": SWEEP, "schedule": 60.0, "options": {"expires": 55}},
}


def init_celery(app: Flask, config: Config) -> Celery:
    class AppTask(Task):  # type: ignore[misc]
        acks_late = True
        reject_on_worker_lost = True

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                table = outbox.tracked(self.name)
                if table is None or not args or self.request.called_directly:
                    return self.run(*args, **kwargs)
                if self.request.is_eager:  # in-process: no worker of its own to die
                    return self.run(*args, **kwargs)
                every = config.JOB_HEARTBEAT_SECONDS
                with outbox.heartbeat(database(app), table, str(args[0]), every):
                    return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=AppTask)
    celery.conf.update(
        broker_url=config.BROKER_URL or "memory://localhost/",  # a host: kombu warns without one
        result_backend=config.RESULT_BACKEND or (config.BROKER_URL or None),
        task_always_eager=config.jobs_in_process,
        task_eager_propagates=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Redis (and SQS) hand an unacknowledged message to another worker after this long: longer
        # than the longest job (else a slow job runs twice), far shorter than the default hour.
        # A dead worker's job is re-queued sooner by the sweep, from its stale heartbeat.
        broker_transport_options={"visibility_timeout": config.JOB_VISIBILITY_SECONDS},
        # A broker that is down must not hold the request that asked for a job: fail fast, the
        # message waits in the outbox.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        broker_connection_timeout=3,
        result_expires=3600,
        task_default_queue="pmha",
    )
    celery.conf.beat_schedule = dict(BEAT_SCHEDULE)
    app.extensions["celery"] = celery
    database(app).jobs = celery

    # Jobs sent while this app is in context go through its Celery (and so its broker or the
    # in-process runner), even when one process holds several apps (tests, tools).
    def _make_current(sender: Flask, **_: Any) -> None:
        celery.set_current()

    appcontext_pushed.connect(_make_current, app, weak=False)
    return celery


def enqueue_after_commit(session: Session, task: Any, *args: Any, **kwargs: Any) -> None:
    """Write the job's message in this transaction and send it once the transaction commits;
    a rollback sends nothing (and keeps no message).

    `task` is the job function, or its registered name: a service whose job module imports the
    service names its job, so that the two modules do not import each other. The job is sent
    through the Celery of the app whose database the session belongs to (never a thread's
    "current" Celery app, which may be another app's when a process holds several).
    Arguments must be ids and plain values: never ORM objects or health data.
    """
    task = _job_of(session, task if isinstance(task, str) else task.name)
    for value in (*args, *kwargs.values()):
        if not isinstance(value, str | int | float | bool | type(None)):
            raise TypeError("task arguments must be ids and plain values")
    row = outbox.message(getattr(task, "name", type(task).__name__), args, kwargs)
    session.add(row)
    _JOBS.append(session, (task, row.id, args, kwargs))


def _job_of(session: Session, name: str) -> Task:
    db = session.info.get(DATABASE_KEY)
    celery: Celery | None = getattr(db, "jobs", None)
    if celery is None:
        raise RuntimeError("this session's database has no job runner (init_celery not called)")
    return celery.tasks[name]


@event.listens_for(Session, "after_commit")
def _send_jobs(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the jobs wait for the whole transaction's commit
    jobs = _JOBS.take(session)
    if not jobs:
        return
    bind = session.get_bind()
    for task, message_id, args, kwargs in jobs:
        eager = bool(getattr(getattr(task, "app", None), "conf", {}).get("task_always_eager"))
        try:
            outbox.send(task, message_id, list(args), dict(kwargs))
        except Exception as exc:
            if eager and not isinstance(exc, outbox.BROKER_DOWN):
                # The job itself failed, in this process: it was delivered; show the failure.
                outbox.record(lambda: outbox.side_session(bind), message_id, None)
                raise
            log.warning(
                "job %s not sent (%s): left in the outbox for the sweep",
                getattr(task, "name", "?"),
                type(exc).__name__,
            )
            outbox.record(lambda: outbox.side_session(bind), message_id, type(exc).__name__[:80])
            continue
        outbox.record(lambda: outbox.side_session(bind), message_id, None)


def sweep_now(app: Flask, now: datetime | None = None) -> outbox.SweepResult:
    """Send what is unsent and re-queue dead jobs, through the app's Celery."""
    config: Config = app.extensions["pmha.config"]
    celery: Celery = app.extensions["celery"]
    return outbox.sweep(
        database(app),
        dict(celery.tasks),
        stale_after=timedelta(seconds=config.JOB_STALE_SECONDS),
        queued_after=timedelta(seconds=config.JOB_QUEUED_RESEND_SECONDS),
        in_process=config.jobs_in_process,
        now=now,
    )


@shared_task(name=SWEEP)  # type: ignore[untyped-decorator]
def sweep_jobs() -> str:
    """The periodic sweep (beat): what it did, in counts."""
    result = sweep_now(current_app._get_current_object())  # type: ignore[attr-defined]
    if result.sent or result.failed or result.requeued or result.resent:
        log.info("jobs sweep: %s", result)
    return str(result)
