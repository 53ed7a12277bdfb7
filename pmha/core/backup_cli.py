"""`pmha backup create PATH` and `pmha backup restore PATH [--force]` (pmha.core.backup)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from pmha.cli_app import app_from_env, operator


@click.group("backup")
def backup() -> None:
    """Back up and restore the database and the storage folder (one archive)."""


@backup.command("create")
@click.argument("path", type=click.Path(path_type=Path))
def backup_create(path: Path) -> None:
    """Write an archive to PATH (a new file, or a folder to name it in by time)."""
    from pmha.core import audit
    from pmha.core import backup as service
    from pmha.core.db import database

    app = app_from_env()
    config = app.extensions["pmha.config"]
    db = database(app)
    actor = operator()
    try:
        path = service.archive_path(path, datetime.now(UTC))
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    # The backup reads every record: say so in the trail, inside the archive it makes.
    with db.transaction() as session:
        audit.record(session, actor, "backup", "database", details={"kind": "full"})
    try:
        result = service.create(
            db.engine, config.DATABASE_URL, Path(config.STORAGE_DIR), path, db.audit_key.encode()
        )
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = result.manifest
    rows = sum(manifest["counts"].values())
    click.echo(f"backup written: {result.path}")
    click.echo(
        f"  {manifest['engine']} at schema {manifest['migration_head']}, {rows} rows in "
        f"{len(manifest['counts'])} tables, {manifest['audit_events']} audit events, "
        f"{len(manifest['files']) - 1} stored files"
    )


@backup.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database or storage that holds data.")
def backup_restore(path: Path, force: bool) -> None:
    """Check the archive at PATH, restore it, and verify the audit chain."""
    from pmha.audit import service as audit_service
    from pmha.core import audit
    from pmha.core import backup as service
    from pmha.core.db import database

    app = app_from_env()
    config = app.extensions["pmha.config"]
    db = database(app)
    storage = Path(config.STORAGE_DIR)
    try:
        result = service.restore(
            db.engine,
            config.DATABASE_URL,
            storage,
            path,
            db.audit_key.encode(),
            force=force,
        )
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = result.manifest
    click.echo(
        f"restored the backup of {manifest['created_at']}: {sum(result.counts.values())} rows "
        f"in {len(result.counts)} tables, {result.files} stored files (counts and digests match "
        "the manifest)"
    )
    if result.moved_aside:
        click.echo(f"the storage found before was moved to {result.moved_aside}")
    if result.upgraded_from:
        click.echo(f"the schema was upgraded from {result.upgraded_from} to the latest")
    with db.transaction() as session:
        verdict = audit_service.verify(session, storage)
    if not verdict.ok:
        click.echo(verdict.summary, err=True)  # names an unsealed event by its id (issue 20)
        sys.exit(1)
    actor = operator()
    with db.transaction() as session:
        audit.record(
            session,
            actor,
            "restore",
            "database",
            details={"backup_created_at": manifest["created_at"], "events": verdict.events},
        )
    with db.transaction() as session:
        sealed = audit_service.verify_and_checkpoint(session, storage)
    click.echo(
        f"audit chain intact: {sealed.events} events (the restore recorded and sealed)"
        if sealed.ok
        else sealed.summary
    )
    if not sealed.ok:
        sys.exit(1)
