"""The clinical record in the browser: a physician completes and signs the medical history,
physical examination and mental health evaluation of a new applicant (a temperature of 70 °C
refused on the way); a radiologist uploads a synthetic chest X-ray, sees its preview and reads
it as suggesting TB; the workflow page then asks for sputum."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_workflow import sign_in, sign_out
from tests.exams import dicom_factory
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

PERSON = {
    "family_name": "Sultani",
    "given_names": "Jawad",
    "dob": "1990-05-17",
    "sex": "male",
    "nationality": "AF",
}
TB_QUESTIONS = (
    "Past TB disease (diagnosed or treated)",
    "Close contact with TB in the past year",
    "Known HIV infection",
    "Signs of extrapulmonary TB",
    "Cough for 3 weeks or more",
    "Coughing up blood",
    "Fever",
    "Night sweats",
    "Weight loss",
)


def register(page: Page) -> None:
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
    expect(page.get_by_role("heading", name=re.compile(r"^Case IST-\d{6}$"))).to_be_visible()


SIGNER = "Test panel_physician, Panel physician, reg. TEST-MD-0001"


def sign_section(page: Page, section: str, flash: str) -> None:
    """Save and sign: the signing page shows what is signed; the password signs it."""
    page.locator(f"#sec-{section}").get_by_role("button", name="Save and sign").click()
    expect(page.get_by_role("heading", name=re.compile("^Sign: "))).to_be_visible()
    expect(page.locator("#signer-line")).to_have_text(SIGNER)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(flash)
    expect(page.locator(f"#sec-{section}")).to_contain_text(f"Signed by {SIGNER}")


def test_physician_signs_the_exam_and_radiologist_reads_the_xray(
    page: Page, live_server, shoot, tmp_path
) -> None:
    # The physician registers the applicant and opens the exam record from the case page.
    sign_in(page, live_server, "t_panel_physician")
    register(page)
    page.get_by_role("link", name="Exam record of Jawad Sultani").click()
    expect(page.get_by_role("heading", name=re.compile("Sultani"))).to_be_visible()
    shoot("record-empty")

    # Medical history: every TB question answered "No", an allergy written down.
    history = page.locator("#sec-medical_history")
    for question in TB_QUESTIONS:
        history.get_by_role("group", name=question, exact=True).get_by_label(
            "No", exact=True
        ).check()
    history.get_by_label("Allergies").fill("Penicillin (rash)")
    shoot("history-filled")
    sign_section(page, "medical_history", "Medical and immunization history: signed.")

    # Physical examination: a temperature of 70 °C is refused next to the field.
    physical = page.locator("#sec-physical_exam")
    physical.get_by_label("Temperature").fill("70")
    physical.get_by_label("Height").fill("174")
    physical.get_by_label("Weight").fill("71")
    physical.get_by_label("Overall result of the examination").select_option("normal")
    physical.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Temperature")
    physical = page.locator("#sec-physical_exam")
    temperature = physical.get_by_label("Temperature")
    expect(temperature).to_have_attribute("aria-invalid", "true")
    expect(temperature).to_have_value("70")
    temperature.scroll_into_view_if_needed()
    shoot("physical-temperature-refused")
    temperature.fill("36.8")
    physical.get_by_label("Pulse").fill("72")
    physical.get_by_label("Blood pressure, systolic").fill("118")
    physical.get_by_label("Blood pressure, diastolic").fill("76")
    for system in ("General", "Heart", "Lungs", "Abdomen"):
        physical.get_by_label(f"{system}: normal", exact=True).check()
    physical.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Physical examination: draft saved.")
    expect(page.locator("#sec-physical_exam")).to_contain_text("23.5 kg/m²")
    sign_section(page, "physical_exam", "Physical examination: signed.")

    # Mental health: no disorder, classification "no class"; the implied one agrees.
    mental = page.locator("#sec-mental_health")
    mental.get_by_label("Screening tool").fill("PHQ-9")
    mental.get_by_label("Screening score").fill("3")
    for question in ("A physical or mental disorder is present",
                     "With harmful behaviour (current or likely to recur)"):  # fmt: skip
        mental.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    mental.get_by_label("Physician's classification").select_option("none")
    sign_section(page, "mental_health", "Mental health evaluation: signed.")
    states = page.get_by_role("list", name="Sections at a glance")
    expect(states).to_contain_text("History Signed")
    expect(states).to_contain_text("Physical Signed")
    expect(states).to_contain_text("Mental health Signed")
    page.evaluate("window.scrollTo(0, 0)")
    shoot("physician-signed")

    # The syphilis test the plan asks for is ordered from the labs tab.
    page.get_by_role("navigation", name="Clinical record").get_by_role("link", name="Labs").click()
    page.get_by_label("Syphilis blood test").check()
    page.get_by_role("button", name="Order the ticked tests").click()
    expect(page.get_by_role("status")).to_contain_text("Ordered: Syphilis blood test.")
    shoot("labs-ordered")
    sign_out(page)

    # The radiologist finds the applicant on the worklist and uploads the chest X-ray.
    xray = tmp_path / "chest.dcm"
    xray.write_bytes(
        dicom_factory.of_person("SULTANI^JAWAD", "M", "19900517", rows=512, columns=420)
    )
    sign_in(page, live_server, "t_radiologist")
    page.get_by_role("link", name="Chest X-rays to read").click()
    page.get_by_role("link", name="Upload the chest X-ray of Jawad Sultani").click()
    page.get_by_label("Upload a chest X-ray (DICOM file)").set_input_files(str(xray))
    page.get_by_role("button", name="Upload the X-ray", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Chest X-ray uploaded")
    # The windowed preview shows first; the viewer swaps in the full-resolution image as soon
    # as its pixels arrive (on a fast machine, before this line looks): either is the X-ray.
    shown = page.get_by_role("img", name=re.compile(r"^Chest X-ray(, | at full resolution, )PA"))
    expect(shown.first).to_be_visible()
    page.wait_for_function("document.querySelector('figure.xray img').naturalWidth > 0")
    shoot("radiologist-viewer")

    # A cavitary lesion: the X-ray suggests TB.
    page.get_by_label("Cavitary lesion").check()
    expect(page.locator("#signer-line")).to_have_text(
        "Test radiologist, Radiologist, reg. TEST-RAD-0002"
    )
    page.get_by_label("Your password, to sign the reading").fill(PASSWORD)
    page.get_by_role("button", name="Record the reading").click()
    expect(page.get_by_role("status")).to_contain_text("Reading recorded: Suggests TB")
    expect(page.get_by_role("region", name="Reading")).to_contain_text(
        "Suggests TB: sputum smears and cultures needed"
    )
    shoot("radiologist-read")
    page.get_by_role("link", name="All chest X-rays of Jawad Sultani").click()
    expect(page.get_by_role("img", name="Chest X-ray thumbnail")).to_be_visible()
    shoot("radiologist-studies")

    # The workflow page now asks for sputum smears.
    page.get_by_role("link", name=re.compile("steps and clearance")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Workflow · case"))).to_be_visible()
    smears = page.locator("table.steps tr").filter(
        has=page.locator(".req-name", has_text=re.compile("^Sputum smears$"))
    )
    expect(smears).to_be_visible()
    expect(smears).not_to_contain_text("if needed")
    expect(page.locator("table.steps tr", has_text="Chest X-ray").first).to_contain_text(
        "Suggestive of TB"
    )
    shoot("workflow-sputum-required")
