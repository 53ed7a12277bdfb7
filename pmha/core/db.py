"""Engine, sessions and the declarative base; one session (one transaction) per request or task."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, String, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    SessionTransaction,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=enum.Enum)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_values(cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in cls]


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class UUIDPk:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def str_enum(cls: type[E], length: int = 40) -> Any:
    """An enum column stored by value as a plain string (portable across engines)."""
    from sqlalchemy import Enum

    return Enum(
        cls,
        values_callable=enum_values,
        native_enum=False,
        length=length,
        validate_strings=True,
    )


def short_str(length: int = 200) -> String:
    return String(length)


class PendingQueue:
    """Items queued on a session's transaction, to act on at commit (audit events, jobs).

    A rollback drops them; a SAVEPOINT's rollback drops only those queued inside it.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.marks = key + ":marks"
        event.listen(Session, "after_transaction_create", self._mark)
        event.listen(Session, "after_soft_rollback", self._rollback)

    def append(self, session: Session, item: Any) -> None:
        if not session.in_transaction():
            session.begin()  # so that a rollback, even before any query, drops the item
        session.info.setdefault(self.key, []).append(item)

    def take(self, session: Session) -> list[Any]:
        session.info.pop(self.marks, None)
        return session.info.pop(self.key, [])  # type: ignore[no-any-return]

    def _mark(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            queued = len(session.info.get(self.key, []))
            session.info.setdefault(self.marks, {})[transaction] = queued

    def _rollback(self, session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            self.take(session)
            return
        mark = session.info.get(self.marks, {}).pop(previous, None)
        if mark is not None and self.key in session.info:
            del session.info[self.key][mark:]


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (needed for SAVEPOINT and for BEGIN IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Nearly every request writes (the audit trail), so take the write lock up front:
        # a deferred transaction that upgrades later fails instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


DATABASE_KEY = "pmha_database"  # session.info: the Database the session came from


class Database:
    """What the app holds: the engine and a session factory (tests may rebind it)."""

    def __init__(self, engine: Engine, audit_key: str) -> None:
        self.engine = engine
        self.audit_key = audit_key
        # The app's Celery (pmha.core.tasks.init_celery sets it): a job asked for in one of this
        # database's sessions is sent through it, whatever Celery app a thread holds as current.
        self.jobs: Any = None
        # What runs before a commit that changed applicants (pmha.core.changes): the re-plan.
        self.on_applicants_changed: list[Callable[[Session, Any], None]] = []
        self.session_factory: Callable[[], Session] = self.sessions_for(engine)

    def sessions_for(self, bind: Any, **kwargs: Any) -> Callable[[], Session]:
        # Every session carries the audit key, so services can hash changed values.
        return sessionmaker(
            bind=bind,
            expire_on_commit=False,
            info={"pmha_audit_key": self.audit_key.encode(), DATABASE_KEY: self},
            **kwargs,
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work outside a request (CLI, tasks): commit on success, else roll back."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def init_db(app: Flask, url: str, audit_key: str) -> Database:
    database = Database(make_engine(url), audit_key)
    app.extensions["pmha.db"] = database

    @app.teardown_request
    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("pmha_session", None)
        if session is not None:
            session.rollback()
            session.close()

    return database


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["pmha.db"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The request's session, opened on first use; committed by the edge (http.commit_response)."""
    session: Session | None = g.get("pmha_session")
    if session is None:
        session = database().session_factory()
        g.pmha_session = session
    return session
