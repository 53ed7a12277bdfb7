"""One record per fact, in the browser: the PEC recorded by the traveller page shows done on the
workflow. The workflow page offers no free PEC result: it links to the traveller page, where the
physician records the check with vital signs; back on the workflow, the step is done and links
to the check it comes from.

Source: BRIEF 1.6 [S19] (a PEC 24-72 h before departure for all US refugees), 5.1 [S31a]
(its outcomes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from pmha.core.db import database
from pmha.travel import departures
from pmha.travel.commands import NewDeparture
from tests import factories
from tests.e2e.conftest import LiveServer, fresh_app, serving
from tests.travel.helpers import clear

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def booked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    """A cleared US refugee on a flight in 50 hours: the PEC is what is left [S19]."""
    app = fresh_app(tmp_path_factory, "e2e-one-record")
    db = database(app)
    rules = app.extensions["pmha.rules"]
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        ops = world.actor("operations")
        dep = departures.create_departure(
            session,
            ops,
            NewDeparture(
                carrier="TK",
                flight_number="7",
                route="IST-ORD",
                destination="US",
                departs_at=datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=50),
            ),
        )
        case = factories.make_case(
            session,
            ops,
            principal=factories.applicant_data(
                given_names="Omar",
                family_name="Nasser",
                dob="1985-04-09",
                family_name_original=None,
                given_names_original=None,
                sex="male",
            ),
        )
        departures.book_case(session, ops, dep.id, case.id)
        clear(session, world, rules, case.applicants[0].id)
        ids = str(dep.id), str(case.id)
    with serving(app, "e2e-one-record") as server:
        yield server, *ids


def sign_in(page: Page, live: LiveServer, username: str) -> None:
    page.goto(live("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()


def test_the_pec_recorded_by_the_traveller_page_shows_done_on_the_workflow(
    page: Page, booked: tuple[LiveServer, str, str], shoot
) -> None:
    live, dep_id, case_id = booked
    sign_in(page, live, "t_panel_physician")
    page.goto(live(f"/cases/{case_id}/workflow"))
    pec = page.locator("tr", has=page.locator(".req-name", has_text="Pre-embarkation check"))
    expect(pec).to_contain_text("Pending")
    # No free result for the PEC: no "Fit" from a dropdown, a link to where the check is done.
    expect(pec.locator('select[name="value"]')).to_have_count(0)
    expect(pec.get_by_role("button", name="Record", exact=True)).to_have_count(0)
    shoot("workflow-pec-pending")
    pec.get_by_role("link", name="Record the check on the traveller page").click()
    expect(page).to_have_url(re.compile(f"/departures/{dep_id}/travellers/"))

    # The physician records the check, with vital signs, on the traveller page.
    page.get_by_role("combobox", name="Check", exact=True).select_option("pec")
    page.get_by_label("Temperature (°C)").fill("36.7")
    page.get_by_label("Pulse (/min)").fill("76")
    page.get_by_role("button", name="Record the check").click()
    expect(page.get_by_role("status")).to_contain_text("Pre-embarkation check recorded: Fit")
    traveller = page.url
    shoot("traveller-pec-fit")

    # Back on the workflow: the step is done, and links to the check it comes from.
    page.goto(live(f"/cases/{case_id}/workflow"))
    expect(pec).to_contain_text("Done")
    expect(pec).to_contain_text("Fit")
    source = pec.get_by_role("link", name="from the fitness-to-travel check of")
    expect(source).to_be_visible()
    shoot("workflow-pec-done")
    source.click()
    expect(page).to_have_url(traveller)
