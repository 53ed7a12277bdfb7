"""Fixtures of the audit tests: a family case, and the raw connection with the append-only
triggers off (to tamper with the chain inside one test's rollback)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant, FamilyCase
from pmha.cli import main
from pmha.core import audit
from tests.factories import World, make_case


@dataclass
class Family:
    world: World
    case: FamilyCase
    principal: Applicant


@pytest.fixture()
def family(session: Session, world: World) -> Family:
    case = make_case(session, world.actor("nurse"))
    session.commit()
    assert case.principal is not None
    return Family(world, case, case.principal)


@pytest.fixture()
def tamper(connection: Connection, session: Session, family: Family) -> Connection:
    """The raw connection, with the append-only trigger off until the test's rollback.

    A chain of some 26 events: the world's users and tokens, a case and its principal.
    """
    session.commit()
    session.expire_all()
    assert audit.verify(session).ok
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        )
    else:
        connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(text("DROP TRIGGER audit_events_no_delete"))
    return connection


@pytest.fixture()
def cli_db(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`pmha` on a fresh SQLite file: migrated, one site, two users (two audited events)."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("PMHA_DATABASE_URL", url)
    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("PMHA_BROKER_URL", raising=False)
    monkeypatch.delenv("PMHA_ENV", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    site = run("sites", "create", "--code", "IST", "--name", "Istanbul", "--country", "TR")
    assert site.exit_code == 0, site.output
    for name, role in [("nurse1", "nurse"), ("auditor1", "auditor")]:
        result = run("users", "create", "--username", name, "--full-name", name, "--role", role,
                     "--site", "IST", "--password", "long-enough-password")  # fmt: skip
        assert result.exit_code == 0, result.output
    run.url = url  # type: ignore[attr-defined]
    return run
