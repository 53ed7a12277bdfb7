"""The pmha command on its own fresh SQLite database: clear errors, nothing half-written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from pmha.accounts.models import User
from pmha.cli import main
from pmha.core.db import make_engine


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PMHA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("PMHA_BROKER_URL", raising=False)
    monkeypatch.delenv("PMHA_ENV", raising=False)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    run.url = f"sqlite:///{tmp_path / 'cli.db'}"
    run.var = tmp_path
    return run


def count_users(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(User))
    engine.dispose()
    return n


def test_demo_seed_prints_users_once_and_keeps_data(cli):
    first = cli("demo", "seed", "--families", "3")
    assert first.exit_code == 0
    assert "physician" in first.output and "nurse" in first.output
    assert (cli.var / "demo-users.txt").stat().st_mode & 0o777 == 0o600
    second = cli("demo", "seed")
    assert "kept as it is" in second.output
    assert count_users(cli.url) == 9
    assert cli("audit", "verify").output.startswith("audit chain intact")


def test_demo_seed_gives_the_authority_an_arrival(cli):
    """The demo runs both sides: a cleared US family is exported, then imported by the US
    authority, so its Arrivals page has something to open (audited like any import)."""
    assert "see the authority's Arrivals" in cli("demo", "seed", "--families", "3").output
    engine = make_engine(cli.url)
    with engine.connect() as conn:
        travellers = conn.scalar(text("select count(*) from imported_travellers"))
        imports = conn.scalar(
            text(
                "select count(*) from audit_events"
                " where record_type = 'imported_bundle' and action = 'import'"
            )
        )
    engine.dispose()
    assert travellers >= 1 and imports >= 1
    assert cli("audit", "verify").output.startswith("audit chain intact")


def test_create_site_user_and_token(cli):
    assert (
        cli("sites", "create", "--code", "gzt", "--name", "Gaziantep", "--country", "TR").exit_code
        == 0
    )
    result = cli(
        "users",
        "create",
        "--username",
        "Nurse1",
        "--full-name",
        "A Nurse",
        "--role",
        "nurse",
        "--site",
        "GZT",
        "--password",
        "long-enough-password",
    )
    assert result.exit_code == 0, result.output
    token = cli("users", "token", "nurse1", "--name", "integration").output.strip()
    assert token.startswith("pmha_")
    assert "nurse1" in cli("users", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "NOPE"], "Unknown site code: NOPE"),
        (["--password", "short"], "password"),
        (["--username", "bad name"], "username"),
    ],
)
def test_user_create_errors_name_the_problem_and_write_nothing(cli, args, message):
    cli("sites", "create", "--code", "IST", "--name", "Istanbul", "--country", "TR")
    base = {
        "--username": "nurse2",
        "--full-name": "N",
        "--role": "nurse",
        "--site": "IST",
        "--password": "long-enough-password",
    }
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for pair in base.items() for x in pair]
    result = cli("users", "create", *flat)
    assert result.exit_code == 1
    assert message in result.output
    assert count_users(cli.url) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "IST", "--name", "X", "--country", "XX"], "--country"),
        (["--code", "I$", "--name", "X", "--country", "TR"], "--code"),
    ],
)
def test_site_create_errors(cli, args, message):
    result = cli("sites", "create", *args)
    assert result.exit_code == 1 and message in result.output


def test_unknown_user_is_a_clear_error(cli):
    result = cli("users", "unlock", "ghost")
    assert result.exit_code == 1 and "No such user" in result.output


def test_audit_verify_exits_1_on_a_tampered_trail(cli):
    cli("demo", "seed", "--families", "1")
    engine = make_engine(cli.url)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET actor_name = 'someone' WHERE seq = 2"))
    engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at event 2" in result.output


def test_production_without_settings_refuses_to_start(cli, monkeypatch):
    monkeypatch.setenv("PMHA_ENV", "production")
    result = cli("users", "list")
    assert result.exit_code == 1
    assert "production mode needs" in result.output
