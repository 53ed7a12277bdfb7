"""The travel API: bad input is a problem+json with a stable code and the field named, and
nothing is written; the board, the certificate and the public verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pmha.core.http import PROBLEM
from pmha.travel.models import Certificate, Departure, FitnessCheck
from tests.factories import PASSWORD
from tests.travel.helpers import booked, clear, departure, family

NOW = datetime.now(UTC).replace(microsecond=0)
GOOD = {"carrier": "TK", "flight_number": "1", "route": "IST-ORD", "destination": "US"}


def count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["code"] == code
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"departs_at": (NOW - timedelta(hours=2)).isoformat()}, "departs_at"),  # in the past
        ({"carrier": "ZZ"}, "carrier"),  # no carrier rule for it
        ({"departs_at": (NOW + timedelta(days=1)).replace(tzinfo=None).isoformat()}, "departs_at"),
        ({"route": "Istanbul to Chicago"}, "route"),
        ({"destination": "FR"}, "destination"),
        ({"flight_number": "1\x00"}, "flight_number"),
        ({"seats": 300}, "seats"),  # unknown field
    ],
)
def test_a_bad_departure_is_a_422_naming_the_field(client, world, session, change, field):
    before = count(session, Departure)
    body = {**GOOD, "departs_at": (NOW + timedelta(days=1)).isoformat(), **change}
    response = client.post("/api/v1/departures", json=body, headers=world.auth("operations"))
    found = problem(response, 422, "validation.failed")
    assert field in found["errors"]
    assert "Haddad" not in response.get_data(as_text=True)
    assert count(session, Departure) == before


@pytest.fixture()
def booked_traveller(app, session, world):
    with app.app_context():
        dep = departure(session, world, days=2)
        case = booked(session, world, dep, family(session, world))
        session.commit()
    return dep, case.applicants[0]


def test_a_check_after_the_flight_is_refused(client, world, session, booked_traveller):
    dep, a = booked_traveller
    before = count(session, FitnessCheck)
    late = (dep.departs_at + timedelta(hours=2)).isoformat()
    response = client.post(
        f"/api/v1/applicants/{a.id}/fitness-checks",
        json={"kind": "pec", "checked_at": late},
        headers=world.auth("panel_physician"),
    )
    assert "checked_at" in problem(response, 422, "validation.failed")["errors"]
    response = client.post(
        f"/api/v1/applicants/{a.id}/fitness-checks",
        json={"kind": "pec", "checked_at": NOW.isoformat(), "symptoms": ["headache"]},
        headers=world.auth("panel_physician"),
    )
    assert "symptoms" in problem(response, 422, "validation.failed")["errors"]
    assert count(session, FitnessCheck) == before


def test_no_certificate_for_an_uncleared_traveller(client, world, session, booked_traveller):
    _, a = booked_traveller
    before = count(session, Certificate)
    response = client.post(
        f"/api/v1/applicants/{a.id}/certificate",
        json={"password": PASSWORD},
        headers=world.auth("operations"),
    )
    body = problem(response, 409, "travel.clearance_blocked")
    assert "tb" not in body["detail"].lower()
    assert count(session, Certificate) == before


def test_a_traveller_not_on_a_departure_is_a_409(client, world, session, app):
    with app.app_context():
        case = family(session, world)
        session.commit()
    response = client.post(
        f"/api/v1/applicants/{case.applicants[0].id}/fitness-checks",
        json={"kind": "pec", "checked_at": NOW.isoformat()},
        headers=world.auth("panel_physician"),
    )
    problem(response, 409, "travel.not_booked")


def test_the_board_certificate_and_verification(client, world, session, app, rules):
    with app.app_context():
        dep = departure(session, world, days=2)
        case = booked(session, world, dep, family(session, world))
        clear(session, world, rules, case.applicants[0].id)
        session.commit()
    a = case.applicants[0]
    board = client.get(f"/api/v1/departures/{dep.id}/board", headers=world.auth("nurse"))
    assert board.status_code == 200
    body = board.get_json()
    assert (body["total"], body["ready"]) == (1, 0)
    assert body["travellers"][0]["due"][0].startswith("Pre-embarkation check")
    # The certificate names a registered physician as its signatory [issue 17]: an operations
    # officer has no registration number, so their signature is refused, and nothing is issued.
    refused = client.post(
        f"/api/v1/applicants/{a.id}/certificate",
        json={"password": PASSWORD},
        headers=world.auth("operations"),
    )
    problem(refused, 422, "travel.signatory_unregistered")
    issued = client.post(
        f"/api/v1/applicants/{a.id}/certificate",
        json={"password": PASSWORD},
        headers=world.auth("panel_physician"),
    )
    assert issued.status_code == 201
    code, tok = issued.get_json()["code"], issued.get_json()["token"]
    for text in (code, tok):
        found = client.post(
            "/api/v1/certificates/verify", json={"code": text}, headers=world.auth("nurse")
        )
        assert found.status_code == 200 and found.get_json()["status"] == "valid"
    short = client.post(
        "/api/v1/certificates/verify", json={"code": "x"}, headers=world.auth("nurse")
    )
    assert short.status_code == 422
    pdf = client.get(f"/api/v1/applicants/{a.id}/certificate.pdf", headers=world.auth("operations"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "Haddad" not in pdf.headers["Content-Disposition"]


def test_the_board_page_sorts_filters_and_exports_csv(
    client, signed_in, world, session, app, rules
):
    with app.app_context():
        dep = departure(session, world, days=2)
        case = booked(session, world, dep, family(session, world, children=1))
        clear(session, world, rules, case.applicants[0].id)
        session.commit()
    signed_in("operations")
    page = client.get(f"/departures/{dep.id}?sort=status&show=blocked")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "0 of 2 ready" in text and "ChildA" in text and ">Omar<" not in text
    csv = client.get(f"/departures/{dep.id}/board.csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("case,traveller,clearance") and len(lines) == 3
    assert f"departure-{dep.id}.csv" in csv.headers["Content-Disposition"]


def test_the_departure_form_names_a_flight_in_the_past(client, signed_in, world, session):
    from tests.conftest import csrf_token

    signed_in("operations")
    token = csrf_token(client.get("/departures").get_data(as_text=True))
    before = count(session, Departure)
    past = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/departures", data={**GOOD, "carrier": "ZZ", "departs_at": past, "csrf_token": token}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="e-departs_at"' in text and "The departure is in the past." in text
    assert 'id="e-carrier"' in text and "No carrier rule for ZZ" in text
    assert count(session, Departure) == before
