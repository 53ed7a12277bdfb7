"""`pmha verify CODE`: check a clearance certificate's code or QR token from a shell."""

from __future__ import annotations

import sys

import click


@click.command("verify")
@click.argument("code")
def verify(code: str) -> None:
    """Check a certificate's verification code (or the text its QR code holds): exit 0 when it
    stands, 1 when it is revoked, expired, unknown or not genuine."""
    from pmha.cli import _app
    from pmha.core.db import database
    from pmha.travel import certificates

    app = _app()
    with app.app_context(), database(app).transaction() as session:
        found = certificates.verify(session, code)
    if found.statement:
        s = found.statement
        click.echo(
            f"{s['code']}: {s['who']['name']}, born {s['who']['dob']}, case {s['who']['case']}"
        )
        click.echo(
            f"  fit to travel to {s['to']} on {s['flight']} ({s['departs']}), until {s['until']}"
        )
    words = {
        "valid": "VALID: the certificate stands",
        "revoked": f"REVOKED on {found.revoked_on}: do not accept it",
        "expired": "EXPIRED",
        "unknown": "UNKNOWN: no certificate has this code",
        "forged": "NOT GENUINE: the signature does not match",
        "other_key": "CANNOT CHECK: signed with a key this service no longer holds",
    }
    click.echo(words[found.status], err=not found.ok)
    if not found.ok:
        sys.exit(1)
