"""A Class A applicant in the browser: on 2HRZE/4HR under DOT for six months (generated, one
dose short), the DOT worker records today's last dose from the daily list; the physician reads the
adherence chart, closes the treatment as cured, sees the re-classification to Class B0 and the
clearance, and confirms the classification; the programme summary counts the outcome."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from pmha.app import create_app
from pmha.core import migrate
from pmha.core.db import database
from pmha.tb_dot import demo
from tests import factories
from tests.conftest import config_for_tests
from tests.e2e.conftest import LiveServer
from tests.e2e.test_workflow import sign_in, sign_out
from tests.tb_dot.helpers import TODAY, finish_other_steps, start, tb_patient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with one Class A patient a dose short of the end of 2HRZE/4HR (182 doses)."""
    tmp = tmp_path_factory.mktemp("e2e-tb")
    app = create_app(config_for_tests(f"sqlite:///{tmp / 'e2e.db'}", tmp / "var"))
    db = database(app)
    with db.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        applicant = tb_patient(session, app, world, family_name="Rahimi", given_names="Karim",
                               family_name_original=None, given_names_original=None)  # fmt: skip
        finish_other_steps(session, app, world, applicant)
        begun = TODAY - dt.timedelta(days=182 + len(demo.NOT_OBSERVED) - 1)
        found = start(session, app, world, applicant, start_date=begun,
                      diagnosed_on=begun - dt.timedelta(days=2))  # fmt: skip
        dot = world.actor("dot_worker")
        demo.generate_doses(session, dot, found.episode, TODAY - dt.timedelta(days=1),
                            demo.NOT_OBSERVED)  # fmt: skip
        demo.generate_sputum(session, dot, found.episode, TODAY - dt.timedelta(days=1))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-tb", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.engine.dispose()


def test_class_a_is_followed_through_dot_to_b0_and_clearance(
    page: Page, tb_server: LiveServer, shoot
) -> None:
    # The DOT worker's daily list: one patient, 181 of 182 doses, today's dose to record.
    sign_in(page, tb_server, "t_dot_worker")
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
    sign_in(page, tb_server, "t_panel_physician")
    page.goto(tb_server("/dot"))
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
    page.get_by_role("button", name="Confirm this classification").click()
    expect(page.get_by_role("status")).to_contain_text("TB classification confirmed")
    shoot("reclassified-b0")

    page.get_by_role("link", name="steps and clearance", exact=True).click()
    expect(page.get_by_text("Cleared with conditions").first).to_be_visible()
    shoot("workflow-cleared")

    page.goto(tb_server("/dot/programme"))
    expect(page.get_by_role("row", name=re.compile("Cured"))).to_contain_text("1")
    shoot("programme")
