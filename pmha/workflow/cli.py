"""`pmha workflow`: the workflow's maintenance commands."""

from __future__ import annotations

import click


@click.group("workflow")
def workflow() -> None:
    """The workflow's plans."""


@workflow.command("replan")
def replan() -> None:
    """Re-plan and keep every plan that is out of date today (a new day, a rule update, a
    registry change, or never planned), as the nightly job does: run it after a deploy that
    changes the rules or brings applicants never planned, so that worklists show them at once.
    Idempotent; prints counts only (no health data)."""
    from pmha.cli_app import app_from_env
    from pmha.workflow.tasks import replan_out_of_date

    app = app_from_env()
    with app.app_context():
        counts = replan_out_of_date()
    click.echo(
        f"workflow replan: {counts['applicants']} applicants looked at, "
        f"{counts['replanned']} plans re-planned and kept"
    )
