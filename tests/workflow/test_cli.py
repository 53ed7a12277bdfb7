"""`pmha workflow replan`: the nightly re-plan on demand, for a deploy (issue 21: reads never
write, so applicants never planned appear on worklists once a write or this job plans them)."""

from __future__ import annotations

from sqlalchemy import text

from pmha.core.db import make_engine
from tests.test_cli import cli  # noqa: F401 (the fixture)


def _plans(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = int(conn.scalar(text("select count(*) from workflow_plans")) or 0)
    engine.dispose()
    return n


def test_replan_keeps_the_plans_never_made_and_then_has_nothing_to_do(cli):  # noqa: F811
    assert cli("demo", "seed", "--families", "3").exit_code == 0
    engine = make_engine(cli.url)
    with engine.begin() as conn:  # applicants as a legacy import would leave them: no plan
        conn.execute(text("delete from workflow_plans"))
        applicants = int(conn.scalar(text("select count(*) from applicants")) or 0)
    engine.dispose()
    first = cli("workflow", "replan")
    assert first.exit_code == 0
    assert f"{applicants} applicants looked at, {applicants} plans re-planned" in first.output
    assert _plans(cli.url) == applicants
    again = cli("workflow", "replan")
    assert f"{applicants} applicants looked at, 0 plans re-planned" in again.output
