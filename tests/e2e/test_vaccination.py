"""The nurse's vaccination journey in the browser: receive lots into stock, open a new US
immigrant from today's vaccination queue, give Tdap from a lot after checking its summary, copy
an MMR dose from the applicant's papers, record a refusal (shown as a refusal, not a waiver),
evidence of immunity and a sub-potent live dose (its questions unanswered until the nurse answers
them), mark an entry as made in error, and print the record; then the requirements of a US
refugee, an Australian refugee at the departure health check and a Canadian immigrant.

Sources: BRIEF §7.4 and §1.5, live vaccines are contraindicated in pregnancy and
immunosuppression [C S34, S13a]; refusal of a required vaccine without waiver [S13f]."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_workflow import sign_in

pytestmark = pytest.mark.e2e

LOTS = [("115", "SKB", "E2E-TDAP"), ("03", "MSD", "E2E-MMR")]


def register(
    page: Page, destination: str, programme: str, family: str, given: str, sex: str = "male"
) -> None:
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Register a family"
    ).click()
    page.get_by_role("combobox", name="Destination country").select_option(destination)
    page.get_by_role("combobox", name="Programme", exact=True).select_option(programme)
    person = {"family_name": family, "given_names": given, "dob": "1994-04-02", "sex": sex,
              "nationality": "SY"}  # fmt: skip
    for name, value in person.items():
        field = page.locator(f"#f-{name}")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Register family").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Case IST-\d{6}$"))).to_be_visible()


def receive(page: Page, cvx: str, mvx: str, lot: str) -> None:
    page.locator("#f-cvx").select_option(cvx)
    page.locator("#f-mvx").select_option(mvx)
    page.locator("#f-lot").fill(lot)
    page.locator("#f-expiry").fill((date.today() + timedelta(days=300)).isoformat())
    page.locator("#f-quantity").fill("20")
    page.get_by_role("button", name="Add to stock").click()
    expect(page.get_by_role("status")).to_contain_text(f"Lot {lot}")


def choose_lot(form: Locator, lot: str) -> None:
    select = form.get_by_label("Lot in stock")
    value = select.locator("option", has_text=f"lot {lot}").get_attribute("value")
    assert value
    select.select_option(value)


def open_from_record(page: Page, given: str, family: str) -> None:
    """From the case page just registered, through the clinical record's Vaccinations tab."""
    page.get_by_role("link", name=f"Exam record of {given} {family}").click()
    page.get_by_role("navigation", name="Clinical record").get_by_role(
        "link", name="Vaccinations"
    ).click()
    expect(page.get_by_role("heading", name="What the destination requires today")).to_be_visible()


def open_vaccinations(page: Page, family: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vaccinations").click()
    page.get_by_role("link", name=re.compile(f"vaccinations of .* {family}", re.I)).click()
    expect(page.get_by_role("heading", name="What the destination requires today")).to_be_visible()


def test_nurse_records_every_kind_of_dose(page: Page, live_server, shoot) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, "t_nurse")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vaccinations").click()
    page.get_by_role("link", name="Vaccine stock").click()
    for cvx, mvx, lot in LOTS:
        receive(page, cvx, mvx, lot)
    shoot("stock")
    register(page, "US", "immigrant", "Hamdan", "Amira", sex="female")
    open_vaccinations(page, "Hamdan")
    reqs = page.locator("#requirements")
    expect(reqs.locator("#r-tetanus")).to_contain_text("Give today")
    shoot("requirements")

    # "Give" leads to a summary to check; only "Confirm and record" writes.
    reqs.locator("#r-tetanus").get_by_role("button", name=re.compile("Give Tdap")).click()
    summary = page.locator("#confirm")
    expect(summary.get_by_role("heading", name="Check before you give: Tdap")).to_be_visible()
    expect(summary.locator("#s-applicant")).to_contain_text("HAMDAN, Amira · born 1994-04-02")
    expect(summary.locator("#s-lot")).to_contain_text("E2E-TDAP · expires")
    expect(summary.get_by_label("Route")).to_have_value("IM")
    expect(summary.get_by_label("Body site")).to_have_value("LD")
    expect(summary.locator("#s-giver")).not_to_be_empty()
    expect(summary).not_to_contain_text("Before a live vaccine")  # Tdap is not live
    shoot("confirm-tdap")
    summary.get_by_role("button", name="Confirm and record").click()
    expect(page.get_by_role("status")).to_contain_text("Given here: Tdap")
    # One valid dose meets the US requirement; the next is waived (insufficient interval).
    expect(page.locator("#r-tetanus")).to_contain_text("1 valid dose")

    historical = page.locator("#form-historical")
    historical.get_by_label("Vaccine").select_option("03")
    historical.get_by_label("Date given").fill("1995-06-01")
    historical.get_by_label("Known from").select_option("06")
    historical.get_by_role("button", name="Record the dose").click()
    expect(page.get_by_role("status")).to_contain_text("From papers: MMR")

    refusal = page.locator("#form-refused")
    refusal.get_by_label("Vaccine").select_option("21")
    refusal.get_by_label("Reason").select_option("03")
    refusal.get_by_role("button", name="Record the refusal").click()
    # A refusal is its own record, not a waiver: the requirement stays open [S13f].
    expect(page.locator("#r-varicella")).to_contain_text("Refused (not a waiver)")
    expect(page.locator("#r-varicella")).to_contain_text("Refused by the applicant on")
    expect(page.locator("#r-varicella")).not_to_contain_text("Waived")

    immune = page.locator("#form-immunity")
    immune.get_by_label("Immune to").select_option("271511000")
    immune.get_by_role("button", name="Record the evidence").click()
    expect(page.get_by_role("status")).to_contain_text("Immune")

    given = page.locator("#form-given")
    given.get_by_label("Dose").select_option("subpotent")
    choose_lot(given, "E2E-MMR")
    given.get_by_label("Route").select_option("SC")
    given.get_by_label("Site").select_option("LA")
    given.get_by_role("button", name="Check the dose").click()
    # A live vaccine: the questions start unanswered; confirming without answers is refused,
    # with the error next to each question, and nothing is written.
    summary = page.locator("#confirm")
    expect(summary.locator("#s-dose")).to_contain_text("Sub-potent")
    for question in ("immunosuppressed", "pregnant"):
        for answer in ("Yes", "No"):
            expect(
                summary.locator(f"#f-confirm-{question}").get_by_label(answer, exact=True)
            ).not_to_be_checked()
    summary.get_by_role("button", name="Confirm and record").click()
    summary = page.locator("#confirm")
    expect(summary.locator("#e-confirm-immunosuppressed")).to_contain_text("Answer the question")
    expect(summary.locator("#e-confirm-pregnant")).to_contain_text("is the applicant pregnant?")
    shoot("confirm-live-unanswered")
    summary.locator("#f-confirm-immunosuppressed").get_by_label("No", exact=True).check()
    summary.locator("#f-confirm-pregnant").get_by_label("No", exact=True).check()
    shoot("confirm-live-answered")
    summary.get_by_role("button", name="Confirm and record").click()
    expect(page.get_by_role("status")).to_contain_text("Sub-potent: MMR")
    history = page.locator("#history")
    expect(history).to_contain_text("Sub-potent")

    # A second MMR the same day is refused and names the field; nothing is written.
    given = page.locator("#form-given")
    given.get_by_label("Dose").select_option("administered")
    choose_lot(given, "E2E-MMR")
    given.get_by_label("Route").select_option("SC")
    given.get_by_label("Site").select_option("LA")
    page.locator("#form-given").get_by_label("Given at", exact=False).fill("1995-06-01T10:00")
    page.locator("#form-given").get_by_role("button", name="Check the dose").click()
    summary = page.locator("#confirm")
    summary.locator("#f-confirm-immunosuppressed").get_by_label("No", exact=True).check()
    summary.locator("#f-confirm-pregnant").get_by_label("No", exact=True).check()
    summary.get_by_role("button", name="Confirm and record").click()
    expect(page.locator(".error").first).to_be_visible()
    expect(page.locator("#confirm")).to_contain_text("already recorded on 1995-06-01")
    shoot("refused-dose")
    page.get_by_role("link", name="Cancel, give nothing").click()

    row = page.locator("#history tr", has_text="Sub-potent")
    row.get_by_text("Entered in error…").click()
    row.get_by_label("Why").fill("recorded on the wrong person")
    row.get_by_role("button", name="Mark as entered in error").click()
    expect(page.get_by_role("status")).to_contain_text("entered in error")
    expect(page.locator("#history")).to_contain_text("Entered in error")
    shoot("history")

    with page.expect_response(re.compile(r"/vaccinations/record\.pdf$")) as answer:
        page.get_by_role("link", name="Print the vaccination record (PDF)").click()
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "application/pdf"


@pytest.mark.parametrize(
    ("destination", "programme", "family", "row", "expected"),
    [
        ("US", "refugee", "Nasser", "#r-measles", "Not required"),
        ("AU", "refugee", "Saleh", "#r-measles", "Give today"),
    ],
)
def test_requirements_follow_the_destination(  # type: ignore[no-untyped-def]
    page: Page, live_server, shoot, destination, programme, family, row, expected
) -> None:
    sign_in(page, live_server, "t_nurse")
    register(page, destination, programme, family, "Omar")
    open_from_record(page, "Omar", family)
    expect(page.locator(row)).to_contain_text(expected)
    shoot(f"{destination}-{programme}")


def test_a_canadian_immigrant_has_no_vaccine_to_give(page: Page, live_server, shoot) -> None:  # type: ignore[no-untyped-def]
    """CA.toml requires no vaccine at the exam: not on the queue, reached from the exam record."""
    sign_in(page, live_server, "t_nurse")
    register(page, "CA", "immigrant", "Khalil", "Samir")
    open_from_record(page, "Samir", "Khalil")
    expect(page.locator("#requirements")).to_contain_text("No vaccine is required")
    expect(page.locator("#forecast")).to_be_visible()
    shoot("canada")
