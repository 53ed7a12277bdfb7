"""`pmha files new-key ID` and `pmha files rotate`: the keys that encrypt stored files at rest
(pmha.core.file_crypto)."""

from __future__ import annotations

from pathlib import Path

import click

from pmha.cli_app import app_from_env, operator


@click.group("files")
def files() -> None:
    """Stored files (X-rays, attachments, bundles, imports) encrypted at rest."""


@files.command("new-key")
@click.argument("key_id")
def files_new_key(key_id: str) -> None:
    """Print a new file key 'ID:base64'. Put it FIRST in PMHA_FILE_KEYS, keep the old keys after
    it, restart, then run `pmha files rotate`; drop an old key only after that."""
    from pmha.core.file_crypto import FileKeyError, new_key_text, parse_keys

    text = new_key_text(key_id)
    try:
        parse_keys(text)
    except FileKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text)


@files.command("rotate")
def files_rotate() -> None:
    """Re-encrypt every stored file under the current (first) key of PMHA_FILE_KEYS; files
    stored before encryption at rest are encrypted too. Safe to run again or to interrupt."""
    from pmha.core import audit, file_crypto
    from pmha.core.db import database

    app = app_from_env()
    storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
    try:
        rewritten, current = file_crypto.rotate(storage)
    except file_crypto.FileKeyError as exc:
        raise click.ClickException(
            f"{exc}: add the key it was stored with to PMHA_FILE_KEYS"
        ) from None
    with database(app).transaction() as session:
        audit.record(
            session,
            operator(),
            "rotate",
            "stored_files",
            details={"rewritten": rewritten, "current": current},
        )
    click.echo(f"{rewritten} file(s) re-encrypted under the current key; {current} already were")
