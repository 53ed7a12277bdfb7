"""`pmha verify CODE` on the demo's certificates: one valid, one revoked at the PEC."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from pmha.cli import main
from pmha.core.db import make_engine
from pmha.travel.models import Certificate


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PMHA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("PMHA_BROKER_URL", raising=False)
    monkeypatch.delenv("PMHA_ENV", raising=False)
    monkeypatch.delenv("PMHA_STORAGE_DIR", raising=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    run.url = f"sqlite:///{tmp_path / 'cli.db'}"
    return run


def test_verify_says_valid_revoked_and_unknown(cli):
    assert cli("demo", "seed", "--families", "0").exit_code == 0
    engine = make_engine(cli.url)
    with engine.connect() as conn:
        rows = conn.execute(select(Certificate.code, Certificate.revoked_at)).all()
    engine.dispose()
    valid = next(code for code, revoked in rows if revoked is None)
    revoked = next(code for code, revoked in rows if revoked is not None)
    ok = cli("verify", valid)
    assert ok.exit_code == 0 and "VALID" in ok.output and "fit to travel to" in ok.output
    for word in ("tb", "class", "pregnan", "temperature", "escort", "x-ray"):
        assert word not in ok.output.lower()  # who, what, until when: no health details
    bad = cli("verify", revoked)
    assert bad.exit_code == 1 and "REVOKED" in bad.output
    unknown = cli("verify", "TRV-AAAA-BBBB-CCCC")
    assert unknown.exit_code == 1 and "UNKNOWN" in unknown.output
