"""The clinical desk in the browser (issue 18): a nurse, a lab technician and a radiologist
each walk their day from the Today page's counted lists, with the patient banner on every
applicant page. Screenshots under test-artifacts/screenshots/ were looked at.

- Nurse: the worklist lists today's TB doses under DOT; the vaccination page's banner shows the
  pregnancy, the allergy and "No live vaccines" (BRIEF §7.4 [C S34]).
- Lab technician: the lab worklist lists the waiting creatinine; its form takes the value in
  µmol/L against the reference range (Mayo Clinic Laboratories CRTS1), refuses an impossible
  one next to the field, and flags a high one H.
- Radiologist: the reading list has only the unread study; the viewer draws the full-resolution
  image, zooms and moves the window/level (DICOM PS3.3 C.11.2).
Synthetic people only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pmha.core.db import database
from pmha.exams import lab_service, radiology
from pmha.exams import service as exams
from pmha.exams.commands import SectionDraft
from pmha.exams.dicom.synthetic import chest_xray
from pmha.exams.models import SectionKind
from pmha.tb_dot import service as tb
from pmha.tb_dot.commands import StartEpisode
from pmha.tb_dot.regimens import load_catalogue
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from tests import factories
from tests.e2e.conftest import LiveServer, fresh_app, serving
from tests.e2e.test_workflow import sign_in, sign_out
from tests.factories import applicant_data, make_case
from tests.tb_dot.helpers import episode_data

pytestmark = pytest.mark.e2e
TODAY = dt.date.today()
PAGES: dict[str, str] = {}  # the seeded applicants' page paths


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A pregnant woman bound for Australia with a creatinine ordered, a man with an unread
    chest X-ray, and a patient on TB treatment observed at the centre."""
    app = fresh_app(tmp_path_factory, "desk")
    rules = app.extensions["pmha.rules"]
    config = app.extensions["pmha.config"]
    with app.app_context(), database(app).transaction() as session:
        world = factories.build_world(session)
        doctor, nurse = world.actor("panel_physician"), world.actor("nurse")
        amina = make_case(
            session,
            nurse,
            destination="AU",
            principal=applicant_data(
                family_name="Rahimi",
                given_names="Amina",
                family_name_original="رحيمي",
                given_names_original="أمينة",
                sex="female",
                dob="1992-04-02",
            ),
        ).applicants[0]
        workflow.set_facts(
            session, doctor, rules, amina.id, FactsUpdate(pregnant=True, gestation_weeks=20)
        )
        exams.save_draft(
            session,
            doctor,
            amina.id,
            SectionDraft(
                kind=SectionKind.MEDICAL_HISTORY, content={"allergies": "Penicillin"}, version=None
            ),
        )
        lab_service.order_tests(session, doctor, rules, amina.id, ["serum_creatinine"])
        PAGES["amina"] = f"/cases/{amina.case_id}/applicants/{amina.id}"
        karim = make_case(
            session,
            nurse,
            principal=applicant_data(
                family_name="Haidari",
                given_names="Karim",
                family_name_original="حيدري",
                given_names_original="كريم",
                dob="1980-01-01",
            ),
        ).applicants[0]
        image = chest_xray("HAIDARI^KARIM", "male", TODAY, seed=3)
        radiology.upload(
            session, world.actor("radiologist"), karim.id, image, Path(config.STORAGE_DIR)
        )
        dot = make_case(
            session,
            nurse,
            principal=applicant_data(
                family_name="Sultani",
                given_names="Farid",
                family_name_original="سلطاني",
                given_names_original="فريد",
                dob="1975-06-06",
            ),
        ).applicants[0]
        tb.start_episode(
            session,
            doctor,
            load_catalogue(config.RULES_DIR),
            dot.id,
            StartEpisode(
                **episode_data(
                    start_date=TODAY - dt.timedelta(days=3),
                    diagnosed_on=TODAY - dt.timedelta(days=5),
                )
            ),
        )
    with serving(app, "desk-server") as server:
        yield server


def test_the_nurse_sees_todays_doses_and_the_banner(page: Page, desk, shoot) -> None:
    sign_in(page, desk, "t_nurse")
    worklist = page.get_by_role("link", name=re.compile("^Nurse worklist"))
    expect(worklist.locator(".count-pill")).to_have_text(re.compile(r"^\d+$"))
    shoot("today-with-counts")
    worklist.click()
    doses = page.get_by_role("region", name=re.compile("TB doses to observe today"))
    expect(doses).to_contain_text("Sultani")
    expect(
        doses.get_by_role("link", name="Record today's TB dose of Farid Sultani")
    ).to_be_visible()
    expect(page.locator("table.worklist").last).not_to_contain_text("—")
    shoot("nurse-worklist-with-dot")

    # Before vaccinating, the banner says what matters: pregnant, allergic, no live vaccine.
    page.goto(desk(PAGES["amina"] + "/vaccinations"))
    banner = page.get_by_role("region", name="Patient")
    expect(banner).to_contain_text("Rahimi, Amina")
    for alert in ("Pregnant, 20 weeks", "Allergies: Penicillin", "No live vaccines: pregnancy"):
        expect(banner.get_by_role("listitem").filter(has_text=alert)).to_be_visible()
    shoot("vaccinations-with-banner")
    sign_out(page)


def test_the_lab_technician_records_a_creatinine_with_its_range(page: Page, desk, shoot) -> None:
    sign_in(page, desk, "t_lab_technician")
    link = page.get_by_role("link", name=re.compile("^Lab worklist"))
    expect(link.locator(".count-pill")).to_have_text("1")
    link.click()
    expect(page.get_by_role("heading", name=re.compile("^Lab worklist"))).to_be_visible()
    row = page.locator("table.worklist tbody tr").filter(has_text="Rahimi")
    expect(row).to_contain_text("Serum creatinine")
    expect(row).to_contain_text("Awaiting specimen")
    number = row.locator("code.accession").inner_text()
    # The tube is filled: the order now awaits its result.
    row.get_by_role("button", name="Specimen taken: Serum creatinine of Amina Rahimi").click()
    expect(page.get_by_role("status")).to_contain_text("collected; it now awaits its result")
    row = page.locator("table.worklist tbody tr").filter(has_text="Rahimi")
    expect(row).to_contain_text("Awaiting result")
    shoot("lab-worklist")
    row.get_by_role("link", name="Record result: Serum creatinine of Amina Rahimi").click()

    banner = page.get_by_role("region", name="Patient")
    expect(banner).to_contain_text("Rahimi, Amina")
    expect(banner).to_contain_text("أمينة رحيمي")
    expect(banner).to_contain_text("Pregnant, 20 weeks")
    expect(banner).to_contain_text("Allergies: Penicillin")
    order = page.locator("table.orders tbody tr").filter(has_text="Serum creatinine")
    expect(order).to_contain_text("normal 52 to 92 µmol/L")
    order.get_by_label("Specimen number").fill(number)
    order.get_by_label(re.compile("^Creatinine")).fill("99999")
    order.get_by_role("button", name="Record the Serum creatinine result").click()
    order = page.locator("table.orders tbody tr").filter(has_text="Serum creatinine")
    expect(order.locator("p.error")).to_contain_text("cannot be right")
    expect(order.get_by_label(re.compile("^Creatinine"))).to_have_attribute("aria-invalid", "true")
    shoot("creatinine-impossible-value")
    order.get_by_label(re.compile("^Creatinine")).fill("130")
    order.get_by_role("button", name="Record the Serum creatinine result").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Serum creatinine: result Abnormal recorded."
    )
    order = page.locator("table.orders tbody tr").filter(has_text="Serum creatinine")
    expect(order.locator(".measurements")).to_contain_text("130 µmol/L")
    expect(order.locator(".measurements")).to_contain_text("H · high")
    expect(order).to_contain_text("Performed by Istanbul test centre laboratory")
    shoot("creatinine-high")

    page.goto(desk("/"))
    expect(
        page.get_by_role("link", name=re.compile("^Lab worklist")).locator(".count-pill")
    ).to_have_text("0")
    sign_out(page)


def test_the_radiologist_reads_from_a_list_of_unread_images(page: Page, desk, shoot) -> None:
    sign_in(page, desk, "t_radiologist")
    link = page.get_by_role("link", name=re.compile("^Chest X-rays to read"))
    expect(link.locator(".count-pill")).to_have_text("1")
    link.click()
    rows = page.get_by_role("table", name=re.compile("^Chest X-rays to read")).locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Haidari")
    shoot("xrays-to-read")
    page.get_by_role("link", name="Read X-ray of Karim Haidari").click()

    status = page.locator(".cxr-status")
    expect(status).to_contain_text(re.compile(r"Zoom \d+% · Window \d+ · Level -?\d+"))
    compare = page.get_by_role("table", name=re.compile("^Whose image"))
    expect(compare).to_contain_text("HAIDARI")
    before = status.inner_text()
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    expect(status).not_to_have_text(before)
    page.get_by_role("button", name="Drag sets window/level").click()
    canvas = page.locator(".cxr-viewer canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + 100
    window = re.search(r"Window (\d+)", status.inner_text())
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 150, y + 60, steps=5)
    page.mouse.up()
    expect(status).not_to_contain_text(f"Window {window.group(1) if window else ''} ")
    expect(page.locator("img[data-cxr-fallback]")).to_be_hidden()  # the preview gave way
    shoot("viewer-zoomed-windowed")
    sign_out(page)
