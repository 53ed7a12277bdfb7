"""A nurse registers a family, adds its members, and finds the case again by name in another
spelling or script; a mistyped date and a second registration of the same person are caught."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page: Page, live_server, username: str = "t_nurse") -> None:
    page.goto(live_server("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()


def fill_person(page: Page, person: dict[str, str]) -> None:
    for name, value in person.items():
        field = page.locator(f"#f-{name}")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


PRINCIPAL = {
    "family_name": "Haddad",
    "given_names": "Mohammed",
    "family_name_original": "حداد",
    "given_names_original": "محمد",
    "dob": "1985-03-14",
    "sex": "male",
    "nationality": "SY",
}
SPOUSE = {
    "family_name": "Haddad",
    "given_names": "Fatima",
    "family_name_original": "حداد",
    "given_names_original": "فاطمة",
    "dob": "1988-07-02",
    "sex": "female",
    "nationality": "SY",
    "relationship": "spouse",
}
CHILD = {
    "family_name": "Haddad",
    "given_names": "Youssef",
    "family_name_original": "حداد",
    "given_names_original": "يوسف",
    "dob": "2015-11-20",
    "sex": "male",
    "nationality": "SY",
    "relationship": "child",
}


def test_nurse_registers_a_family_and_finds_it_again(page: Page, live_server, shoot) -> None:
    sign_in(page, live_server)
    shoot("today")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Register a family"
    ).click()
    expect(page.get_by_role("heading", name="Register a family")).to_be_visible()
    page.get_by_role("combobox", name="Destination country").select_option("US")
    page.get_by_role("combobox", name="Programme", exact=True).select_option("refugee")
    fill_person(page, PRINCIPAL)
    shoot("register-filled")
    page.get_by_role("button", name="Register family").click()

    heading = page.get_by_role("heading", name=re.compile(r"^Case IST-\d{6}$"))
    expect(heading).to_be_visible()
    case_number = heading.inner_text().removeprefix("Case ").strip()
    expect(page.get_by_role("status")).to_contain_text(f"Case {case_number} registered")
    members = page.get_by_role("table", name="Family members")
    expect(members.get_by_role("row")).to_have_count(2)  # header + principal
    shoot("case-registered")

    for person in (SPOUSE, CHILD):
        page.get_by_role("link", name="Add a family member").click()
        expect(
            page.get_by_role("heading", name=f"Add a family member to case {case_number}")
        ).to_be_visible()
        fill_person(page, person)
        if person is SPOUSE:
            shoot("member-filled")
        page.get_by_role("button", name="Add family member").click()
        expect(page.get_by_role("status")).to_contain_text(
            f"{person['given_names']} Haddad added to case {case_number}"
        )
    expect(members.get_by_role("row")).to_have_count(4)
    expect(members).to_contain_text("Spouse")
    expect(members).to_contain_text("Child")
    # Original-script names are laid out right to left, whatever the page direction.
    original = members.locator("[dir=auto]", has_text="يوسف")
    expect(original).to_have_count(1)
    assert original.evaluate("el => getComputedStyle(el).direction") == "rtl"
    shoot("case-with-family")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    shoot("case-list")

    # "Muhammad" is another transliteration of the principal's "Mohammed".
    page.get_by_role("searchbox", name="Name").fill("Muhammad Haddad")
    page.get_by_role("button", name="Search").click()
    outcome = page.get_by_text("You searched for")
    # Wait for the answer to this search, not the page it was typed on.
    expect(outcome).to_contain_text("Muhammad Haddad")
    expect(page.get_by_text("1 case matches your search.")).to_be_visible()
    results = page.get_by_role("table", name="Cases found")
    expect(results).to_contain_text(case_number)
    shoot("search-transliteration")

    # The child's given name typed in Arabic script finds the case too.
    page.get_by_role("searchbox", name="Name").fill("يوسف")
    page.get_by_role("button", name="Search").click()
    expect(outcome).to_contain_text("يوسف")
    expect(page.get_by_text("1 case matches your search.")).to_be_visible()
    expect(results).to_contain_text(case_number)
    expect(results).to_contain_text("Youssef (child)")
    shoot("search-arabic")

    results.get_by_role("link", name=case_number).click()
    expect(page.get_by_role("heading", name=f"Case {case_number}")).to_be_visible()


def test_future_birth_date_and_second_registration_are_caught(
    page: Page, live_server, shoot
) -> None:
    sign_in(page, live_server)
    person = {
        "family_name": "Rahimi",
        "given_names": "Zahra",
        "family_name_original": "رحیمی",
        "given_names_original": "زهرا",
        "dob": "2099-01-01",
        "sex": "female",
        "nationality": "AF",
    }

    def register(details: dict[str, str]) -> None:
        page.goto(live_server("/cases/new"))
        page.get_by_role("combobox", name="Destination country").select_option("CA")
        page.get_by_role("combobox", name="Programme", exact=True).select_option("refugee")
        fill_person(page, details)
        page.get_by_role("button", name="Register family").click()

    register(person)
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct 1 field")
    dob = page.locator("#f-dob")
    expect(dob).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-dob")).to_have_text("Date of birth cannot be in the future.")
    # What the nurse typed is still there, except that the fix is theirs to make.
    expect(page.locator("#f-given_names")).to_have_value("Zahra")
    shoot("register-future-dob")
    summary.get_by_role("link").click()
    expect(dob).to_be_focused()
    dob.fill("1992-05-30")
    page.get_by_role("button", name="Register family").click()
    heading = page.get_by_role("heading", name=re.compile(r"^Case IST-\d{6}$"))
    expect(heading).to_be_visible()
    first_case = heading.inner_text().removeprefix("Case ").strip()

    # The same woman again, her family name transliterated differently this time.
    register({**person, "family_name": "Rahimy", "dob": "1992-05-30"})
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("This person may already be registered")
    expect(warning.get_by_role("link", name=first_case)).to_be_visible()
    shoot("register-duplicate")
    warning.get_by_role("link", name=first_case).click()
    expect(page.get_by_role("heading", name=f"Case {first_case}")).to_be_visible()
