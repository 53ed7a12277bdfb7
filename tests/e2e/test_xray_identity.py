"""A wrong-patient chest X-ray in the browser: the radiologist uploads a DICOM whose header
names another person (another name, sex and date of birth); it is held, with both identities
side by side; confirming it needs a reason; once confirmed it can be read, and a reading that
ticks "No abnormal finding" with "Cavitary lesion" is refused next to the findings.

The header is the DICOM Patient Module (PS3.3 C.7.1.1); the image travels with the applicant
as their chest X-ray [S10c]; the findings are DS-3030's [S8]. Synthetic people only.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_workflow import sign_in, sign_out
from tests.exams import dicom_factory
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

PERSON = {
    "family_name": "Nasser",
    "given_names": "Rania",
    "dob": "1988-02-11",
    "sex": "female",
    "nationality": "SY",
}


def register(page: Page) -> str:
    """Register the family; return the applicant's X-ray page path."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Register a family"
    ).click()
    page.get_by_role("combobox", name="Destination country").select_option("CA")
    page.get_by_role("combobox", name="Programme", exact=True).select_option("refugee")
    for name, value in PERSON.items():
        field = page.locator(f"#f-{name}")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Register family").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Case IST-\d{6}$"))).to_be_visible()
    record = page.get_by_role("link", name="Exam record of Rania Nasser").get_attribute("href")
    assert record is not None
    return re.sub(r"/[^/]+$", "/xrays", record)


def test_a_wrong_patient_xray_is_held_then_confirmed_with_a_reason(
    page: Page, live_server, shoot, tmp_path
) -> None:
    sign_in(page, live_server, "t_nurse")
    xrays = register(page)
    sign_out(page)

    # The X-ray unit sent another person's image: a man, Alice Quinn's name, another birth date.
    image = tmp_path / "chest.dcm"
    image.write_bytes(
        dicom_factory.of_person("QUINN^ALICE", "M", "19700101", rows=512, columns=420)
    )
    sign_in(page, live_server, "t_radiologist")
    page.goto(live_server(xrays))
    page.get_by_label("Upload a chest X-ray (DICOM file)").set_input_files(str(image))
    page.get_by_role("button", name="Upload the X-ray", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("HELD")
    held = page.get_by_role("region", name="Held: identity differs")
    expect(held).to_be_visible()
    table = held.get_by_role("table", name="Header identity and applicant, side by side")
    name_row = table.get_by_role("row", name=re.compile("^Name"))
    expect(name_row).to_contain_text("QUINN, ALICE")
    expect(name_row).to_contain_text("Nasser, Rania")
    expect(name_row).to_contain_text("Differs")
    expect(table.get_by_role("row", name=re.compile("^Sex"))).to_contain_text(
        "The image is of a male; the applicant is female."
    )
    expect(table.get_by_role("row", name=re.compile("^Date of birth"))).to_contain_text(
        "the image says 1970-01-01, the applicant was born 1988-02-11"
    )
    # Beside the image, always: who the header says it is of.
    expect(page.locator("figure.xray .header-identity")).to_contain_text("QUINN, ALICE")
    expect(page.get_by_role("button", name="Record the reading")).to_have_count(0)
    page.wait_for_function("document.querySelector('figure.xray img').naturalWidth > 0")
    page.evaluate("window.scrollTo(0, 0)")
    shoot("held-side-by-side")

    # No reason: refused, next to the field; still held.
    page.get_by_role("button", name="Confirm: this is the applicant's X-ray").click()
    expect(page.locator("#e-reason")).to_contain_text("Say why this image is the applicant's")
    expect(page.get_by_role("region", name="Held: identity differs")).to_be_visible()

    page.get_by_label("Reason it is this applicant's image anyway").fill(
        "Film label and her face checked; the unit's worklist had the previous patient."
    )
    page.get_by_role("button", name="Confirm: this is the applicant's X-ray").click()
    expect(page.get_by_role("status")).to_contain_text("Identity confirmed")
    whose = page.get_by_role("region", name="Whose image")
    expect(whose).to_contain_text("Identity differs: confirmed by a radiologist")
    expect(whose).to_contain_text("Confirmed by Test radiologist")  # a full name [issue 18]
    shoot("confirmed")

    # Contradictory findings are refused next to the findings, naming both.
    page.get_by_label("Cavitary lesion").check()
    page.get_by_label("No abnormal finding").check()
    page.get_by_label("Your password, to sign the reading").fill(PASSWORD)
    page.get_by_role("button", name="Record the reading").click()
    expect(page.locator("#f-findings")).to_contain_text(
        "“No abnormal finding” and “Cavitary lesion” cannot both be ticked"
    )
    page.get_by_label("No abnormal finding").uncheck()
    page.get_by_label("Your password, to sign the reading").fill(PASSWORD)
    page.get_by_role("button", name="Record the reading").click()
    expect(page.get_by_role("status")).to_contain_text("Reading recorded: Suggests TB")
