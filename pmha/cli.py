"""The `pmha` command: database, users, sites, demo data, audit, serving."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from pmha.cli_app import app_from_env as _app
from pmha.cli_app import fail as _fail
from pmha.cli_app import operator as _operator
from pmha.core.auth import Role
from pmha.core.errors import AppError


@click.group()
def main() -> None:
    """PMHA: migration health assessment service."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the database to the latest schema."""
    from pmha.core import migrate
    from pmha.core.db import database

    app = _app()
    with database(app).engine.begin() as conn:
        migrate.upgrade(connection=conn, rev=revision)
    click.echo("database is at the latest schema")


@main.group()
def sites() -> None:
    """Assessment centres."""


@sites.command("create")
@click.option("--code", required=True, help="Short code that prefixes case numbers, e.g. IST")
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-2, e.g. TR")
def sites_create(code: str, name: str, country: str) -> None:
    """Add an assessment centre."""
    from marshmallow import ValidationError

    from pmha.cases.models import Site
    from pmha.core.db import database
    from pmha.core.schemas import country_code

    code = code.strip().upper()
    if not (2 <= len(code) <= 8 and code.isalnum()):
        raise click.ClickException("--code: use 2 to 8 letters or digits")
    try:
        country_code(country)
    except ValidationError as exc:
        raise click.ClickException(f"--country: {exc.messages}") from None
    app = _app()
    with database(app).transaction() as session:
        if session.scalar(select(Site.id).where(Site.code == code)):
            raise click.ClickException(f"--code: site {code} exists already")
        session.add(Site(code=code, name=name.strip(), country=country))
    click.echo(f"site {code} created")


@sites.command("list")
def sites_list() -> None:
    """List assessment centres."""
    from pmha.accounts import service
    from pmha.core.db import database

    with database(_app()).transaction() as session:
        for site in service.sites(session):
            click.echo(f"{site.code}\t{site.country}\t{site.name}")


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role])
)
@click.option("--site", "sites_", multiple=True, help="Site code; repeat for several")
@click.option("--destination", help="For receiving_authority users: US, CA, AU, NZ or GB")
@click.option("--password", help="Prompted for when left out", default=None)
@click.option(
    "--registration-number",
    default=None,
    help="Professional registration (medical council, ...): physicians need it to sign",
)
def users_create(
    username: str,
    full_name: str,
    roles: tuple[str, ...],
    sites_: tuple[str, ...],
    destination: str | None,
    password: str | None,
    registration_number: str | None,
) -> None:
    """Create a user with roles at sites."""
    from pmha.accounts import service
    from pmha.core.db import database

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app()
    try:
        with database(app).transaction() as session:
            service.create_user(
                session,
                _operator(),
                username=username,
                full_name=full_name,
                registration_number=registration_number,
                password=password or "",
                roles=[Role(r) for r in roles],
                site_codes=[s.upper() for s in sites_],
                destination=destination,
            )
    except AppError as exc:
        raise _fail(exc) from None
    click.echo(f"user {username.lower()} created")


def _user_verb(username: str, verb: Any) -> None:
    from pmha.accounts import service
    from pmha.core.db import database

    try:
        with database(_app()).transaction() as session:
            verb(session, service.get_user(session, username))
    except AppError as exc:
        raise _fail(exc) from None


@users.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Lift a lockout after failed sign-ins."""
    from pmha.accounts import service

    _user_verb(username, lambda s, u: service.unlock(s, _operator(), u))
    click.echo(f"user {username} unlocked")


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Stop a user from signing in; their sessions end."""
    from pmha.accounts import service

    _user_verb(username, lambda s, u: service.set_active(s, _operator(), u, False))
    click.echo(f"user {username} deactivated")


@users.command("reset-password")
@click.argument("username")
def users_reset_password(username: str) -> None:
    """Set a new password (prompted)."""
    from pmha.accounts import service

    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _user_verb(username, lambda s, u: service.reset_password(s, _operator(), u, password))
    click.echo(f"password of {username} changed")


@users.command("token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'EDN export'")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 365))
def users_token(username: str, name: str, days: int) -> None:
    """Issue an API bearer token; it is printed once and never stored."""
    from pmha.accounts import service

    out: list[str] = []
    _user_verb(
        username, lambda s, u: out.append(service.create_token(s, _operator(), u, name, days))
    )
    click.echo(out[0])


@users.command("tokens")
@click.argument("username")
def users_tokens(username: str) -> None:
    """List a user's API tokens: id, name, state, created, expires, last used."""
    from pmha.accounts import service

    rows: list[str] = []

    def collect(session: Any, user: Any) -> None:
        for t in service.tokens_of(session, user):
            used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
            expires = t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "-"
            rows.append(
                f"{t.id}  {service.token_state(t):<8} {t.created_at:%Y-%m-%d}  "
                f"expires {expires}  last used {used}  {t.name}"
            )

    _user_verb(username, collect)
    click.echo("\n".join(rows) if rows else f"{username} has no tokens")


@users.command("revoke-token")
@click.argument("username")
@click.option("--token", "token_id", type=click.UUID, help="The token's id (see `users tokens`)")
@click.option("--all", "every", is_flag=True, help="Revoke every live token of the user")
def users_revoke_token(username: str, token_id: Any, every: bool) -> None:
    """Revoke one token of a user, or all of them (audited)."""
    from pmha.accounts import service

    if (token_id is None) == (not every):
        raise click.UsageError("Give either --token ID or --all.")
    counts: list[int] = []
    _user_verb(
        username,
        lambda s, u: counts.append(service.revoke_tokens(s, _operator(), u, token_id)),
    )
    click.echo(f"revoked {counts[0]} token(s) of {username}")


@users.command("list")
def users_list() -> None:
    """List users with roles, sites and state."""
    from pmha.accounts import service
    from pmha.core.db import database

    with database(_app()).transaction() as session:
        codes = {s.id: s.code for s in service.sites(session)}
        for user in service.list_users(session):
            d = service.describe(user, codes)
            state = "inactive" if not d["active"] else ("locked" if d["locked"] else "active")
            click.echo(f"{d['username']}\t{','.join(d['roles'])}\t{','.join(d['sites'])}\t{state}")


@main.group()
def demo() -> None:
    """Synthetic demonstration data."""


@demo.command("seed")
@click.option("--families", default=12, show_default=True, type=click.IntRange(0, 100_000))
def demo_seed(families: int) -> None:
    """Seed a demo centre, one user per role and synthetic families (only into an empty db)."""
    from pmha import demo as demo_data
    from pmha.core.db import database

    app = _app()
    if app.extensions["pmha.config"].production:
        # Synthetic people beside real ones would be a hazard (and a production centre has no
        # use for demo passwords): refused in words, never half-seeded.
        click.echo(
            "Demo data is for development and training; it is never seeded into production "
            "(PMHA_ENV=production). Use a separate development database.",
            err=True,
        )
        sys.exit(2)
    db = database(app)
    with db.transaction() as session:
        created = demo_data.seed(session, families=families)
    if created is None:
        click.echo("demo data present already: kept as it is (passwords in var/demo-users.txt)")
        return
    with app.app_context():
        from pmha.exports import demo as exports_demo

        storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
        if exports_demo.seed_arrival(db, storage):
            click.echo(
                "A cleared US family was exported and imported: see the authority's Arrivals."
            )
    click.echo("Demo users (synthetic centre; change these before any real use):")
    for username, role, password in created:
        click.echo(f"  {username:<14} {role:<20} {password}")


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain against itself and the signed checkpoints kept in storage; when it
    is intact, seal it with a new checkpoint. Exits 1 and names the first broken event."""
    from pmha.audit import service
    from pmha.core.db import database

    app = _app()
    storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
    with database(app).transaction() as session:
        result = service.verify_and_checkpoint(session, storage)
    if result.ok:
        click.echo(result.summary)  # "...; N events not yet sealed" when the sealer is behind
        click.echo(
            f"checked against {result.checkpoints} checkpoint(s); sealed with a new one",
            err=True,
        )
        return
    click.echo(result.summary, err=True)
    sys.exit(1)


@audit.command("seal")
def audit_seal() -> None:
    """Chain the audit events written but not yet sealed (what the beat does every minute)."""
    from pmha.audit import service
    from pmha.core.db import database

    with database(_app()).transaction() as session:
        count = service.seal(session)
    click.echo(f"sealed {count} audit events")


@main.group()
def jobs() -> None:
    """Background jobs: the outbox and stuck jobs."""


@jobs.command("sweep")
def jobs_sweep() -> None:
    """Send the outbox's unsent jobs and queue again those whose worker died (the beat does
    this every minute)."""
    from pmha.core.tasks import sweep_now

    app = _app()
    with app.app_context():
        click.echo(f"jobs sweep: {sweep_now(app)}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve on the embedded default (development server, jobs in-process)."""
    from werkzeug.serving import run_simple

    app = _app()
    click.echo(f"PMHA is serving on http://{host}:{port}  (Ctrl-C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _register_domain_commands() -> None:
    from pmha.exports.cli import exports, import_command
    from pmha.rules.cli import rules
    from pmha.travel.cli import certificates_group, verify
    from pmha.vaccines.cdsi.cli import vaccines
    from pmha.workflow.cli import workflow

    main.add_command(exports)
    main.add_command(import_command)
    main.add_command(rules)
    main.add_command(verify)
    main.add_command(certificates_group)
    main.add_command(vaccines)
    main.add_command(workflow)
    from pmha.core.backup_cli import backup
    from pmha.core.files_cli import files

    main.add_command(backup)
    main.add_command(files)


_register_domain_commands()

if __name__ == "__main__":
    main()
