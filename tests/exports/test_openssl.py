"""Interoperability with stock OpenSSL, both ways: what PMHA seals opens with `openssl cms`, and
what `openssl cms` signs and encrypts imports in PMHA."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pmha.core import file_crypto
from pmha.exports import build, receive
from pmha.exports.models import ImportedTraveller
from tests.exports import keyring
from tests.exports.conftest import build_now

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")


def openssl(*args: str | Path) -> None:
    done = subprocess.run([OPENSSL, *map(str, args)], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


@pytest.fixture()
def bundle(session, world, export_case) -> bytes:
    job = build_now(export_case, session, world)
    return file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))


def test_stock_openssl_decrypts_then_verifies_a_bundle(bundle, tmp_path):
    pems = keyring.write_pems(tmp_path)
    (tmp_path / "bundle.p7m").write_bytes(bundle)
    openssl(
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        tmp_path / "bundle.p7m",
        "-recip",
        pems["authority.pem"],
        "-inkey",
        pems["authority.key"],
        "-out",
        tmp_path / "signed.der",
    )
    openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        tmp_path / "signed.der",
        "-CAfile",
        pems["centre.pem"],
        "-out",
        tmp_path / "bundle.zip",
    )
    files = receive.unpack((tmp_path / "bundle.zip").read_bytes())
    assert "manifest.json" in files
    receive.check_manifest(files)


def test_a_bundle_signed_and_encrypted_by_openssl_imports(
    session, world, export_case, bundle, tmp_path
):
    from tests.exports.test_bad_bundles import inner

    pems = keyring.write_pems(tmp_path)
    (tmp_path / "bundle.zip").write_bytes(inner(bundle))
    openssl(
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-md",
        "sha256",
        "-in",
        tmp_path / "bundle.zip",
        "-signer",
        pems["centre.pem"],
        "-inkey",
        pems["centre.key"],
        "-outform",
        "DER",
        "-out",
        tmp_path / "signed.der",
    )
    openssl(
        "cms",
        "-encrypt",
        "-binary",
        "-aes256",
        "-inform",
        "DER",
        "-in",
        tmp_path / "signed.der",
        "-outform",
        "DER",
        "-out",
        tmp_path / "bundle.p7m",
        pems["authority.pem"],
    )
    data = (tmp_path / "bundle.p7m").read_bytes()
    assert data != bundle
    receive.import_bundle(session, world.actor("receiving_authority"), data, export_case.storage)
    assert session.scalar(select(func.count()).select_from(ImportedTraveller)) == 2
