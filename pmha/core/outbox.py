"""The transactional outbox: a job's message is a row written in the same transaction as the job.

The row is sent right after commit (best effort: a broker that is down leaves it unsent, the
request still answers) and again by the sweep (`pmha jobs sweep`, or the beat entry every
minute). The sweep also re-queues jobs whose worker died: a tracked job table (`track_jobs`) has
a `heartbeat_at` column that a running job touches every few seconds; a `running` job whose
heartbeat is older than the stale timeout is set back to `queued` and sent again. Tasks are
idempotent, so a message sent twice still completes the job once.

Messages carry ids and plain values only (the task's arguments), never anything identifying.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import JSON, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from pmha.core.db import Base, Database, UUIDPk, utcnow

log = logging.getLogger("pmha.jobs")

# A message younger than this is still being sent by the request that wrote it.
GRACE = timedelta(seconds=30)
# Sent messages are kept this long (what was sent, when, after how many attempts), then dropped.
KEEP_SENT = timedelta(days=7)
BATCH = 500
# What a broker that is down raises (kombu wraps most; a socket error may come bare).
BROKER_DOWN: tuple[type[BaseException], ...] = (KombuOperationalError, OSError)


class OutboxMessage(UUIDPk, Base):
    """One job to send: the task's name and its arguments (ids only). Its id is the task id."""

    __tablename__ = "outbox"

    task: Mapped[str] = mapped_column(String(120))
    args: Mapped[list[Any]] = mapped_column(JSON)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(80))  # the exception's type only


@dataclass(frozen=True)
class JobTable:
    """A table of jobs the sweep watches: one row per job, the task takes the row's id."""

    task: str
    model: Any  # a mapped class with id, state, heartbeat_at and updated_at
    running: Any
    queued: Any
    requeue: dict[str, Any] = field(default_factory=dict)  # more values set on re-queue


_TABLES: dict[str, JobTable] = {}


def track_jobs(model: Any, task: str, *, running: Any, queued: Any, **requeue: Any) -> None:
    """Watch a job table: its task's runs beat the heartbeat, the sweep re-queues dead ones."""
    _TABLES[task] = JobTable(task, model, running, queued, dict(requeue))


def tracked(task: str) -> JobTable | None:
    return _TABLES.get(task)


def message(task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=uuid.uuid4(), task=task_name, args=list(args), kwargs=dict(kwargs), attempts=0
    )


@contextmanager
def side_session(bind: Any) -> Iterator[Session]:
    """A short transaction of its own beside a session that just committed (a savepoint when
    the bind is a connection already in a transaction, as in the tests)."""
    session = Session(bind=bind, join_transaction_mode="create_savepoint")
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


Transaction = Callable[[], Any]  # returns a context manager yielding a Session


def record(transaction: Transaction, message_id: uuid.UUID, error: str | None) -> None:
    """Note one attempt on the message's row: sent, or the type of the error that stopped it."""
    values: dict[str, Any] = {"attempts": OutboxMessage.attempts + 1, "last_error": error}
    if error is None:
        values["sent_at"] = utcnow()
    try:
        with transaction() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(values))
    except Exception as exc:  # the database went away: the sweep sends it again (idempotent)
        log.warning("outbox: could not record message %s: %s", message_id, type(exc).__name__)


def send(task: Any, message_id: uuid.UUID, args: list[Any], kwargs: dict[str, Any]) -> None:
    # No result kept: the job's state is in its own row. (Asking for one subscribes to the Redis
    # result backend before sending, which retries for ~20 s when Redis is down, then gives up
    # with a RuntimeError: the request would hang, then fail.)
    task.apply_async(args=args, kwargs=kwargs, task_id=str(message_id), ignore_result=True)


@contextmanager
def heartbeat(db: Database, table: JobTable, job_id: str, every: float) -> Iterator[None]:
    """Touch the job's heartbeat now and every `every` seconds until the block ends."""
    stop = threading.Event()
    key = uuid.UUID(job_id)

    def beat() -> None:
        while True:
            try:
                with db.transaction() as s:
                    s.execute(
                        update(table.model)
                        .where(table.model.id == key)
                        .values(heartbeat_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
            except Exception as exc:  # a database blip: the next beat tries again
                log.warning("heartbeat of job %s failed: %s", job_id, type(exc).__name__)
            if stop.wait(every):
                return

    thread = threading.Thread(target=beat, name=f"pmha-heartbeat-{job_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 10)


@dataclass
class SweepResult:
    sent: int = 0
    failed: int = 0
    requeued: int = 0
    resent: int = 0
    purged: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, failed to send {self.failed}, re-queued {self.requeued} "
            f"stuck running job(s), re-sent {self.resent} long-queued job(s), "
            f"dropped {self.purged} old sent message(s)"
        )


def sweep(
    db: Database,
    tasks: dict[str, Any],
    *,
    stale_after: timedelta,
    queued_after: timedelta,
    in_process: bool = False,
    now: datetime | None = None,
) -> SweepResult:
    """Re-queue dead running jobs, send every unsent message, and (when the broker answers)
    send again the jobs queued for longer than `queued_after` (their message may be lost)."""
    now = now or utcnow()
    result = SweepResult()
    fresh = _requeue(db, now - stale_after, running=True)
    result.requeued = len(fresh)
    with db.transaction() as s:
        due = list(
            s.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < now - GRACE)
                .order_by(OutboxMessage.created_at)
                .limit(BATCH)
            )
        )
    pending = [*fresh, *(i for i in due if i not in fresh)]
    _relay(db, tasks, pending, result, in_process)
    if result.failed == 0:
        again = _requeue(db, now - queued_after, running=False)
        result.resent = len(again)
        _relay(db, tasks, again, result, in_process)
    with db.transaction() as s:
        old = s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < now - KEEP_SENT
            )
        )
        result.purged = getattr(old, "rowcount", 0) or 0
    return result


def _requeue(db: Database, before: datetime, *, running: bool) -> list[uuid.UUID]:
    """Jobs stuck in `running` (dead worker) or `queued` (lost message) since `before`: set
    queued again, with a new message each, written in the same transaction."""
    ids: list[uuid.UUID] = []
    with db.transaction() as s:
        for table in _TABLES.values():
            model = table.model
            last = func.coalesce(model.heartbeat_at, model.updated_at)
            state = table.running if running else table.queued
            stuck = s.scalars(
                select(model)
                .where(model.state == state, last < before)
                .order_by(last)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
            for job in stuck:
                job.state, job.heartbeat_at, job.updated_at = table.queued, None, utcnow()
                for name, value in table.requeue.items():
                    setattr(job, name, value)
                row = message(table.task, (str(job.id),), {})
                s.add(row)
                ids.append(row.id)
                log.warning(
                    "job %s of %s was %s too long: queued again",
                    job.id,
                    table.task,
                    "running" if running else "queued",
                )
    return ids


def _relay(
    db: Database,
    tasks: dict[str, Any],
    ids: list[uuid.UUID],
    result: SweepResult,
    in_process: bool,
) -> None:
    for message_id in ids:
        with db.transaction() as s:
            row = s.get(OutboxMessage, message_id)
            if row is None or row.sent_at is not None:
                continue
            name, args, kwargs = row.task, list(row.args), dict(row.kwargs)
        task = tasks.get(name)
        if task is None:
            record(db.transaction, message_id, "unknown task")
            result.failed += 1
            continue
        try:
            send(task, message_id, args, kwargs)
        except Exception as exc:
            if in_process and not isinstance(exc, BROKER_DOWN):
                # The job itself failed, in this process: it was delivered.
                log.error("in-process job %s failed: %s", name, type(exc).__name__)
                record(db.transaction, message_id, None)
                result.sent += 1
                continue
            record(db.transaction, message_id, type(exc).__name__[:80])
            result.failed += 1
            log.warning("outbox: broker refused %s (%s); left for the next sweep",
                        name, type(exc).__name__)  # fmt: skip
            return  # the broker is down: do not hammer it, the next sweep tries again
        record(db.transaction, message_id, None)
        result.sent += 1
