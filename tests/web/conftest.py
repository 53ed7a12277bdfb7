"""The demo centre, seeded once per module, and its users' passwords (issue 18's crawl and forms).

Seeding the demo takes seconds (6 on PostgreSQL); each test of these modules used to seed its
own. Here a module's tests share one connection whose outer transaction holds the seeded demo,
each test runs in a savepoint of it that is rolled back afterwards, and the outer transaction is
rolled back when the module is done: every test still starts from the same, freshly seeded
centre and leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Connection

from pmha.core.db import database

Users = dict[str, tuple[str, str]]


@pytest.fixture(scope="module")
def _seeded(
    app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Connection, Users]]:
    from pmha import demo

    db = database(app)
    conn = db.engine.connect()
    outer = conn.begin()
    original = db.session_factory
    db.session_factory = db.sessions_for(conn, join_transaction_mode="create_savepoint")
    var = tmp_path_factory.mktemp("web-demo")
    try:
        with pytest.MonkeyPatch.context() as env, app.app_context():
            env.setenv("PMHA_VAR_DIR", str(var))  # the demo passwords file goes here
            session = db.session_factory()
            created = demo.seed(
                session, families=6, rules=app.extensions["pmha.rules"], storage=var / "s"
            )
            session.commit()
            session.close()
        assert created
        yield conn, {role: (username, password) for username, role, password in created}
    finally:
        db.session_factory = original
        outer.rollback()
        conn.close()


@pytest.fixture()
def connection(app: Flask, _seeded: tuple[Connection, Users]) -> Iterator[Connection]:
    """The module's seeded connection; what a test does is rolled back to the seeded demo."""
    conn, _users = _seeded
    app.extensions["celery"].set_current()
    point = conn.begin_nested()
    try:
        yield conn
    finally:
        if point.is_active:
            point.rollback()


@pytest.fixture()
def demo_users(_seeded: tuple[Connection, Users]) -> Users:
    return _seeded[1]
