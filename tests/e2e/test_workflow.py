"""One applicant from registration to "cleared": a nurse registers a single adult (US, refugee),
the physician records the clinical facts and signs the examination on the exam record, the
radiologist uploads and reads a normal chest X-ray, the lab technician enters the syphilis result
on its order; each signs in in turn and finds the work on their own worklist, and the workflow
page links each step to the record it comes from (one record per fact, issue 14). Operations then
sees the family cleared on the board."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.exams import dicom_factory
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


def step_row(page: Page, requirement: str):  # type: ignore[no-untyped-def]
    return page.locator("table.steps tr").filter(
        has=page.locator(".req-name", has_text=re.compile(f"^{re.escape(requirement)}$"))
    )


def sign_the_exam(page: Page) -> None:
    """History, physical and mental health, each signed with the password (see test_exam)."""
    from tests.e2e.test_exam import TB_QUESTIONS, sign_section

    history = page.locator("#sec-medical_history")
    for question in TB_QUESTIONS:
        history.get_by_role("group", name=question, exact=True).get_by_label(
            "No", exact=True
        ).check()
    sign_section(page, "medical_history", "Medical and immunization history: signed.")
    physical = page.locator("#sec-physical_exam")
    physical.get_by_label("Temperature").fill("36.8")
    physical.get_by_label("Pulse").fill("72")
    physical.get_by_label("Blood pressure, systolic").fill("118")
    physical.get_by_label("Blood pressure, diastolic").fill("76")
    physical.get_by_label("Height").fill("174")
    physical.get_by_label("Weight").fill("71")
    for system in ("General", "Heart", "Lungs", "Abdomen"):
        physical.get_by_label(f"{system}: normal", exact=True).check()
    physical.get_by_label("Overall result of the examination").select_option("normal")
    sign_section(page, "physical_exam", "Physical examination: signed.")
    mental = page.locator("#sec-mental_health")
    mental.get_by_label("Screening tool").fill("PHQ-9")
    mental.get_by_label("Screening score").fill("3")
    for question in ("A physical or mental disorder is present",
                     "With harmful behaviour (current or likely to recur)"):  # fmt: skip
        mental.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    mental.get_by_label("Physician's classification").select_option("none")
    sign_section(page, "mental_health", "Mental health evaluation: signed.")


def family_badge(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Family clearance").locator(".badge")


def test_one_applicant_from_registration_to_cleared(
    page: Page, live_server, shoot, tmp_path
) -> None:
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
    workflow_url = page.url.split("#")[0]
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

    # One record per fact: the exam has no "Normal" to pick here; it is signed on its record.
    history = step_row(page, "Medical history")
    expect(history.locator('select[name="value"]')).to_have_count(0)
    shoot("physician-exam-links")
    history.get_by_role("link", name="Sign it on the exam record").click()
    sign_the_exam(page)
    page.get_by_role("navigation", name="Clinical record").get_by_role("link", name="Labs").click()
    page.get_by_label("Syphilis blood test").check()
    page.get_by_role("button", name="Order the ticked tests").click()
    expect(page.get_by_role("status")).to_contain_text("Ordered: Syphilis blood test.")
    page.goto(workflow_url)
    expect(page.get_by_text("Next: Record: Chest X-ray — radiology")).to_be_visible()
    shoot("physician-exam-recorded")
    sign_out(page)

    # The radiologist uploads the chest X-ray and reads it as normal, signing the reading.
    xray = tmp_path / "chest.dcm"
    xray.write_bytes(dicom_factory.of_person("KARIMI^REZA", "M", "19880211"))
    sign_in(page, live_server, "t_radiologist")
    page.get_by_role("link", name="Chest X-rays to read").click()
    page.get_by_role("link", name="Upload the chest X-ray of Reza Karimi").click()
    page.get_by_label("Upload a chest X-ray (DICOM file)").set_input_files(str(xray))
    page.get_by_role("button", name="Upload the X-ray", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Chest X-ray uploaded")
    page.get_by_label("No abnormal finding").check()
    page.get_by_label("Your password, to sign the reading").fill(PASSWORD)
    page.get_by_role("button", name="Record the reading").click()
    expect(page.get_by_role("status")).to_contain_text("Reading recorded")
    shoot("radiologist-xray-recorded")
    page.goto(workflow_url)  # the step is done, from the reading, and links to it
    expect(step_row(page, "Chest X-ray")).to_contain_text("from the chest X-ray reading of")
    sign_out(page)

    # The lab technician records the syphilis result on its order, from the Labs tab.
    sign_in(page, live_server, "t_lab_technician")
    shoot("lab-today")
    open_from_worklist(page, "Lab worklist")
    shoot("lab-workflow")
    step_row(page, "Syphilis blood test").get_by_role(
        "link", name="Order and result on the Labs tab"
    ).click()
    row = page.locator("table.orders tbody tr").filter(has_text="Syphilis blood test")
    row.get_by_label("Specimen number").fill(row.locator("code.accession").inner_text())
    row.get_by_label("Treponemal", exact=True).select_option("non_reactive")
    row.get_by_role("button", name="Record the Syphilis blood test result").click()
    expect(page.get_by_role("status")).to_contain_text("Syphilis blood test: result")
    page.goto(workflow_url)
    expect(step_row(page, "Syphilis blood test")).to_contain_text("from the lab result of")
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
