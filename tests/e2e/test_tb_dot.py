"""A Class A applicant in the browser, from diagnosis to clearance: diagnosed six months ago
(X-ray, smear, culture, NAAT, DST), the physician reads the Class A classification and its
rationale, confirms it and starts 2HRZE/4HR under DOT from that date; six months of daily doses
are generated (a few missed, one dose left for today); the DOT worker records today's last dose
from the daily list; the physician reads the adherence chart, closes the treatment as cured, sees
the re-classification to Class B0 and the clearance, and confirms it; the programme summary
counts the outcome."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pmha.core.auth import Actor, Role
from pmha.core.db import database
from pmha.tb_dot import demo
from pmha.tb_dot.models import TbEpisode
from tests import factories
from tests.e2e.conftest import LiveServer, fresh_app, serving
from tests.e2e.test_workflow import sign_in, sign_out
from tests.tb_dot.helpers import TODAY, finish_other_steps, tb_patient

pytestmark = pytest.mark.e2e


# 2HRZE/4HR is 182 doses; with the days demo.NOT_OBSERVED leaves out, one is left for today.
BEGUN = TODAY - dt.timedelta(days=182 + len(demo.NOT_OBSERVED) - 1)
DIAGNOSED = BEGUN - dt.timedelta(days=3)


@dataclass
class TbServer:
    url: LiveServer
    app: Flask
    workflow_page: str  # the patient's case


@pytest.fixture(scope="module")
def tb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TbServer]:
    """The app with one US-bound patient diagnosed with pulmonary TB six months ago, not yet
    on treatment; every other step of the exam done."""
    app = fresh_app(tmp_path_factory, "e2e-tb")
    db = database(app)
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        applicant = tb_patient(session, app, world, diagnosed=DIAGNOSED, family_name="Rahimi",
                               given_names="Karim", family_name_original=None,
                               given_names_original=None)  # fmt: skip
        finish_other_steps(session, app, world, applicant, DIAGNOSED)
        workflow_page = f"/cases/{applicant.case_id}/workflow"
    with serving(app, "e2e-tb") as server:
        yield TbServer(server, app, workflow_page)


def _six_months_of_doses(app: Flask) -> None:
    """What the DOT worker and the lab recorded since the start, generated: a dose a day to
    yesterday (four not observed) and a sputum check each month (positive in month 1)."""
    db = database(app)
    with app.app_context(), db.transaction() as session:
        episode = session.scalars(select(TbEpisode)).one()
        dot = Actor(None, "e2e", frozenset({Role.DOT_WORKER}), frozenset({episode.site_id}),
                    via="cli")  # fmt: skip
        yesterday = TODAY - dt.timedelta(days=1)
        demo.generate_doses(session, dot, episode, yesterday, demo.NOT_OBSERVED)
        demo.generate_sputum(session, dot, episode, yesterday)


def test_class_a_is_followed_through_dot_to_b0_and_clearance(
    page: Page, tb_server: TbServer, shoot
) -> None:
    server = tb_server.url
    # Diagnosis: the physician finds the TB page from the workflow page; Class A and why.
    sign_in(page, server, "t_panel_physician")
    page.goto(server(tb_server.workflow_page))
    page.get_by_role("link", name="Doses and outcome on the TB page").click()
    expect(page.locator("#classification")).to_contain_text("Class A")
    expect(page.locator("#classification")).to_contain_text("us.tb.class_a")
    expect(page.locator("#classification")).to_contain_text(DIAGNOSED.isoformat())
    page.get_by_label("Your password, to sign it").fill(factories.PASSWORD)
    page.get_by_role("button", name="Confirm this classification").click()
    expect(page.get_by_role("status")).to_contain_text("TB classification confirmed")
    shoot("diagnosis-class-a")

    # Treatment starts from the diagnosis: 2HRZE/4HR at this centre, the dose by weight band.
    form = page.locator("#start-form")
    form.get_by_label("Diagnosed on").fill(DIAGNOSED.isoformat())
    form.get_by_label("First dose on").fill(BEGUN.isoformat())
    form.get_by_label("Weight (kg)").fill("58")
    form.get_by_label("Regimen").select_option("2HRZE/4HR")
    form.get_by_role("button", name="Start treatment").click()
    expect(page.get_by_role("status")).to_contain_text("Treatment started")
    expect(page.locator("#dot")).to_contain_text("4 tablets a day")
    expect(page.locator("#dot")).to_contain_text(f"{DIAGNOSED} · {BEGUN}")
    shoot("treatment-started")
    sign_out(page)

    _six_months_of_doses(tb_server.app)

    # The DOT worker's daily list: one patient, 181 of 182 doses, today's dose to record.
    sign_in(page, server, "t_dot_worker")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="DOT").click()
    expect(page.get_by_role("heading", name=re.compile("Today's DOT list"))).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Rahimi"))
    expect(row).to_contain_text("181 of 182 doses")
    shoot("dot-list")
    row.get_by_role("button", name="Observed").click()
    expect(page.get_by_role("status")).to_contain_text(f"Dose of {TODAY.isoformat()} recorded")
    expect(page.get_by_role("row", name=re.compile("Rahimi"))).to_contain_text("All doses taken")
    shoot("dot-list-recorded")
    sign_out(page)

    # The physician opens the treatment page: phases, adherence and the chart.
    sign_in(page, server, "t_panel_physician")
    page.goto(server("/dot"))
    page.get_by_role("link", name=re.compile("Rahimi")).click()
    expect(page.get_by_role("heading", name="Treatment under DOT")).to_be_visible()
    expect(page.locator("#classification")).to_contain_text("Class A")
    expect(page.locator("#dot")).to_contain_text("182 of 182 doses taken")
    expect(page.locator("#dot")).to_contain_text("All doses taken: ready to close")
    expect(
        page.get_by_role("img", name="Doses by day since the start of treatment")
    ).to_be_visible()
    shoot("treatment-complete")

    # Closing as cured re-plans: Class B0, cleared with conditions.
    close = page.locator("#close-form")
    expect(close.get_by_label("Outcome (WHO)")).to_have_value("cured")
    close.get_by_role("button", name="Close treatment").click()
    expect(page.get_by_role("status")).to_contain_text("Treatment closed: cured")
    expect(page.get_by_role("status")).to_contain_text("Cleared with conditions")
    expect(page.locator("#classification")).to_contain_text("Class B0")
    page.get_by_label("Your password, to sign it").fill(factories.PASSWORD)
    page.get_by_role("button", name="Confirm this classification").click()
    expect(page.get_by_role("status")).to_contain_text("TB classification confirmed")
    shoot("reclassified-b0")

    page.get_by_role("link", name="steps and clearance", exact=True).click()
    expect(page.get_by_text("Cleared with conditions").first).to_be_visible()
    shoot("workflow-cleared")

    page.goto(server("/dot/programme"))
    expect(page.get_by_role("row", name=re.compile("Cured"))).to_contain_text("1")
    shoot("programme")
