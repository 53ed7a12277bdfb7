"""Refusal is not a waiver, in the browser: a US adult who declines the chest X-ray.

Everything else is done; the radiologist finds no "Waive" for the X-ray (no rule file allows
one for a screening test), marks it not done with "The applicant declined the test", and the
page says what would settle it while the family stays Pending. Before issue 14 the same step
could be waived "Refused" and the applicant showed Cleared.

Source: BRIEF 1.2 [S1] (a chest X-ray for applicants of 15 and over); 1.5 [S13f] (a refusal
is recorded as such, not waived).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from pmha.core.db import database
from pmha.rules import vocabulary as vocab
from pmha.workflow import service
from pmha.workflow.commands import FactsUpdate, NewResult
from pmha.workflow.facts import FLAGS
from pmha.workflow.roles import permission_for
from tests import factories
from tests.e2e.conftest import LiveServer, fresh_app, serving

pytestmark = pytest.mark.e2e
ROLES = ("panel_physician", "nurse", "radiologist", "lab_technician")


@pytest.fixture(scope="module")
def all_but_the_xray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A US adult refugee with every medical step done except the chest X-ray [S1]."""
    app = fresh_app(tmp_path_factory, "e2e-settling")
    db = database(app)
    rules = app.extensions["pmha.rules"]
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        case = factories.make_case(
            session,
            world.actor("nurse"),
            principal=factories.applicant_data(given_names="Nadia", sex="female"),
        )
        applicant_id = case.applicants[0].id
        facts = {"exam_date": date.today(), **dict.fromkeys(FLAGS, False)}
        found = service.set_facts(
            session, world.actor("panel_physician"), rules, applicant_id, FactsUpdate(**facts)
        )
        for step in found.steps:
            if step.code == "chest_xray" or step.planned_status != "required":
                continue
            role = next(r for r in ROLES if world.actor(r).can(permission_for(step.code)))
            record = NewResult(code=step.code, value=vocab.reassuring(step.code), date=date.today())
            # Setup only: each result stands for its own record (exam section, lab result).
            service.record_result(
                session, world.actor(role), rules, applicant_id, record, owner=True
            )
        case_id = str(case.id)
    with serving(app, "e2e-settling") as server:
        yield server, case_id


def test_a_declined_xray_is_marked_not_done_and_the_family_stays_pending(
    page: Page, all_but_the_xray: tuple[LiveServer, str], shoot
) -> None:
    live, case_id = all_but_the_xray
    page.goto(live("/login"))
    page.get_by_label("Username").fill("t_radiologist")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    page.goto(live(f"/cases/{case_id}/workflow"))
    badge = page.get_by_role("region", name="Family clearance").locator(".badge")
    expect(badge).to_have_text("Pending")
    row = page.locator("table.steps tr").filter(
        has=page.locator(".req-name", has_text=re.compile(r"^Chest X-ray$"))
    )
    # No waiver is offered for a screening test: only "Mark not done or block".
    expect(row.get_by_text("Mark not done or block")).to_be_visible()
    expect(row.get_by_label("Reason to waive Chest X-ray")).to_have_count(0)
    row.get_by_text("Mark not done or block").click()
    row.get_by_label("Why Chest X-ray was not done").select_option(
        label="The applicant declined the test"
    )
    shoot("xray-declined")
    row.get_by_role("button", name="Mark not done").click()
    expect(page.get_by_role("status")).to_contain_text("Chest X-ray: marked not done.")
    row = page.locator("table.steps tr").filter(
        has=page.locator(".req-name", has_text=re.compile(r"^Chest X-ray$"))
    )
    expect(row).to_contain_text("Not done")
    expect(row).to_contain_text("The applicant declined the test")
    expect(row).to_contain_text("To settle it: record the Chest X-ray result.")
    expect(badge).to_have_text("Pending")
    shoot("xray-not-done-pending")
