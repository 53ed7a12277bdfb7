"""The service starts, migrates and answers its main pages and API."""

from __future__ import annotations

from tests.conftest import login
from tests.factories import case_data


def test_login_page_answers(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Sign in to PMHA" in response.text


def test_register_and_read_case_over_api(client, world):
    response = client.post("/api/v1/cases", json=case_data(), headers=world.auth("nurse"))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["case_number"] == "IST-000001"
    assert body["applicants"][0]["family_name"] == "Haddad"
    read = client.get(f"/api/v1/cases/{body['id']}", headers=world.auth("panel_physician"))
    assert read.status_code == 200
    assert read.json["id"] == body["id"]


def test_pages_after_login(client, world):
    assert login(client, "t_nurse").status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/cases").status_code == 200
    assert client.get("/cases/new").status_code == 200
