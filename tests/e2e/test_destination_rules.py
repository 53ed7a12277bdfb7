"""The destinations' own rules in the browser (issue 15), as a nurse and a panel physician meet
them: a refused vaccine held as Class A until the physician records the individual waiver, the
countries a refugee lived in deciding the presumptive treatment, and the UK's reason "X-ray not
taken" for a child under 11.

Sources:
- BRIEF §1.5: one dose of each age-appropriate vaccine, the blanket waivers the engine derives
  ("not age appropriate", "insufficient interval") [S13a]; the individual waiver for religious or
  moral conviction, granted by USCIS on its own form [S13d]; refusal of a required vaccine
  without a waiver is Class A (vaccination) [S13f].
- BRIEF §1.6: presumptive treatment by where the refugee lived: ivermectin never after a Loa
  loa-endemic country such as the Democratic Republic of the Congo [S16]; albendazole and
  praziquantel for sub-Saharan Africa [S17]; artemether-lumefantrine for those living in
  sub-Saharan Africa [S18].
- BRIEF §2.1: the UK's TB certificate records the reason X-ray not taken, "Child (under 11
  years)" [S25]; a child contact under 11 may give three sputum samples instead [S26b].
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from pmha.core.db import database
from pmha.vaccines import stock
from pmha.vaccines.commands import NewLot
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from tests import factories
from tests.e2e.conftest import LiveServer, fresh_app, serving
from tests.e2e.test_vaccination import register
from tests.e2e.test_workflow import sign_in, sign_out
from tests.travel.helpers import NO_TB, booked, departure

pytestmark = pytest.mark.e2e


@dataclass
class Seeded:
    live: LiveServer
    refugee_case: str
    refugee_departure: str
    refugee_id: str
    child_case: str


def _child_dob(today: date) -> str:
    """Ten years and a half: under 11 on the exam date (GB [S25])."""
    return (today - timedelta(days=10 * 365 + 180)).isoformat()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One user per role; a Tdap lot in the Istanbul stock; a US refugee booked on a US flight
    (facts recorded, no residence yet); a UK-bound student child, a close TB contact, whose
    X-ray is still to take. What the journeys themselves show is left to the browser."""
    app = fresh_app(tmp_path_factory, "e2e-destinations")
    rules = app.extensions["pmha.rules"]
    today = date.today()
    with app.app_context(), database(app).transaction() as session:
        world = factories.build_world(session)
        nurse, physician = world.actor("nurse"), world.actor("panel_physician")
        stock.receive_lot(
            session,
            nurse,
            NewLot(
                site_code="IST",
                cvx="115",
                mvx="SKB",
                lot="E2E-TDAP-15",
                expiry=today + timedelta(days=300),
                quantity=10,
                received_on=today,
            ),
        )
        refugee = factories.make_case(
            session,
            nurse,
            destination="US",
            programme="refugee",
            principal=factories.applicant_data(
                given_names="Emmanuel", family_name="Mukendi", dob="1988-04-02",
                nationality="CD", family_name_original=None, given_names_original=None,
            ),
        )  # fmt: skip
        applicant = refugee.applicants[0]
        workflow.set_facts(
            session, physician, rules, applicant.id, FactsUpdate(**{"exam_date": today, **NO_TB})
        )
        flight = departure(session, world, days=3)
        booked(session, world, flight, refugee)
        child = factories.make_case(
            session,
            nurse,
            destination="GB",
            programme="student",
            principal=factories.applicant_data(
                given_names="Leila", family_name="Rahimi", dob=_child_dob(today), sex="female",
                nationality="IR", family_name_original=None, given_names_original=None,
            ),
        )  # fmt: skip
        workflow.set_facts(
            session,
            physician,
            rules,
            child.applicants[0].id,
            FactsUpdate(**{"exam_date": today, **NO_TB, "tb_contact": True}),
        )
        ids = (str(refugee.id), str(flight.id), str(applicant.id), str(child.id))
    with serving(app, "e2e-destinations") as server:
        yield Seeded(server, *ids)


def _flu_season_dose() -> str:
    """A dose in the exam country's current influenza season (northern: from 1 October)."""
    today = date.today()
    start = date(today.year if today.month >= 10 else today.year - 1, 10, 1)
    return min(start + timedelta(days=14), today).isoformat()


# --- 1. A refused vaccine: Class A until the individual waiver [S13a, S13d, S13f] ----------------


def test_a_refused_vaccine_holds_as_class_a_until_the_waiver(page: Page, seeded, shoot) -> None:  # type: ignore[no-untyped-def]
    live = seeded.live
    sign_in(page, live, "t_nurse")
    register(page, "US", "immigrant", "Darwish", "Yusuf")
    page.get_by_role("link", name="Exam record of Yusuf Darwish").click()
    page.get_by_role("navigation", name="Clinical record").get_by_role(
        "link", name="Vaccinations"
    ).click()
    reqs = page.locator("#requirements")
    expect(reqs.get_by_role("heading", name="What the destination requires today")).to_be_visible()
    vaccinations_url = page.url.split("#")[0]
    case_id = re.search(r"/cases/([0-9a-f-]{36})/", vaccinations_url)
    assert case_id
    workflow_url = live(f"/cases/{case_id.group(1)}/workflow")
    # An adult: the childhood vaccines are waived by the engine, in words, with no code [S13a].
    expect(reqs.locator("#r-hib")).to_contain_text("Waived: not age appropriate")
    expect(reqs.locator("#r-rotavirus")).to_contain_text("Waived: not age appropriate")
    expect(reqs).not_to_contain_text("not_age_appropriate")
    shoot("nurse-requirements")

    # The nurse gives Tdap from the lot, after its summary, and copies the papers.
    reqs.locator("#r-tetanus").get_by_role("button", name=re.compile("Give Tdap")).click()
    page.locator("#confirm").get_by_role("button", name="Confirm and record").click()
    expect(page.get_by_role("status")).to_contain_text("Given here: Tdap")
    for cvx, day in (("03", "1995-06-01"), ("10", "1996-01-10"), ("141", _flu_season_dose())):
        papers = page.locator("#form-historical")
        papers.get_by_label("Vaccine").select_option(cvx)
        papers.get_by_label("Date given").fill(day)
        papers.get_by_label("Known from").select_option("01")
        papers.get_by_role("button", name="Record the dose").click()
        expect(page.get_by_role("status")).to_contain_text("From papers")

    # Varicella refused: a refusal, not a waiver; the outcome says Class A in words [S13f].
    refusal = page.locator("#form-refused")
    refusal.get_by_label("Vaccine").select_option("21")
    refusal.get_by_label("Reason").select_option("03")
    refusal.get_by_role("button", name="Record the refusal").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("Refused: varicella", re.I))
    varicella = page.locator("#r-varicella")
    expect(varicella).to_contain_text("Refused (not a waiver)")
    expect(varicella).not_to_contain_text("Waived")
    outcome = page.locator(".vaccination-outcome")
    expect(outcome).to_contain_text("A required vaccine was refused and no waiver covers it")
    expect(outcome).to_contain_text("Class A (vaccination)")
    # The nurse neither sees nor can use the physician's confirmation.
    review = page.locator("#review")
    expect(review).to_contain_text("A panel physician confirms the refusal")
    expect(review.get_by_label(re.compile("I confirm the applicant refused"))).to_have_count(0)
    token = page.locator('#form-refused input[name="csrf_token"]').get_attribute("value")
    answer = page.request.post(
        f"{vaccinations_url}/review",
        form={"csrf_token": token or "", "confirm_refusal": "yes"},
        max_redirects=0,
    )
    assert answer.status == 403
    page.reload()
    expect(page.locator("#review")).not_to_contain_text("Completed")
    shoot("nurse-refusal")
    for code in ("class_a", "not_age_appropriate", "us.vaccin", "religious_or_moral"):
        expect(page.locator("main")).not_to_contain_text(code)
    # The nurse's workflow page: the steps in words, without the rules' ids.
    page.goto(workflow_url)
    expect(page.locator("table.steps")).to_contain_text("Vaccination review")
    expect(page.locator("table.steps")).not_to_contain_text("us.vaccination.review")
    # Not confirmed yet: the outcome waits for the review, and does not claim a refusal.
    expect(page.locator("section.member dl.blockers")).to_contain_text(
        "Vaccination outcome (needs Vaccination review)"
    )
    shoot("nurse-workflow")
    sign_out(page)

    # The panel physician confirms the refusal on the same page: Class A holds clearance.
    sign_in(page, live, "t_panel_physician")
    page.goto(vaccinations_url)
    review = page.locator("#review")
    expect(review).to_contain_text("Refused by the applicant: Varicella")
    shoot("physician-confirm-form")
    review.get_by_label("I confirm the applicant refused Varicella").check()
    review.get_by_role("button", name="Complete the vaccination review").click()
    expect(page.get_by_role("status")).to_contain_text("Vaccination review completed")
    expect(page.locator("#review")).to_contain_text(
        "a required vaccine was refused without a waiver (Class A, vaccination). This holds travel."
    )
    expect(page.locator(".vaccination-outcome")).to_contain_text("Class A (vaccination)")
    shoot("physician-class-a")
    page.goto(workflow_url)
    holds = page.locator("section.member dl.blockers .hold")
    expect(holds).to_contain_text("Vaccination (a required vaccine refused, no waiver): Class A")
    expect(holds).not_to_contain_text("class_a")
    shoot("clearance-held")

    # USCIS grants the religious or moral waiver [S13d]: recorded, the hold is released.
    page.goto(vaccinations_url)
    review = page.locator("#review")
    review.get_by_label("Varicella: waiver granted").check()
    review.get_by_role("button", name="Record the waiver").click()
    expect(page.get_by_role("status")).to_contain_text("Vaccination review completed")
    expect(page.locator(".vaccination-outcome")).to_contain_text("Complete")
    expect(page.locator("#r-varicella")).to_contain_text("Waived: religious or moral waiver")
    expect(page.locator("#review")).to_contain_text("Individual waiver for: Varicella")
    expect(page.locator("#r-varicella")).to_contain_text("recorded: religious or moral waiver")
    for code in ("religious_or_moral", "individual_waiver", "class_a", "not_age_appropriate"):
        for part in ("#requirements", "#review"):
            expect(page.locator(part)).not_to_contain_text(code)
    shoot("physician-waiver")
    page.goto(workflow_url)
    expect(page.locator("section.member dl.blockers")).not_to_contain_text("Vaccination (a")
    shoot("clearance-released")


# --- 2. Where a refugee lived decides the presumptive treatment [S16, S17, S18] ------------------


def test_residence_decides_the_presumptive_treatment(page: Page, seeded, shoot) -> None:  # type: ignore[no-untyped-def]
    live = seeded.live
    sign_in(page, live, "t_panel_physician")
    page.goto(live(f"/cases/{seeded.refugee_case}/workflow"))
    member = page.locator(f"#m-{seeded.refugee_id}")
    # The facts a man is asked: pregnancy is not among them.
    expect(member.locator("summary", has_text="Clinical facts")).to_contain_text(
        "7 of 7 questions answered"
    )
    member.get_by_text("Countries lived in").click()
    shoot("residence-empty")

    def add(country: str, start: str, end: str) -> None:
        box = page.locator(f"#m-{seeded.refugee_id}")
        box.get_by_label("Country", exact=True).select_option(country)
        box.get_by_label("From", exact=True).fill(start)
        box.get_by_label(re.compile("^To")).fill(end)
        box.get_by_role("button", name="Add the country").click()

    # A period that ends before it starts: the error next to the field, nothing written.
    add("CD", "2019-06-01", "2012-01-01")
    box = page.locator(f"#m-{seeded.refugee_id}")
    error = box.locator(f"#e-res-{seeded.refugee_id}-to")
    expect(error).to_contain_text("The end date is before the start date.")
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("To: The end date is before the start date.")
    expect(summary.get_by_role("link")).to_have_attribute("href", f"#f-res-{seeded.refugee_id}-to")
    expect(box.get_by_label(re.compile("^To"))).to_have_attribute("aria-invalid", "true")
    expect(box.get_by_text("Countries lived in")).to_contain_text("0 recorded")
    expect(box).not_to_contain_text("workflow.residence")
    shoot("residence-error")

    add("CD", "2012-01-01", "2019-06-01")
    expect(page.get_by_role("status")).to_contain_text("Residence recorded")
    page.locator(f"#m-{seeded.refugee_id}").get_by_text("Countries lived in").click()
    add("UG", "2019-06-01", "")
    expect(page.get_by_role("status")).to_contain_text("Residence recorded")
    box = page.locator(f"#m-{seeded.refugee_id}")
    box.get_by_text("Countries lived in").click()
    lived = box.locator("ul.residence")
    expect(lived).to_contain_text("Congo")
    expect(lived).to_contain_text("Uganda")
    expect(lived).to_contain_text("now (still there)")
    # The plan now asks for presumptive treatment, and its step says which drugs and why not.
    step = box.locator("table.steps tr").filter(
        has=page.locator(".req-name", has_text="Presumptive parasite treatment")
    )
    expect(step.locator(".treatment-plan")).to_contain_text(
        "Give: albendazole, praziquantel, artemether-lumefantrine."
    )
    expect(step.locator(".treatment-plan")).to_contain_text("Ivermectin not given: lived in a Loa")
    shoot("residence-recorded")

    # The traveller's page on the departure board: what to give, and what is left out and why.
    page.goto(live(f"/departures/{seeded.refugee_departure}"))
    page.get_by_role("link", name="Mukendi, Emmanuel").click()
    treatment = page.get_by_role("region", name="Presumptive treatment")
    expect(treatment.locator("ul.pt-give li strong")).to_have_text(
        ["Albendazole", "Praziquantel", "Artemether-lumefantrine"]
    )
    expect(treatment.locator("ul.pt-omitted")).to_contain_text(
        "Ivermectin not given: lived in a Loa loa-endemic country "
        "(Democratic Republic of the Congo, 2012-2019)."
    )
    shoot("presumptive-treatment")


# --- 3. The UK's reason "X-ray not taken" for a child under 11 [S25, S26b] -----------------------


def test_a_uk_child_without_xray_reads_child_under_11(page: Page, seeded, shoot) -> None:  # type: ignore[no-untyped-def]
    live = seeded.live
    url = live(f"/cases/{seeded.child_case}/workflow")
    # The radiologist marks the X-ray not done: the child is under the UK's age limit.
    sign_in(page, live, "t_radiologist")
    page.goto(url)
    xray = page.locator("table.steps tr").filter(
        has=page.locator(".req-name", has_text=re.compile("^Chest X-ray$"))
    )
    xray.get_by_text("Mark not done or block").click()
    reason = xray.get_by_label("Why Chest X-ray was not done")
    expect(reason.locator("option", has_text="Child (under 11 years)")).to_have_count(1)
    expect(xray).to_contain_text("it may still be settled by three sputum samples")
    expect(xray).not_to_contain_text("for a pregnant applicant")  # the adults' route [S26b]
    shoot("radiologist-not-done-form")
    value = reason.locator("option", has_text="Child (under 11 years)").get_attribute("value")
    reason.select_option(value or "")
    xray.get_by_role("button", name="Mark not done").click()
    expect(page.get_by_role("status")).to_contain_text("marked not done")
    sign_out(page)

    # The physician's page: the step and the certificate line in the UK's words [S25].
    sign_in(page, live, "t_panel_physician")
    page.goto(url)
    xray = page.locator("table.steps tr").filter(
        has=page.locator(".req-name", has_text=re.compile("^Chest X-ray$"))
    )
    expect(xray).to_contain_text("the destination records it as “Child (under 11 years)”")
    expect(xray).to_contain_text("or three sputum samples")
    expect(xray).not_to_contain_text("for a pregnant applicant")
    line = page.locator(".tb-certificate")
    expect(line).to_contain_text("Reason X-ray not taken: Child (under 11 years)")
    expect(page.locator("main")).not_to_contain_text("under_age_limit")
    shoot("physician-certificate-line")
    with page.expect_response(re.compile(r"/tb-certificate\.pdf$")) as answer:
        line.get_by_role("link", name="Certificate PDF").click()
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "application/pdf"
