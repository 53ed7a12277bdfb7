"""Clearance certificates from a shell.

`pmha verify CODE` checks a code against this service's database (does it still stand?);
`pmha certificates keys` prints the published key list; `pmha certificates rotate-key` retires
the development key; `pmha certificates verify-offline` checks a signed code with nothing but a
key list (a file saved from GET /.well-known/pmha-certificate-keys): no database, no service.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click

from pmha.cli_app import app_from_env


def _describe(s: dict[str, Any]) -> None:
    who = s["who"]
    click.echo(f"{s['code']}: {who['name']}, born {who['dob']}, case {who['case']}")
    document = who.get("document")
    if document:
        label = "passport" if document["type"] == "passport" else "travel document"
        click.echo(f"  {label} {document['number']} ({document['country']})")
    click.echo(
        f"  fit to travel to {s['to']} on {s['flight']} ({s['departs']}), until {s['until']}"
    )
    signatory = s.get("signatory")
    if signatory:
        click.echo(
            f"  signed by {signatory['name']}, {signatory['role']}, "
            f"reg. {signatory['registration']}; issued {s['issued']} by {s.get('centre', s['by'])}"
        )


@click.command("verify")
@click.argument("code")
def verify(code: str) -> None:
    """Check a certificate's verification code (or the text its QR code holds): exit 0 when it
    stands, 1 when it is revoked, expired, unknown or not genuine."""
    from pmha.core.db import database
    from pmha.travel import certificates

    app = app_from_env()
    with app.app_context(), database(app).transaction() as session:
        found = certificates.verify(session, code)
    if found.statement:
        _describe(found.statement)
    words = {
        "valid": "VALID: the certificate stands",
        "revoked": f"REVOKED on {found.revoked_on}: do not accept it",
        "expired": "EXPIRED",
        "unknown": "UNKNOWN: no certificate has this code",
        "forged": "NOT GENUINE: the signature does not match",
        "other_key": "CANNOT CHECK: signed with a key that is not in the published key list",
        "malformed": "NOT A CERTIFICATE CODE",
    }
    click.echo(words[found.status], err=not found.ok)
    if found.message and not found.ok:
        click.echo(f"  {found.message}", err=True)
    if not found.ok:
        sys.exit(1)


@click.group("certificates")
def certificates_group() -> None:
    """Clearance certificates: the published keys, key rotation, offline verification."""


@certificates_group.command("keys")
def keys() -> None:
    """Print the published key list (JSON), as GET /.well-known/pmha-certificate-keys serves it."""
    from pmha.core.db import database
    from pmha.travel import certificates

    app = app_from_env()
    with app.app_context(), database(app).transaction() as session:
        click.echo(json.dumps(certificates.key_list(session), indent=2))


@certificates_group.command("rotate-key")
def rotate_key() -> None:
    """Development: retire the signing key kept under storage and make a new one. Certificates
    already issued keep verifying: the retired key stays published. In production, set the new
    key in PMHA_CERTIFICATE_KEY and add the old public key to PMHA_CERTIFICATE_OLD_KEYS."""
    from pmha.core.db import database
    from pmha.travel import certificates, signing

    app = app_from_env()
    config = app.extensions["pmha.config"]
    if config.production or config.CERTIFICATE_KEY:
        raise click.ClickException(
            "The signing key comes from PMHA_CERTIFICATE_KEY: rotate it there, and add the old "
            "public key to PMHA_CERTIFICATE_OLD_KEYS."
        )
    with app.app_context(), database(app).transaction() as session:
        certificates.record_key(session, certificates.signer())  # published even if unused
        old, new = signing.rotate(config.STORAGE_DIR)
        certificates.record_key(session, certificates.signer())
    click.echo(f"Retired key {old}; signing now with key {new}.")


@certificates_group.command("verify-offline")
@click.option(
    "--keys",
    "keys_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the key list saved from /.well-known/pmha-certificate-keys",
)
@click.option("--code", help="the signed code (HC1:...) the QR code holds")
@click.option(
    "--code-file",
    type=click.File("r"),
    help="a file holding the signed code instead of --code (- reads standard input)",
)
def verify_offline(keys_file: Path, code: str | None, code_file: IO[str] | None) -> None:
    """Check a signed code with the published keys alone (no database, no network): exit 0 when
    the signature is genuine and the certificate is within its validity, 1 otherwise.
    Revocation is known only to the issuing service: check /verify when you can."""
    from pmha.travel.verifier import VerifyError, check, keys_from_json

    if code_file is not None:
        code = code_file.read()
    if not code:
        raise click.UsageError("Give the signed code with --code or --code-file.")
    try:
        data = json.loads(keys_file.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException("The key file is not JSON: save the key list again.") from exc
    try:
        keys = keys_from_json(data)
    except VerifyError as exc:
        raise click.ClickException(exc.message) from exc
    try:
        checked = check(code, keys)
    except VerifyError as exc:
        words = {
            "malformed": "NOT A CERTIFICATE CODE",
            "unknown_key": "UNKNOWN KEY",
            "forged": "NOT GENUINE",
        }
        click.echo(f"{words.get(exc.status, exc.status.upper())}: {exc.message}", err=True)
        sys.exit(1)
    _describe(checked.statement)
    click.echo(f"  signed with key {checked.kid_b64}" + (" (older PMHA1 code)" * checked.legacy))
    if checked.expired(datetime.now(UTC).date()):
        click.echo("EXPIRED: the signature is genuine, but the validity has ended", err=True)
        sys.exit(1)
    click.echo(
        "GENUINE: the signature matches a published key (whether it was revoked since is "
        "known only online, at the issuing service's /verify page)"
    )
