"""`pmha certificates keys|rotate-key` from a shell [issue 17]: the development key retired
to storage stays in the published key list (a JWK Set, RFC 7517 section 5)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pmha.cli import main


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PMHA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    for name in ("PMHA_BROKER_URL", "PMHA_ENV", "PMHA_STORAGE_DIR", "PMHA_CERTIFICATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    return run


def test_rotate_key_retires_the_development_key_and_keeps_it_published(cli, monkeypatch):
    first = json.loads(cli("certificates", "keys").output)["keys"]
    assert [k["status"] for k in first] == ["current"]
    rotated = cli("certificates", "rotate-key")
    assert rotated.exit_code == 0 and rotated.output.startswith("Retired key ")
    keys = json.loads(cli("certificates", "keys").output)["keys"]
    assert sorted(k["status"] for k in keys) == ["current", "retired"]
    assert next(k for k in keys if k["status"] == "retired")["x"] == first[0]["x"]
    # a configured key is rotated in the configuration, not here
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    monkeypatch.setenv("PMHA_CERTIFICATE_KEY", pem.decode())
    refused = cli("certificates", "rotate-key")
    assert refused.exit_code == 1 and "PMHA_CERTIFICATE_OLD_KEYS" in refused.output
