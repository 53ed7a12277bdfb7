"""One applicant from registration to "cleared": a nurse registers a single adult (US, refugee),
the physician records the clinical facts and the examination, the radiologist a normal chest
X-ray, the lab technician the lab results the plan asks for; each signs in in turn and finds the
work on their own worklist. Operations then sees the family cleared on the board."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

PERSON = {
    "family_name": "Karimi",
    "given_names": "Reza",
    "family_name_original": "کریمی",
    "given_names_original": "رضا",
    "dob": "1988-02-11",
    "sex": "male",
    "nationality": "IR",
}
# The reassuring answer of each kind of test, in the words of the page's options.
GOOD = ("Normal", "Negative", "Non reactive", "Completed")


def sign_in(page: Page, live_server, username: str) -> None:
    page.goto(live_server("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def open_from_worklist(page: Page, worklist: str) -> None:
    page.get_by_role("link", name=worklist).click()
    expect(page.get_by_role("heading", name=re.compile(worklist))).to_be_visible()
    page.get_by_role("link", name="Open the workflow of Reza Karimi").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Workflow · case"))).to_be_visible()


def record(page: Page, test: str, value: str) -> None:
    page.get_by_label(f"Result of {test}", exact=True).select_option(label=value)
    page.get_by_role("button", name=f"Record the {test} result").click()
    expect(page.get_by_role("status")).to_contain_text(f"{test}: result recorded.")


def family_badge(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Family clearance").locator(".badge")


def test_one_applicant_from_registration_to_cleared(page: Page, live_server, shoot) -> None:
    # The nurse registers a single adult bound for the US as a refugee.
    sign_in(page, live_server, "t_nurse")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Register a family"
    ).click()
    page.get_by_role("combobox", name="Destination country").select_option("US")
    page.get_by_role("combobox", name="Programme", exact=True).select_option("refugee")
    for name, value in PERSON.items():
        field = page.locator(f"#f-{name}")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Register family").click()
    heading = page.get_by_role("heading", name=re.compile(r"^Case IST-\d{6}$"))
    expect(heading).to_be_visible()
    page.get_by_role("link", name="Steps and clearance").click()
    expect(family_badge(page)).to_have_text("Pending")
    expect(page.get_by_text("Next: Record the clinical facts")).to_be_visible()
    shoot("nurse-new-plan")
    sign_out(page)

    # The physician records the clinical facts and the examination.
    sign_in(page, live_server, "t_panel_physician")
    open_from_worklist(page, "Physician worklist")
    facts = page.locator("form.facts-form")
    for question in (
        "Past TB disease",
        "Close contact with TB in the past year",
        "TB symptoms now",
        "Known HIV infection",
        "Signs of extrapulmonary TB",
    ):
        facts.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    shoot("physician-facts-filled")
    facts.get_by_role("button", name="Save the clinical facts").click()
    expect(page.get_by_role("status")).to_contain_text("Clinical facts recorded")

    # Recording without choosing a result is refused next to the field; nothing is saved.
    page.get_by_role("button", name="Record the Medical history result").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose the result.")
    expect(page.get_by_label("Result of Medical history", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    shoot("physician-inline-error")
    for test in ("Medical history", "Physical examination", "Mental health assessment"):
        record(page, test, "Normal")
    expect(page.get_by_text("Next: Record: Chest X-ray — radiology")).to_be_visible()
    shoot("physician-exam-recorded")
    sign_out(page)

    # The radiologist reads a normal chest X-ray.
    sign_in(page, live_server, "t_radiologist")
    open_from_worklist(page, "Chest X-rays to read")
    record(page, "Chest X-ray", "Normal")
    shoot("radiologist-xray-recorded")
    sign_out(page)

    # The lab technician records every lab result the plan asks for.
    sign_in(page, live_server, "t_lab_technician")
    shoot("lab-today")
    open_from_worklist(page, "Lab worklist")
    shoot("lab-workflow")
    pending = page.locator("tr.step-pending, tr.step-in_progress").filter(
        has=page.locator("select[name=value]")
    )
    expect(pending.first).to_be_visible()
    for _ in range(10):  # the plan may ask for follow-ups as results arrive
        if pending.count() == 0:
            break
        row = pending.first
        test = row.locator(".req-name").inner_text()
        options = row.locator("select[name=value] option").all_inner_texts()
        record(page, test, next(o for o in options if o in GOOD))
    expect(pending).to_have_count(0)
    expect(family_badge(page)).to_have_text("Cleared")
    expect(page.get_by_text("Next: Medically cleared")).to_be_visible()
    shoot("cleared")
    sign_out(page)

    # Operations sees the family cleared on the board, without the result values.
    sign_in(page, live_server, "t_operations")
    page.get_by_role("link", name="Clearance board").click()
    board = page.get_by_role("table", name=re.compile("Clearance board"))
    expect(board.get_by_role("row").filter(has_text="Karimi")).to_contain_text("Cleared")
    shoot("operations-board")
    board.get_by_role("link", name=re.compile(r"IST-\d{6}")).first.click()
    expect(family_badge(page)).to_have_text("Cleared")
    expect(page.get_by_text("Normal", exact=True)).to_have_count(0)
    shoot("operations-workflow")
