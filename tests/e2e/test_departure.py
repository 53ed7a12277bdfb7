"""Departure day: operations opens the flight's board and sees who is ready; the physician
records the pre-embarkation check (and, for the second traveller, a fever: deferred); operations
filters, sorts and downloads the board, arranges an escort (MEDIF visible on the board), issues the
certificate, opens its PDF, and a border officer checks its code on the public page; a rash at a
new PEC revokes it, and the page says so."""

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
def flight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """The app with a US flight in two days carrying two cleared families (one traveller each)."""
    app = fresh_app(tmp_path_factory, "e2e-departure")
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
                flight_number="1",
                route="IST-ORD",
                destination="US",
                departs_at=datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=50),
            ),
        )
        for given, family, dob in (
            ("Reza", "Karimi", "1988-02-11"),
            ("Sara", "Amini", "1992-07-01"),
        ):
            case = factories.make_case(
                session,
                ops,
                principal=factories.applicant_data(
                    given_names=given,
                    family_name=family,
                    dob=dob,
                    family_name_original=None,
                    given_names_original=None,
                    sex="female" if given == "Sara" else "male",
                ),
            )
            departures.book_case(session, ops, dep.id, case.id)
            clear(session, world, rules, case.applicants[0].id)
        dep_id = str(dep.id)
    with serving(app, "e2e-departure") as server:
        yield server, dep_id


def sign_in(page: Page, live: LiveServer, username: str) -> None:
    page.goto(live("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def test_departure_day_from_board_to_verified_certificate(page: Page, flight, shoot) -> None:
    live, dep_id = flight
    # Operations: the board says nobody is ready yet: both need their PEC.
    sign_in(page, live, "t_operations")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Departures").click()
    page.get_by_role("link", name="TK 1").click()
    expect(page.locator("#ready-count")).to_contain_text("0 of 2 ready")
    expect(page.get_by_role("table")).to_contain_text("Pre-embarkation check now")
    shoot("board-pec-due")
    sign_out(page)

    # The physician records both PECs: Reza is well; Sara has 38.6 °C, so the rules defer her.
    sign_in(page, live, "t_panel_physician")
    for name, temperature in (("Karimi, Reza", "36.7"), ("Amini, Sara", "38.6")):
        page.goto(live(f"/departures/{dep_id}"))
        page.get_by_role("link", name=name).click()
        page.get_by_role("combobox", name="Check", exact=True).select_option("pec")
        page.get_by_label("Temperature (°C)").fill(temperature)
        page.get_by_label("Pulse (/min)").fill("80")
        page.get_by_role("button", name="Record the check").click()
        expect(page.get_by_role("status")).to_contain_text("Pre-embarkation check recorded")
    expect(page.get_by_role("status")).to_contain_text("Deferred")
    expect(page.locator("#st-title")).to_contain_text("Travel hold")
    shoot("traveller-deferred")
    sign_out(page)

    # Operations: one of two ready; the certificate for Reza; Sara's is refused.
    sign_in(page, live, "t_operations")
    page.goto(live(f"/departures/{dep_id}"))
    expect(page.locator("#ready-count")).to_contain_text("1 of 2 ready")
    shoot("board-one-ready")
    # Filter and sort the board, and take it away as CSV.
    table = page.get_by_role("table")
    page.get_by_role("link", name="Blocked", exact=True).click()
    expect(table).to_contain_text("Amini")
    expect(table).not_to_contain_text("Karimi")
    page.get_by_role("link", name="Ready", exact=True).click()
    expect(table).to_contain_text("Karimi")
    expect(table).not_to_contain_text("Amini")
    page.get_by_role("link", name="Everyone", exact=True).click()
    page.get_by_role("link", name="Name", exact=True).click()
    expect(table.locator("tbody tr").first).to_contain_text("Amini")
    csv_href = page.get_by_role("link", name="Download CSV").get_attribute("href") or ""
    csv = page.request.get(live(csv_href))
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text().strip().splitlines()) == 3  # header and two travellers
    # Sara's escort: a nurse, MEDIF sent to the airline; the board shows both.
    page.get_by_role("link", name="Amini, Sara").click()
    page.get_by_role("combobox", name="Escort", exact=True).select_option("nurse")
    page.get_by_label("Airline medical form (MEDIF)").select_option("sent")
    page.get_by_label("Escort plan").fill("Nurse at the seat IST-ORD")
    page.get_by_role("button", name="Save the escort").click()
    expect(page.locator("main")).to_contain_text("Nurse · MEDIF: Sent, awaiting airline")
    page.goto(live(f"/departures/{dep_id}"))
    expect(table).to_contain_text("Escort: nurse · MEDIF sent")
    shoot("board-escort-medif")
    sign_out(page)
    # The physician signs the certificate: it names them with their registration number.
    sign_in(page, live, "t_panel_physician")
    page.goto(live(f"/departures/{dep_id}"))
    page.get_by_role("link", name="Karimi, Reza").click()
    page.get_by_label("Your password, to sign the certificate").fill(factories.PASSWORD)
    page.get_by_role("button", name="Issue the certificate").click()
    expect(page.get_by_role("status")).to_contain_text("Certificate TRV-")
    expect(page.locator("main")).to_contain_text("Panel physician, reg. TEST-MD-0001.")
    code = re.search(
        r"TRV-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", page.get_by_role("status").inner_text()
    ).group(0)  # type: ignore[union-attr]
    href = page.get_by_role("link", name="Open the PDF").get_attribute("href") or ""
    pdf = page.request.get(live(href))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    shoot("certificate-issued")
    sign_out(page)

    # A border officer, not signed in, checks the code on the public page.
    page.goto(live("/verify"))
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status").filter(has_text="Valid")).to_be_visible()
    expect(page.locator("main")).to_contain_text("KARIMI, Reza")
    expect(page.locator("main")).not_to_contain_text("PEC")  # no health details
    shoot("verified")

    # A rash at a new PEC: infectious disease is unfit; the certificate is revoked.
    sign_in(page, live, "t_panel_physician")
    page.goto(live(f"/departures/{dep_id}"))
    page.get_by_role("link", name="Karimi, Reza").click()
    page.get_by_role("combobox", name="Check", exact=True).select_option("pec")
    page.get_by_label("Rash (e.g. chickenpox, measles)").check()
    page.get_by_role("button", name="Record the check").click()
    expect(page.get_by_role("status")).to_contain_text("Unfit")
    sign_out(page)
    page.goto(live("/verify"))
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status").filter(has_text="Revoked")).to_be_visible()
    shoot("verified-revoked")


def test_operations_creates_a_flight_and_the_forms_name_what_is_wrong(
    page: Page, flight, shoot
) -> None:
    live, _ = flight
    sign_in(page, live, "t_operations")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Departures").click()
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    soon = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Carrier (IATA code)").fill("ZZ")
    page.get_by_label("Flight number").fill("17")
    page.get_by_label(re.compile(r"^Departs at \(local time")).fill(past)
    page.get_by_label("Route").fill("IST-YYZ")
    page.get_by_label("Destination").select_option("CA")
    page.get_by_role("button", name="Create the departure").click()
    expect(page.locator("#e-departs_at")).to_contain_text("The departure is in the past.")
    expect(page.locator("#e-carrier")).to_contain_text("No carrier rule for ZZ")
    shoot("departure-form-errors")
    page.get_by_label("Carrier (IATA code)").fill("TK")
    page.get_by_label(re.compile(r"^Departs at \(local time")).fill(soon)
    page.get_by_role("button", name="Create the departure").click()
    expect(page.get_by_role("heading", name=re.compile(r"^TK 17"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("No families booked yet.")
    # A US family cannot board a Canadian flight: the form says why.
    page.get_by_label("Case number").fill("IST-000001")
    page.get_by_role("button", name="Book on this flight").click()
    expect(page.locator("main")).to_contain_text("The case goes to US, not here.")
    shoot("booking-refused")
