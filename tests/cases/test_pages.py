"""The case pages a clinic user works with: register, add members, search, and who may see what."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pmha.cases.models import Applicant, FamilyCase
from pmha.core.db import utcnow
from pmha.web.words import age_text
from tests.conftest import csrf_token
from tests.factories import applicant_data, dob, make_case

PRINCIPAL_FORM = {
    "destination": "US",
    "programme": "refugee",
    "family_name": "Haddad",
    "given_names": "Omar",
    "family_name_original": "حداد",
    "given_names_original": "عمر",
    "dob": "1985-03-14",
    "sex": "male",
    "nationality": "SY",
}


def counts(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(FamilyCase)),
        session.scalar(select(func.count()).select_from(Applicant)),
    )


def post_form(client, path: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(path).text)
    return client.post(path, data={**data, "csrf_token": token})


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="e-{name}">([^<]*)</p>', html)
    assert match, f"no inline error for {name}"
    return match.group(1)


@pytest.fixture()
def nurse(signed_in):
    return signed_in("nurse")


def test_register_form_creates_the_case_and_shows_it(nurse, session):
    response = post_form(nurse, "/cases/new", {**PRINCIPAL_FORM, "nationality": "sy"})

    assert response.status_code == 302
    case = session.scalars(select(FamilyCase)).one()
    assert response.headers["Location"] == f"/cases/{case.id}"
    principal = case.principal
    assert (principal.family_name, principal.given_names_original) == ("Haddad", "عمر")
    assert principal.nationality == "SY"  # typed in lower case, stored as the ISO code
    page = nurse.get(response.headers["Location"])
    assert page.status_code == 200
    assert f"Case {case.case_number}" in page.text
    assert "registered. Now add the other family members." in page.text
    assert '<bdi dir="auto" class="original"><strong>حداد</strong> عمر</bdi>' in page.text


def test_register_form_shows_errors_next_to_fields_and_writes_nothing(nurse, session):
    future = (utcnow().date() + timedelta(days=1)).isoformat()
    form = {**PRINCIPAL_FORM, "dob": future, "family_name": "", "doc_number": "N123"}
    before = counts(session)

    response = post_form(nurse, "/cases/new", form)

    assert response.status_code == 422
    html = response.text
    assert field_error(html, "dob") == "Date of birth cannot be in the future."
    assert field_error(html, "family_name") == "Enter the family name."
    # A document number without its type opens the document part and says what is missing.
    assert field_error(html, "doc_type") == "Choose the document type."
    assert field_error(html, "doc_country") == "Choose the country that issued the document."
    assert '<details class="subform" open>' in html
    assert 'id="f-dob" name="dob" type="date" value="' + future + '"' in html
    assert 'aria-invalid="true" aria-describedby="e-dob"' in html
    assert "Please correct 4 fields" in html
    assert (
        '<a href="#f-family_name"><strong>Family name:</strong> Enter the family name.</a>' in html
    )
    assert 'value="Omar"' in html  # what was typed is kept
    assert counts(session) == before


def test_duplicate_warning_then_register_anyway(nurse, session, world):
    existing = make_case(session, world.actor("nurse"))
    session.commit()
    before = counts(session)
    # The same man, his name spelled another way.
    again = {**PRINCIPAL_FORM, "family_name": "Hadad", "given_names": "Omer"}

    warned = post_form(nurse, "/cases/new", again)

    assert warned.status_code == 409
    assert "This person may already be registered" in warned.text
    assert f">{existing.case_number}</a>" in warned.text
    assert 'name="acknowledge_duplicates" type="checkbox" value="y"' in warned.text
    assert 'value="Hadad"' in warned.text
    assert counts(session) == before

    registered = post_form(nurse, "/cases/new", {**again, "acknowledge_duplicates": "y"})

    assert registered.status_code == 302
    assert counts(session) == (before[0] + 1, before[1] + 1)


def test_add_member_form(nurse, session, world):
    case = make_case(session, world.actor("nurse"))
    session.commit()
    path = f"/cases/{case.id}/members/new"
    form = nurse.get(path).text
    assert 'value="principal"' not in form  # a case has one principal, made at registration

    missing = post_form(
        nurse, path, {**PRINCIPAL_FORM, "given_names": "Layla", "dob": "2016-02-01"}
    )
    assert missing.status_code == 422
    assert field_error(missing.text, "relationship") == "Choose the relationship."

    child = {**PRINCIPAL_FORM, "given_names": "Layla", "given_names_original": "ليلى",
             "dob": "2016-02-01", "sex": "female", "relationship": "child"}  # fmt: skip
    added = post_form(nurse, path, child)

    assert added.status_code == 302
    assert added.headers["Location"] == f"/cases/{case.id}"
    page = nurse.get(added.headers["Location"]).text
    assert "Layla Haddad added to case" in page
    assert "Child" in page


@pytest.fixture()
def two_cases(session, world):
    nurse = world.actor("nurse")
    haddad = make_case(session, nurse)
    rahimi = make_case(
        session,
        nurse,
        destination="CA",
        principal={
            "family_name": "Rahimi",
            "given_names": "Zahra",
            "family_name_original": "رحیمی",
            "given_names_original": "زهرا",
            "dob": "1992-05-30",
            "sex": "female",
            "nationality": "AF",
            "relationship": "principal",
        },
    )
    session.commit()
    return haddad, rahimi


@pytest.mark.parametrize(
    "search",
    [
        {"q": "Haddad"},  # Latin, as registered
        {"q": "haddad omar"},  # both names, any case
        {"q": "Hadad"},  # another transliteration
        {"q": "حداد"},  # Arabic script
        {"q": "عمر"},
        {"case_number": "IST-000001"},
        {"case_number": "ist-000001"},  # in lower case
        {"dob": "1985-03-14"},
    ],
    ids=lambda s: "-".join(s),
)
def test_search_form_finds_the_case(nurse, two_cases, search):
    haddad, rahimi = two_cases

    response = post_form(nurse, "/cases", search)

    assert response.status_code == 200
    assert "1 case matches your search." in response.text
    assert f">{haddad.case_number}</a>" in response.text
    assert rahimi.case_number not in response.text


def test_search_without_a_match_says_so(nurse, two_cases):
    response = post_form(nurse, "/cases", {"q": "Nobody"})
    assert response.status_code == 200
    assert "0 cases match your search." in response.text
    assert "You searched for name “<bdi>Nobody</bdi>”." in response.text
    assert "No case matches." in response.text


def test_search_with_a_bad_field_is_a_422(nurse, two_cases):
    response = post_form(nurse, "/cases", {"case_number": "X" * 30})
    assert response.status_code == 422
    # issue 18: a validator's message names the field as its label says
    said = "Case number must be 1 to 24 characters long."
    assert field_error(response.text, "case_number") == said


def test_case_list_without_search_lists_latest_cases(nurse, two_cases):
    response = nurse.get("/cases")
    assert response.status_code == 200
    assert "Latest cases at your sites (2 in all)." in response.text


def test_another_sites_case_is_not_found(nurse, session, world):
    theirs = make_case(session, world.actor("foreign"))
    session.commit()

    assert nurse.get(f"/cases/{theirs.id}").status_code == 404
    assert nurse.get(f"/cases/{theirs.id}/members/new").status_code == 404
    assert theirs.case_number not in nurse.get("/cases").text


def test_role_without_write_permission_cannot_register(signed_in, session):
    radiologist = signed_in("radiologist")

    assert radiologist.get("/cases/new").status_code == 403
    token = csrf_token(radiologist.get("/cases").text)
    before = counts(session)
    posted = radiologist.post("/cases/new", data={**PRINCIPAL_FORM, "csrf_token": token})
    assert posted.status_code == 403
    assert counts(session) == before
    # They can still find cases, and are not offered what they may not do.
    listing = radiologist.get("/cases")
    assert listing.status_code == 200
    assert 'href="/cases/new"' not in listing.text


def test_signed_out_user_is_sent_to_sign_in(client, world):
    response = client.get("/cases/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("born", "today", "expected"),
    [
        ("1985-03-14", "2026-03-13", "40 years"),
        ("1985-03-14", "2026-03-14", "41 years"),
        ("2024-01-31", "2026-01-30", "23 months"),
        ("2025-12-01", "2026-01-01", "1 month"),
        ("2026-01-01", "2026-01-20", "0 months"),
    ],
)
def test_age_is_in_years_and_under_two_in_months(born, today, expected):
    assert age_text(dob(born), dob(today)) == expected


def test_pager_moves_through_search_results(nurse, session, world):
    actor = world.actor("nurse")
    for _ in range(26):
        make_case(session, actor, principal=applicant_data(acknowledge_duplicates=True))
    session.commit()

    first = post_form(nurse, "/cases", {"q": "Haddad"})
    assert "26 cases match your search." in first.text
    assert "Page 1 of 2" in first.text
    second = post_form(nurse, "/cases", {"q": "Haddad", "page": "2"})
    assert "Page 2 of 2" in second.text
    # The pager's own page number is the only one it sends: no stale page field rides along.
    assert second.text.count('name="page"') == 1
    assert 'name="q" value="Haddad"' in second.text
