"""Issue 18, "Words" and "Time": codes and validators' messages become sentences naming the field as
its label says; pages show and accept the site's local time; relative dates read naturally.

The wordings asserted are the issue's own examples: "Temperature c: Must be greater than or equal
to 30" -> a sentence naming "Temperature (°C)"; "Your role does not allow cases:read." -> what the
role cannot do; "pending: awaiting tb treatment under dot" -> "Waiting for TB treatment under
directly observed therapy"; "in -2531 days" never."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.web import localtime, words
from tests.conftest import csrf_token, login
from tests.web.test_words_crawl import offences, text_of

# --- words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "label", "said"),
    [
        ("Must be greater than or equal to 30.", "Temperature (°C)",
         "Temperature (°C) must be at least 30."),
        ("Must be greater than or equal to 30 and less than or equal to 45.", "Temperature (°C)",
         "Temperature (°C) must be from 30 to 45."),
        ("Must be less than or equal to 250.", "Pulse", "Pulse must be at most 250."),
        ("Length must be between 1 and 100.", "Full name",
         "Full name must be 1 to 100 characters long."),
        ("Length must be between 2 and 120.", "Full name",
         "Full name must be 2 to 120 characters long."),
        ("Missing data for required field.", "Date of birth", "Date of birth is required."),
        ("Not a valid integer.", "Pulse", "Pulse must be a whole number."),
        ("Must be one of: fit, unfit.", "Outcome", "Outcome must be one of the choices offered."),
        ("Give the date and time of departure.", "Departs at",
         "Give the date and time of departure."),
    ],
)  # fmt: skip
def test_validator_messages_become_sentences_naming_the_field(
    message: str, label: str, said: str
) -> None:
    assert words.error_sentence(message, label) == said
    assert not offences(said)


def test_a_field_without_a_label_is_named_by_the_known_words() -> None:
    assert words.field_label("temperature_c") == "Temperature (°C)"
    assert words.field_label("principal.dob") == "Date of birth"
    assert words.sentence("Temperature c: Must be greater than or equal to 30") == (
        "Temperature (°C) must be at least 30."
    )
    assert words.field_errors({"temperature_c": ["Must be greater than or equal to 30."]}) == {
        "temperature_c": ["Temperature (°C) must be at least 30."]
    }


def test_a_raw_message_printed_by_any_template_is_worded(app: Flask) -> None:
    """The safety net: a template printing errors itself, not through the macros."""
    with app.test_request_context():
        page = app.jinja_env.from_string("<p>{{ errors|join(' ') }}</p>{{ ok }}").render(
            errors=["Not a valid number.", "Missing data for required field."], ok="Fine."
        )
    assert page == "<p>This field must be a number. This field is required.</p>Fine."
    note = "Patient said: Invalid value on the form.\nMust be seen again."
    assert words.finalize(note) == note  # text typed by a user is left as it is


def test_permissions_statuses_and_reasons_in_words() -> None:
    said = words.error_detail("Your role does not allow cases:read.")
    assert said.startswith("Your role cannot open cases.") and "cases:read" not in said
    assert words.awaiting_words(["tb_treatment_dot"]) == (
        "Waiting for TB treatment under directly observed therapy"
    )
    assert words.status_words("cleared_with_conditions") == "Cleared with conditions"
    said = words.reason_words("religious_or_moral_waiver")
    assert said == "Religious or moral objection (waiver)"
    assert words.code_words("class_b1_pulmonary") == "Class B1 (pulmonary)"
    for permission in words.PERMISSION_WORDS:
        assert not offences(words.permission_denied(permission)), permission


# --- time ----------------------------------------------------------------------------------------


def test_relative_days_read_naturally() -> None:
    today = date(2026, 12, 7)
    said = {d: localtime.relative_day(date(2026, 12, d), today) for d in (1, 5, 6, 7, 8, 9, 31)}
    assert said == {1: "6 days ago", 5: "2 days ago", 6: "yesterday", 7: "today",
                    8: "tomorrow", 9: "in 2 days", 31: "in 24 days"}  # fmt: skip
    assert localtime.relative_day(date(2020, 1, 1), today) == "7 years ago"  # not "in -2531 days"


def test_local_time_shown_and_read_in_the_sites_zone(app: Flask) -> None:
    """Default zone Europe/Istanbul (UTC+3, no daylight saving since 2016)."""
    with app.test_request_context():
        moment = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
        assert localtime.local(moment) == "2026-12-07 10:30"
        assert localtime.local_input(moment) == "2026-12-07T10:30"
        assert localtime.from_local("2026-12-07T10:30") == moment
        assert localtime.from_local("2026-12-07T10:30+00:00") == moment.replace(hour=10)
        assert localtime.zone_name() == "UTC+3"


def test_a_site_zone_comes_from_configuration(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMHA_SITE_TIME_ZONES", "IST=Europe/Istanbul, LHR=Europe/London")
    with app.test_request_context():
        assert str(localtime.site_zone("LHR")) == "Europe/London"
        assert str(localtime.site_zone("IST")) == "Europe/Istanbul"
        assert str(localtime.site_zone("ZZZ")) == "Europe/Istanbul"


# --- pages ---------------------------------------------------------------------------------------


def _as(client: FlaskClient, users: dict[str, tuple[str, str]], role: str) -> FlaskClient:
    assert login(client, *users[role]).status_code == 302
    return client


def test_a_refused_page_says_what_the_role_cannot_do(
    client: FlaskClient, demo_users: dict[str, tuple[str, str]]
) -> None:
    page = _as(client, demo_users, "nurse").get("/admin/users")
    assert page.status_code == 403
    text = text_of(page.text)
    assert "Your role cannot manage user accounts." in text
    assert not offences(text)


def test_an_invalid_check_says_so_in_the_labels_words(
    client: FlaskClient, demo_users: dict[str, tuple[str, str]]
) -> None:
    """The issue's example: a temperature of 20 on the pre-embarkation check."""
    client = _as(client, demo_users, "panel_physician")
    board = client.get("/departures")
    departure = re.search(r'href="(/departures/[0-9a-f-]{36})"', board.text)
    assert departure
    page = client.get(departure.group(1))
    traveller = re.search(r'href="(/departures/[0-9a-f-]{36}/travellers/[0-9a-f-]{36})"', page.text)
    assert traveller
    url = traveller.group(1)
    form = client.get(url)
    answer = client.post(
        url + "/check",
        data={
            "csrf_token": csrf_token(form.text),
            "kind": "pec",
            "checked_at": "2026-12-07T10:30",
            "temperature_c": "20",
        },
    )
    assert answer.status_code == 422
    text = text_of(answer.text)
    assert "Temperature (°C) must be from 30 to 45." in text
    assert not offences(text)


def test_an_invalid_user_form_names_its_fields(
    client: FlaskClient, demo_users: dict[str, tuple[str, str]]
) -> None:
    client = _as(client, demo_users, "admin")
    form = client.get("/admin/users")
    answer = client.post(
        "/admin/users",
        data={"csrf_token": csrf_token(form.text), "username": "x", "full_name": "A"},
    )
    assert answer.status_code == 422
    text = text_of(answer.text)
    summary = " ".join(text.split("Please correct", 1)[1].split("Add user", 1)[0].split())
    assert "must be 2 to 60 characters long" in text, summary
    assert "Initial password must be 12 to 200 characters long." in summary
    assert "Roles are required." in summary
    assert not offences(text)


def test_a_departure_is_entered_in_local_time_and_kept_in_utc(
    client: FlaskClient, session: Session, demo_users: dict[str, tuple[str, str]]
) -> None:
    from pmha.travel.models import Departure

    client = _as(client, demo_users, "operations")
    page = client.get("/departures")
    assert "Departs at (local time, UTC+3)" in text_of(page.text)
    answer = client.post(
        "/departures",
        data={"csrf_token": csrf_token(page.text), "carrier": "TK", "flight_number": "1979",
              "departs_at": "2027-01-10T10:00", "route": "IST-ORD", "destination": "US"},
    )  # fmt: skip
    assert answer.status_code == 302, text_of(answer.text)
    made = session.scalars(select(Departure).where(Departure.flight_number == "1979")).one()
    assert made.departs_at.replace(tzinfo=UTC) == datetime(2027, 1, 10, 7, 0, tzinfo=UTC)
    board = client.get(answer.headers["Location"])
    assert "2027-01-10 10:00" in text_of(board.text)


def test_favicon_answers(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as icon:  # the file response is closed with the request
        assert icon.status_code == 200
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO header


# --- signed records name the signer --------------------------------------------------------------


def test_what_a_user_signs_or_confirms_carries_their_full_name(
    client: FlaskClient, session: Session, demo_users: dict[str, tuple[str, str]]
) -> None:
    """Issue 18, "Smaller": "signed records show a username"; they show the full name."""
    from pmha.accounts.models import User
    from pmha.accounts.service import actor_for, display_name
    from pmha.demo import DEMO_NAMES
    from pmha.exams.models import ExamSection

    user = session.scalars(select(User).where(User.username == "physician")).one()
    assert display_name(actor_for(user, ip=None, request_id=None, via="cli")) == user.full_name
    signers = set(session.scalars(select(ExamSection.signed_by_name)))
    assert user.full_name in signers and "physician" not in signers
    assert user.full_name == DEMO_NAMES[next(iter(user.roles))]
    page = _as(client, demo_users, "panel_physician").get("/")
    assert user.full_name in text_of(page.text)


def test_audit_rows_name_the_case_and_link_to_its_events(
    client: FlaskClient, demo_users: dict[str, tuple[str, str]]
) -> None:
    """Issue 18: 'audit rows read "applicant 8ab8091f" with no case number or link'."""
    client = _as(client, demo_users, "auditor")
    page = client.get("/audit?record_type=applicant")
    assert page.status_code == 200
    link = r'of case <a href="\?record_id=([0-9a-f-]{36})"[^>]*>([A-Z]{3}-\d{6})</a>'
    found = re.search(link, page.text)
    assert found, text_of(page.text)[:2000]
    events = client.get(f"/audit?record_id={found.group(1)}")
    assert found.group(2) in text_of(events.text)
    assert client.get("/audit?action=login+failed").status_code == 200


def test_rule_ids_are_behind_details_for_the_physician_only(
    client: FlaskClient, demo_users: dict[str, tuple[str, str]]
) -> None:
    """Issue 18: "Rule ids and sources live behind a 'details' disclosure for physicians only"."""
    client = _as(client, demo_users, "panel_physician")
    board = client.get("/worklists/operations")
    found = re.search(r'href="(/cases/[0-9a-f-]{36}/workflow)"', board.text)
    assert found, "no case on the clearance board"
    page = client.get(found.group(1)).text
    details = re.findall(r'(?s)<details class="rule-details[^"]*">(.*?)</details>', page)
    assert any(re.search(r"\b(?:us|ca|au|nz|gb)\.[a-z_]+\.", d) for d in details)
    assert "<summary>Details</summary>" in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    nurse = _as(client, demo_users, "nurse").get(found.group(1)).text
    assert 'class="rule-details' not in nurse
    assert not offences(text_of(nurse))
