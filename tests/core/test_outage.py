"""Database and broker outages (issue 19: "During a PostgreSQL outage every request is a bare
500"): a problem+json 503 with Retry-After on the API (RFC 9110 §15.6.4 and §10.2.3; RFC 9457 for
the body), a short page on the pages, a log line without identifying data, and recovery by itself
once the database is back."""

from __future__ import annotations

import logging
import socket

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pmha.cases.models import FamilyCase
from pmha.core.db import database, make_engine
from tests.factories import case_data

PROBLEM = "application/problem+json"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once closed


@pytest.fixture()
def database_down(app, connection):
    """The app's sessions bound to a PostgreSQL server that refuses connections."""
    db = database(app)
    working = db.session_factory
    dead = make_engine(f"postgresql+psycopg://pmha@127.0.0.1:{_closed_port()}/pmha")
    db.session_factory = db.sessions_for(dead)

    def restore() -> None:
        db.session_factory = working

    yield restore
    restore()
    dead.dispose()


def _assert_503(response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.mimetype == PROBLEM
    assert int(response.headers["Retry-After"]) > 0
    body = response.json
    assert body["status"] == 503 and body["code"] == code and body["request_id"]
    assert "psycopg" not in response.text and "SELECT" not in response.text


def test_an_api_request_while_the_database_is_down_is_a_503_then_recovers(
    client, world, database_down, caplog
):
    token = world.auth("nurse")
    with caplog.at_level(logging.INFO):
        answer = client.get("/api/v1/cases", headers=token)
    _assert_503(answer, "service.database_unavailable")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "database unavailable: OperationalError" in logged
    assert world.tokens["nurse"] not in logged and "t_nurse" not in logged
    assert "127.0.0.1:" not in logged  # no connection string, no driver message

    database_down()  # PostgreSQL is back
    assert client.get("/api/v1/cases", headers=token).status_code == 200


def test_a_page_request_during_the_outage_answers_503_html(app, signed_in, monkeypatch):
    client = signed_in("nurse")

    def refuse(self, *args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(Session, "execute", refuse)
    answer = client.get("/cases")
    assert answer.status_code == 503
    assert answer.mimetype == "text/html"
    assert int(answer.headers["Retry-After"]) > 0
    assert "cannot be reached" in answer.text and "Traceback" not in answer.text
    monkeypatch.undo()
    assert client.get("/cases").status_code == 200


def test_a_database_lost_at_commit_saves_nothing_and_answers_503(
    app, client, session, world, monkeypatch
):
    def lost(self):
        raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))

    monkeypatch.setattr(Session, "commit", lost)
    answer = client.post(
        "/api/v1/cases",
        headers=world.auth("nurse"),
        json=case_data(),
    )
    _assert_503(answer, "service.database_unavailable")
    monkeypatch.undo()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(FamilyCase)) == 0


def test_a_broker_outage_elsewhere_is_a_503_too(app, client, world, monkeypatch):
    """The throttle's counts live in the broker's Redis in production."""
    from redis.exceptions import ConnectionError as RedisDown

    throttle = app.extensions["pmha.throttle"]

    def down(*args, **kwargs):
        raise RedisDown("Error 111 connecting to cache:6379. Connection refused.")

    monkeypatch.setattr(throttle, "check", down)
    answer = client.get("/api/v1/cases", headers=world.auth("nurse"))
    _assert_503(answer, "service.broker_unavailable")


def test_postgresql_connections_are_checked_before_use():
    """A connection the server dropped is replaced, not handed to a request (recovery)."""
    engine = make_engine("postgresql+psycopg://pmha@127.0.0.1:1/pmha")
    assert engine.pool._pre_ping is True
    engine.dispose()


def test_postgresql_connections_cut_by_a_restart_are_replaced(empty_database_url, tmp_path):
    """A restart of PostgreSQL cuts every pooled connection: the next request still answers
    (the pool pings a connection before handing it out and replaces a dead one)."""
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite has no server to restart)")
    from sqlalchemy import text

    from pmha.app import create_app
    from pmha.core import migrate
    from tests import factories
    from tests.conftest import config_for_tests

    app = create_app(config_for_tests(empty_database_url, tmp_path / "var"))
    db = database(app)
    with db.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with db.transaction() as s:
        token = factories.build_world(s).auth("nurse")
    client = app.test_client()
    assert client.get("/api/v1/cases", headers=token).status_code == 200
    admin = make_engine(empty_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert cut >= 1
    assert client.get("/api/v1/cases", headers=token).status_code == 200
    db.engine.dispose()
