"""`pmha exports add-certificate|list` and `pmha import` on a fresh SQLite database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pmha.cli import main
from tests.exports.keyring import pair, pem


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PMHA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("PMHA_BROKER_URL", raising=False)
    monkeypatch.delenv("PMHA_ENV", raising=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    run.var = tmp_path
    return run


def test_certificates_are_registered_and_listed_without_keys(cli, tmp_path):
    cert, key = pem(pair("NZ authority 2025"))
    (tmp_path / "a.pem").write_bytes(cert)
    (tmp_path / "a.key").write_bytes(key)
    done = cli(
        "exports",
        "add-certificate",
        "encryption",
        tmp_path / "a.pem",
        "--destination",
        "NZ",
        "--use-from",
        "2026-01-01",
    )
    assert done.exit_code == 0, done.output
    assert "in use from 2026-01-01" in done.output
    done = cli(
        "exports",
        "add-certificate",
        "decryption",
        tmp_path / "a.pem",
        "--key",
        tmp_path / "a.key",
        "--destination",
        "NZ",
    )
    assert done.exit_code == 0, done.output
    listed = cli("exports", "list").output
    assert "encryption" in listed and "decryption" in listed
    assert "PRIVATE KEY" not in listed


def test_a_signing_key_without_its_key_file_is_refused(cli, tmp_path):
    cert, _ = pem(pair("PMHA IST test centre"))
    (tmp_path / "c.pem").write_bytes(cert)
    done = cli(
        "exports", "add-certificate", "decryption", tmp_path / "c.pem", "--destination", "US"
    )
    assert done.exit_code != 0
    assert "needs its private key" in done.output


def test_importing_a_file_that_is_not_a_bundle_is_refused(cli, tmp_path):
    (tmp_path / "x.p7m").write_bytes(b"not a bundle")
    done = cli("import", tmp_path / "x.p7m", "--destination", "US")
    assert done.exit_code != 0
    assert "no key to open bundles" in done.output
