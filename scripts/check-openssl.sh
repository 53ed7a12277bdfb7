#!/usr/bin/env bash
# The receiving authority's side of an export bundle, with stock OpenSSL only, both ways:
#  1. a bundle PMHA built for a demo case opens with `openssl cms -decrypt` then
#     `openssl cms -verify -binary`, and the zip inside matches its manifest;
#  2. the same zip signed and encrypted by `openssl cms` imports with `pmha import`.
# Runs on a throwaway SQLite database and var directory with the synthetic demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PMHA_ENV=development PMHA_VAR_DIR="$work/var" PMHA_DATABASE_URL="sqlite:///$work/pmha.db"
unset PMHA_BROKER_URL PMHA_RESULT_BACKEND

.venv/bin/pmha db upgrade >/dev/null
.venv/bin/pmha demo seed --families 4 >/dev/null

# Build the bundle of a demo US case through the export job (in-process here), and write the
# authority's key and the centre's certificate out as PEM files for openssl.
"$PY" - "$work" <<'PYTHON'
import sys
from pathlib import Path

from sqlalchemy import select

from pmha.accounts import service as accounts
from pmha.accounts.models import User
from pmha.app import create_app
from pmha.cases.models import FamilyCase
from pmha.config import Config
from pmha.core import file_crypto
from pmha.core.db import database, utcnow
from pmha.exports import build, envelope, keys, service
from pmha.exports.models import ExportJob

work = Path(sys.argv[1])
app = create_app(Config.from_env())
with app.app_context():
    db = database(app)
    with db.transaction() as s:
        user = s.scalar(select(User).where(User.username == "physician"))
        actor = accounts.actor_for(user, ip=None, request_id=None, via="cli")
        case = s.scalar(
            select(FamilyCase)
            .where(FamilyCase.destination == "US", FamilyCase.site_id.in_(actor.site_ids))
            .limit(1)
        )
        job_id = service.request_export(s, actor, case.id).id
    with db.transaction() as s:
        job = s.get(ExportJob, job_id)
        assert job.bundle_id is not None, f"the export job failed: {job.error_code}"
        path = build.bundle_path(Path(app.extensions["pmha.config"].STORAGE_DIR), job.bundle_id)
        # what a download hands the authority (storage keeps it encrypted at rest)
        (work / "bundle.p7m").write_bytes(file_crypto.read(path))
        authority = keys.decryption_keys(s, "US")[0]
        (work / "authority.pem").write_bytes(envelope.cert_pem(authority.certificate))
        (work / "authority.key").write_bytes(envelope.key_pem(authority.private_key))
        _, centre = keys.signer(s, case.site_id, utcnow().date())
        (work / "centre.pem").write_bytes(envelope.cert_pem(centre.certificate))
        (work / "centre.key").write_bytes(envelope.key_pem(centre.private_key))
PYTHON
chmod 600 "$work"/*.key

echo "PMHA -> openssl: decrypt, then verify the signature"
openssl cms -decrypt -binary -inform DER -in "$work/bundle.p7m" \
  -recip "$work/authority.pem" -inkey "$work/authority.key" -out "$work/signed.der"
openssl cms -verify -binary -inform DER -in "$work/signed.der" -CAfile "$work/centre.pem" \
  -out "$work/bundle.zip"
"$PY" - "$work/bundle.zip" <<'PYTHON'
import sys
from pathlib import Path

from pmha.exports import receive

files = receive.unpack(Path(sys.argv[1]).read_bytes())
manifest = receive.check_manifest(files)
print(f"  the zip inside holds {len(files)} files, every one matching the manifest's SHA-256")
PYTHON

echo "openssl -> PMHA: sign and encrypt with openssl, then pmha import"
openssl cms -sign -binary -nodetach -md sha256 -in "$work/bundle.zip" \
  -signer "$work/centre.pem" -inkey "$work/centre.key" -outform DER -out "$work/resigned.der"
openssl cms -encrypt -binary -aes256 -inform DER -in "$work/resigned.der" -outform DER \
  -out "$work/openssl.p7m" "$work/authority.pem"
.venv/bin/pmha import "$work/openssl.p7m" --destination US
echo "OpenSSL interoperability: both ways OK"
