"""Celery wired to the app: one transaction per task, jobs enqueued only after commit.

With no broker configured (the embedded default) jobs run in-process, right after the commit that
enqueued them, so `make run` needs nothing but Python.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, appcontext_pushed
from sqlalchemy import event
from sqlalchemy.orm import Session

from pmha.config import Config
from pmha.core.db import PendingQueue

_JOBS = PendingQueue("pmha_after_commit_jobs")


# Periodic jobs for `celery -A pmha.worker beat` (add one entry per job; tasks take no arguments
# that identify anyone).
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "tb-dot-nightly-check": {
        "task": "pmha.tb_dot.nightly_check",
        "schedule": crontab(hour=1, minute=30),
    },
}


def init_celery(app: Flask, config: Config) -> Celery:
    class AppTask(Task):  # type: ignore[misc]
        acks_late = True
        reject_on_worker_lost = True

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
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
        result_expires=3600,
        task_default_queue="pmha",
    )
    celery.conf.beat_schedule = dict(BEAT_SCHEDULE)
    app.extensions["celery"] = celery

    # Jobs sent while this app is in context go through its Celery (and so its broker or the
    # in-process runner), even when one process holds several apps (tests, tools).
    def _make_current(sender: Flask, **_: Any) -> None:
        celery.set_current()

    appcontext_pushed.connect(_make_current, app, weak=False)
    return celery


def enqueue_after_commit(session: Session, task: Any, *args: Any, **kwargs: Any) -> None:
    """Send a job once this transaction commits; a rollback sends nothing.

    Arguments must be ids and plain values: never ORM objects or health data.
    """
    for value in (*args, *kwargs.values()):
        if not isinstance(value, str | int | float | bool | type(None)):
            raise TypeError("task arguments must be ids and plain values")
    _JOBS.append(session, (task, args, kwargs))


@event.listens_for(Session, "after_commit")
def _send_jobs(session: Session) -> None:
    for task, args, kwargs in _JOBS.take(session):
        task.apply_async(args=args, kwargs=kwargs)
