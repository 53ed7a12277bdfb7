"""A case of the demo exports, opens with stock OpenSSL, and imports on the receiving side:
scripts/check-openssl.sh run end to end (demo seed, export job, `openssl cms -decrypt` then
`-verify`, and an openssl-sealed bundle through `pmha import`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_demo_case_exports_opens_with_openssl_and_imports() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMHA_")}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check-openssl.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=600,
        check=False,
    )
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, out[-3000:]
    assert "CMS Verification successful" in out
    assert "every one matching the manifest's SHA-256" in out
    assert "Imported bundle" in out and "both ways OK" in out
