"""`pmha exports ...` (certificates, keys) and `pmha import BUNDLE.p7m` on the receiving side."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import click

from pmha.cli_app import app_from_env, fail, operator
from pmha.core.auth import Actor, Role
from pmha.core.errors import AppError


@click.group()
def exports() -> None:
    """Export bundles: the receiving authorities' certificates and the centre's signing key."""


@exports.command("add-certificate")
@click.argument(
    "purpose", type=click.Choice(["signing", "encryption", "decryption", "trusted_sender"])
)
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the private key (PEM), for signing and decryption",
)
@click.option("--destination", help="the authority's destination (US, CA, ...)")
@click.option("--site", "site_code", help="the centre's site code, for a signing key")
@click.option("--sender", "sender_code", help="the centre a trusted sender's key signs for")
@click.option("--use-from", type=click.DateTime(["%Y-%m-%d"]), help="rotation: first day of use")
def add_certificate(
    purpose: str,
    certificate: Path,
    key_file: Path | None,
    destination: str | None,
    site_code: str | None,
    sender_code: str | None,
    use_from: dt.datetime | None,
) -> None:
    """Register a certificate; a new authority certificate is used from its start date."""
    from sqlalchemy import select

    from pmha.cases.models import Site
    from pmha.core.db import database
    from pmha.exports import keys
    from pmha.exports.models import Purpose

    app = app_from_env()
    with app.app_context(), database(app).transaction() as session:
        site_id: uuid.UUID | None = None
        if site_code:
            site_id = session.scalar(select(Site.id).where(Site.code == site_code))
            if site_id is None:
                raise click.ClickException(f"No site {site_code}.")
        try:
            row = keys.add_certificate(
                session,
                operator(),
                Purpose(purpose),
                certificate.read_bytes(),
                key_pem=key_file.read_bytes() if key_file else None,
                destination=destination,
                site_id=site_id,
                use_from=use_from.date() if use_from else None,
                sender_code=sender_code,
            )
        except AppError as exc:
            raise fail(exc) from None
        click.echo(
            f"Registered {purpose} certificate {row.fingerprint[:16]}… in use from {row.use_from}"
        )


@exports.command("list")
def list_certificates() -> None:
    """The registered certificates (no private keys are shown)."""
    from pmha.core.db import database
    from pmha.exports import keys

    app = app_from_env()
    with app.app_context(), database(app).transaction() as session:
        for row in keys.certificates(session):
            click.echo(
                f"{row.purpose.value:15} {row.destination or '--':3} {row.use_from} "
                f"{row.not_after:%Y-%m-%d} {row.fingerprint[:16]} {row.label}"
            )


@click.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--destination", required=True, help="the receiving authority's destination")
def import_command(bundle: Path, destination: str) -> None:
    """Verify and load a bundle (.p7m) for a receiving authority, all or nothing."""
    from pmha.core.context import storage
    from pmha.core.db import database
    from pmha.exports import receive

    app = app_from_env()
    actor = Actor(
        None,
        "cli:import",
        frozenset({Role.RECEIVING_AUTHORITY}),
        frozenset(),
        via="cli",
        destination=destination,
    )
    with app.app_context(), database(app).transaction() as session:
        try:
            row = receive.import_bundle(session, actor, bundle.read_bytes(), storage())
        except AppError as exc:
            raise fail(exc) from None
        click.echo(
            f"Imported bundle {row.id}: {len(row.manifest.get('travellers', []))} travellers"
        )
