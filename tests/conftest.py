"""Test fixtures: a migrated database (SQLite by default, PostgreSQL with PMHA_TEST_DATABASE_URL),
one transaction per test rolled back at the end, the app, and clients signed in by role."""

from __future__ import annotations

import functools
import os
import re
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pmha.app import create_app
from pmha.config import Config
from pmha.core import migrate
from pmha.core.db import database, make_engine
from tests import factories


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass (PMHA_TEST_DATABASE_URL), run what touches the database or the
    broker: the rest (pure engines, CDC's test cases, the browser tests, which serve their own
    SQLite file) does the same work as in the SQLite pass that CI runs first, so running it
    twice only costs time. PMHA_TEST_ALL=1 runs everything."""
    if not os.environ.get("PMHA_TEST_DATABASE_URL") or os.environ.get("PMHA_TEST_ALL"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        uses = "database_url" in getattr(item, "fixturenames", ()) or _reads_test_env(item)
        (keep if uses else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _reads_test_env(item: pytest.Item) -> bool:
    """A module that reads PMHA_TEST_* itself (a real broker, a PostgreSQL-only check)."""
    path = getattr(item, "path", None)
    return path is not None and _mentions_test_env(Path(path))


@functools.cache
def _mentions_test_env(path: Path) -> bool:
    return "PMHA_TEST_" in path.read_text(encoding="utf-8")


def reset_database(url: str) -> None:
    """An empty database: a fresh schema on PostgreSQL (the file is new on SQLite)."""
    if url.startswith("sqlite"):
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def config_for_tests(url: str, var_dir: Path, **overrides: Any) -> Config:
    config = Config(
        ENV="test",
        DATABASE_URL=url,
        VAR_DIR=str(var_dir),
        TESTING=True,
        SECRET_KEY=secrets.token_urlsafe(32),
        AUDIT_KEY=secrets.token_urlsafe(32),
        # One app serves every test of a worker from one address: the throttle's counts would
        # carry from test to test. Its own tests switch it on (tests/accounts/test_hardening.py).
        **({"THROTTLE_PER_CLIENT": "", "THROTTLE_PER_ACCOUNT": ""} | overrides),
    )
    config.finish()
    return config


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2 at production cost takes ~0.1 s a hash; tests create many users."""
    from argon2 import PasswordHasher

    from pmha.accounts import service

    original = service._hasher
    service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    service._hasher = original


@pytest.fixture(scope="session", autouse=True)
def _file_key_for_temporary_storage(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Stored files are encrypted at rest (pmha.core.file_crypto) under a registered storage
    root. Apps register their own; tests that hand a service a temporary folder as storage
    get one key for the whole temporary tree."""
    from pmha.core import file_crypto

    file_crypto.register(
        tmp_path_factory.getbasetemp(),
        file_crypto.FileCipher.from_text(file_crypto.new_key_text("tests")),
    )


def worker_database(url: str, worker: str) -> str:
    """One PostgreSQL database per pytest-xdist worker (as Warehouse does), made if missing."""
    name = f"{make_url(url).database}_{worker}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PMHA_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url:
        return worker_database(url, worker) if worker else url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"  # per worker already


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    reset_database(database_url)
    application = create_app(config_for_tests(database_url, tmp_path_factory.mktemp("var")))
    engine = database(application).engine
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    yield application
    engine.dispose()


@pytest.fixture()
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database of the same engine as the suite's (dropped afterwards)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"pmha_migrations_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def connection(app: Flask) -> Iterator[Connection]:
    """Everything a test does happens in one transaction that is rolled back afterwards."""
    # Jobs asked outside a request go through the current Celery app: the suite's, not the
    # last app another test made (a migrations test's app points at a database since dropped).
    app.extensions["celery"].set_current()
    db = database(app)
    conn = db.engine.connect()
    outer = conn.begin()
    original = db.session_factory
    db.session_factory = db.sessions_for(conn, join_transaction_mode="create_savepoint")
    try:
        yield conn
    finally:
        db.session_factory = original
        outer.rollback()
        conn.close()


@pytest.fixture()
def session(app: Flask, connection: Connection) -> Iterator[Session]:
    # No app context is pushed here: requests made by the test client must get their own,
    # as they do in production (an outer context would share `g` between requests).
    s = database(app).session_factory()
    yield s
    s.close()


@pytest.fixture()
def world(session: Session) -> factories.World:
    """Two sites, one user per role at the first, a physician at the second, and tokens."""
    w = factories.build_world(session)
    session.commit()
    return w


@pytest.fixture()
def client(app: Flask, connection: Connection) -> FlaskClient:
    return app.test_client()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = factories.PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
    )


@pytest.fixture()
def signed_in(client: FlaskClient, world: factories.World) -> Any:
    """signed_in(role) -> a client with that role's user signed in."""

    def sign_in(role: str) -> FlaskClient:
        response = login(client, world.users[role].username)
        assert response.status_code == 302, response.text
        return client

    return sign_in
