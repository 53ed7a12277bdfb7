"""An exam country with no WHO TB incidence estimate: the physician sees it on the workflow page.

BRIEF 1.2 [S1, S8]: a US child's IGRA depends on the exam country's WHO-estimated TB incidence.
Taiwan is not in WHO's estimates (country_rules/tb_incidence.toml): the plan names the problem,
the IGRA is held (blocked) with that reason, the page and the API say so, and clearance waits.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from pmha.workflow import service
from pmha.workflow.commands import FactsUpdate
from tests.conftest import login
from tests.factories import World, applicant_data, make_case

NO_TB = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False,
         "extrapulmonary_tb": False}  # fmt: skip
NAMED = "The exam country Taiwan (TW) has no WHO estimate of TB incidence in the rule tables"
HELD = "Held: the exam country Taiwan (TW) has no WHO TB incidence estimate in the rule tables"


@pytest.fixture()
def child_in_taiwan(session: Session, world: World, app: Flask) -> Any:
    """A child of 9 examined at a site in Taiwan, no TB signs: the IGRA hangs on the burden."""
    found = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(given_names="Mei", dob="2017-02-03"),
        programme="immigrant",
    )
    found.site.country = "TW"
    session.flush()
    rules = app.extensions["pmha.rules"]
    service.set_facts(
        session, world.actor("panel_physician"), rules, found.principal.id, FactsUpdate(**NO_TB)
    )
    session.commit()
    return found


def test_the_physician_sees_the_named_error_and_the_held_igra(
    app: Flask, world: World, child_in_taiwan: Any
) -> None:
    client = app.test_client()
    login(client, world.users["panel_physician"].username).close()
    response = client.get(f"/cases/{child_in_taiwan.id}/workflow")
    assert response.status_code == 200
    text = response.text
    response.close()
    assert "The plan is incomplete" in text
    assert NAMED in text
    assert "The physician must check the exam country" in text
    row = text[text.index('<span class="req-name">TB blood test (IGRA)') :]
    assert HELD in row[: row.index("</td>")]


def test_the_api_returns_the_problem_and_the_blocked_step(
    app: Flask, world: World, child_in_taiwan: Any
) -> None:
    client = app.test_client()
    response = client.get(
        f"/api/v1/applicants/{child_in_taiwan.principal.id}/workflow",
        headers=world.auth("panel_physician"),
    )
    assert response.status_code == 200, response.text
    body = response.get_json()
    response.close()
    (problem,) = body["plan"]["problems"]
    assert problem.startswith(NAMED)
    assert body["plan"]["tb_burden"]["category"] is None
    igra = next(s for s in body["steps"] if s["code"] == "igra")
    assert igra["planned_status"] == "blocked"
    assert igra["reason_detail"].startswith("held: the exam country Taiwan (TW)")
    assert body["clearance"]["status"] != "cleared"
    assert any(b["code"] == "igra" for b in body["clearance"]["blockers"])
