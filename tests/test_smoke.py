"""The service starts, migrates and answers its main pages and API."""

from __future__ import annotations

import pytest
from flask import url_for

from pmha.core.auth import Role
from pmha.web.views import TODAY
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


@pytest.mark.parametrize("role", [r for r in Role if TODAY.get(r)], ids=lambda r: r.value)
def test_every_card_on_the_today_page_opens_for_its_role(client, world, role):
    """The Today page links each role to its own queues; none of them may answer 403 or 404."""
    assert login(client, f"t_{role.value}").status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "will be listed here" not in page.text
    with client.application.test_request_context():
        links = [url_for(endpoint) for _, endpoint in TODAY[role]]
    for link in links:
        assert f'href="{link}"' in page.text
        assert client.get(link).status_code == 200, link
