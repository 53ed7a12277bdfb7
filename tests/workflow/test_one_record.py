"""One record per fact: a requirement with its own record is settled only through that record.

Regression tests for issue 14's defects: "Fit" or "Normal" could be recorded from a dropdown on
the workflow page with no vital signs and no exam; a PEC recorded as Fit on the traveller page
left the workflow's pec step Pending; lab results typed on the workflow page were missing from
the Labs tab.

Clinical sources (BRIEF): a US adult's chest X-ray is read by a radiologist on DS-3030 [S1, S8];
the PEC is a check 24-72 h before departure for all US refugees [S19], its outcomes
[S31a]; syphilis serology for US applicants aged 18 and over [S12c]; the physical examination
and mental health assessment are the panel physician's (DS-2054) [S13a, S13b].
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.http import PROBLEM
from pmha.exams import lab_service
from pmha.exams.commands import NewLabResult
from pmha.travel import checks
from pmha.travel.commands import NewCheck
from pmha.workflow import owners, service
from pmha.workflow.models import PlanRecord, Step, StepResult, StepState
from tests.conftest import csrf_token
from tests.factories import World, applicant_data, make_case
from tests.travel.helpers import booked, clear, departure, family

TODAY = date.today()
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture()
def rules(app: Flask) -> Any:
    return app.extensions["pmha.rules"]


@pytest.fixture()
def adult(session: Session, world: World) -> Any:
    """A US refugee adult: chest X-ray, exam sections, syphilis serology and PEC are planned."""
    case = make_case(session, world.actor("nurse"), principal=applicant_data(nationality="SY"))
    session.commit()
    return case.applicants[0]


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def step_of(session: Session, applicant_id: Any, code: str) -> Step:
    session.expire_all()
    step = session.scalar(select(Step).where(Step.applicant_id == applicant_id, Step.code == code))
    assert step is not None
    return step


# The "Fit"/"Normal" dropdown: each of these has its own record and is refused from the workflow.
FREE_RESULTS = [
    ("chest_xray", "normal", "radiologist", "X-ray reading"),  # [S1, S8]
    ("physical_exam", "normal", "panel_physician", "exam record"),  # [S13a]
    ("mental_health", "normal", "panel_physician", "exam record"),  # [S13b]
    ("medical_history", "completed", "panel_physician", "exam record"),  # [S13a]
    ("syphilis_serology", "non_reactive", "lab_technician", "Labs tab"),  # [S12c]
    ("pec", "fit", "panel_physician", "traveller's page"),  # [S19, S31a]
]


@pytest.mark.parametrize(("code", "value", "role", "where"), FREE_RESULTS)
def test_the_api_refuses_a_free_result_for_a_requirement_with_its_own_record(
    client: FlaskClient,
    session: Session,
    world: World,
    rules: Any,
    adult: Any,
    code: str,
    value: str,
    role: str,
    where: str,
) -> None:
    service.current(session, world.actor(role), rules, adult.id)
    session.commit()
    results, plans = count(session, StepResult), count(session, PlanRecord)
    response = client.post(
        f"/api/v1/applicants/{adult.id}/results",
        json={"code": code, "value": value, "date": TODAY.isoformat()},
        headers=world.auth(role),
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["code"] == "workflow.result_recorded_elsewhere"
    assert where in body["detail"] and "cannot be typed on the workflow page" in body["detail"]
    assert adult.family_name not in response.get_data(as_text=True)
    assert count(session, StepResult) == results  # nothing written
    assert count(session, PlanRecord) == plans
    assert step_of(session, adult.id, code).state == StepState.PENDING
    assert audit.verify(session).ok


def test_the_api_says_where_each_step_is_recorded(
    client: FlaskClient, world: World, adult: Any
) -> None:
    response = client.get(
        f"/api/v1/applicants/{adult.id}/workflow", headers=world.auth("panel_physician")
    )
    assert response.status_code == 200
    steps = {s["code"]: s for s in response.get_json()["steps"]}
    assert steps["chest_xray"]["recorded_in"].startswith("the chest X-ray reading, by the")
    assert "Labs tab" in steps["syphilis_serology"]["recorded_in"]
    assert "traveller's page" in steps["pec"]["recorded_in"]


def test_the_page_refuses_a_typed_normal_and_says_where_to_record_it(
    signed_in: Any, session: Session, world: World, adult: Any
) -> None:
    client = signed_in("panel_physician")
    page = f"/cases/{adult.case_id}/workflow"
    text = client.get(page).get_data(as_text=True)
    results, plans = count(session, StepResult), count(session, PlanRecord)
    response = client.post(
        f"{page}/applicants/{adult.id}/results",
        data={
            "code": "physical_exam",
            "value": "normal",
            "date": TODAY.isoformat(),
            "csrf_token": csrf_token(text),
        },
    )
    assert response.status_code == 422
    assert "Physical examination: the result comes only from the signed exam section" in (
        response.get_data(as_text=True)
    )
    assert count(session, StepResult) == results
    assert count(session, PlanRecord) == plans
    assert step_of(session, adult.id, "physical_exam").state == StepState.PENDING
    assert audit.verify(session).ok


def test_the_page_links_each_owned_step_to_its_record_instead_of_a_form(
    signed_in: Any, adult: Any
) -> None:
    text = signed_in("panel_physician").get(f"/cases/{adult.case_id}/workflow").text
    forms = re.findall(r'name="code" value="([a-z_]+)"', text)
    assert not set(forms) & set(owners.OWNERS), forms  # no free result for an owned step
    base = f"/cases/{adult.case_id}/applicants/{adult.id}"
    assert f'href="{base}/exam#sec-physical_exam"' in text
    assert f'href="{base}/labs"' in text
    assert "Sign it on the exam record" in text and "Order and result on the Labs tab" in text


def test_a_lab_result_settles_its_step_and_the_workflow_links_to_it(
    signed_in: Any, session: Session, world: World, rules: Any, adult: Any
) -> None:
    """Syphilis serology for a US adult [S12c], entered on its order (the Labs tab)."""
    physician = world.actor("panel_physician")
    order = lab_service.order_tests(session, physician, rules, adult.id, ["syphilis_serology"])[0]
    data: dict[str, Any] = {
        "value": "non_reactive",
        "date": TODAY,
        "details": {"treponemal": "non_reactive"},
    }
    if getattr(order, "accession", None):
        data["specimen_number"] = order.accession
    result = lab_service.record_result(
        session, world.actor("lab_technician"), rules, order.id, NewLabResult(**data)
    )
    session.commit()
    row = session.scalar(
        select(StepResult).where(
            StepResult.applicant_id == adult.id, StepResult.code == "syphilis_serology"
        )
    )
    assert row is not None
    assert (row.source_kind, row.source_id) == ("lab_result", result.id)
    assert step_of(session, adult.id, "syphilis_serology").state == StepState.DONE
    text = signed_in("panel_physician").get(f"/cases/{adult.case_id}/workflow").text
    assert re.search(r'href="[^"]*/labs">from the lab result of \d+ \w+ \d{4}</a>', text)


# --- the traveller page and the workflow agree on every check [S19, S31a] -----------------------


@pytest.fixture()
def ready(app: Flask, session: Session, world: World, rules: Any) -> Any:
    """A cleared US refugee on a flight in 2 days: the PEC is what is left [S19]."""
    with app.app_context():
        dep = departure(session, world, days=2)
        case = booked(session, world, dep, family(session, world))
        clear(session, world, rules, case.applicants[0].id)
        session.commit()
    return dep, case.applicants[0]


def test_a_pec_recorded_on_the_traveller_page_shows_done_on_the_workflow(
    signed_in: Any, session: Session, ready: Any
) -> None:
    dep, a = ready
    assert step_of(session, a.id, "pec").state == StepState.PENDING
    client = signed_in("panel_physician")
    page = f"/departures/{dep.id}/travellers/{a.id}"
    token = csrf_token(client.get(page).get_data(as_text=True))
    when = (NOW - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"{page}/check",
        data={
            "kind": "pec",
            "checked_at": when,
            "temperature_c": "36.8",
            "pulse": "72",
            "spo2": "98",
            "outcome": "suggested",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    step = step_of(session, a.id, "pec")
    assert step.state == StepState.DONE
    row = session.scalar(
        select(StepResult).where(StepResult.applicant_id == a.id, StepResult.code == "pec")
    )
    assert row is not None and row.value == "fit" and row.source_kind == "fitness_check"
    text = client.get(f"/cases/{a.case_id}/workflow").get_data(as_text=True)
    assert f'href="{page}">from the fitness-to-travel check of' in text
    assert audit.verify(session).ok


def test_the_workflow_refuses_a_free_pec_result(
    client: FlaskClient, session: Session, world: World, ready: Any
) -> None:
    _, a = ready
    before = count(session, StepResult)
    response = client.post(
        f"/api/v1/applicants/{a.id}/results",
        json={"code": "pec", "value": "fit", "date": TODAY.isoformat()},
        headers=world.auth("panel_physician"),
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "workflow.result_recorded_elsewhere"
    assert count(session, StepResult) == before
    assert step_of(session, a.id, "pec").state == StepState.PENDING


def test_a_check_outside_its_window_does_not_settle_the_step(
    app: Flask, session: Session, world: World, ready: Any
) -> None:
    """A PEC counts only 24-72 h before the flight [S19]: one 4 days before it does not."""
    dep, a = ready
    with app.app_context():
        check = checks.record_check(
            session,
            world.actor("panel_physician"),
            a.id,
            NewCheck(kind="pec", checked_at=dep.departs_at - timedelta(days=4), temperature_c=36.8),
        )
    assert not check.in_window
    assert step_of(session, a.id, "pec").state == StepState.PENDING
