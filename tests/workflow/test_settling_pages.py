"""The workflow page's move form: "Mark not done" with its reasons in words, "Waive" only with
the reasons the rule file allows for that step, and what would settle a step not done.

Clinical rules: a UK applicant >= 11 needs a chest X-ray [S25]; a pregnant applicant may defer
it or give three sputum specimens with negative cultures instead [S26b]; a refusal is not a
waiver [S13f]; the blanket vaccine waivers apply to the vaccination review [S13a].
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.workflow import service
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.models import StepState
from tests.conftest import login
from tests.factories import World, applicant_data, make_case
from tests.workflow.test_pages import page_of, post, step_of, wf

TODAY = date.today()
WELL = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False,
        "extrapulmonary_tb": False, "complex_condition": False}  # fmt: skip


@pytest.fixture()
def as_role(app: Flask, world: World, connection: Any) -> Any:
    def sign_in(role: str) -> Any:
        client = app.test_client()
        login(client, world.users[role].username).close()
        return client

    return sign_in


@pytest.fixture()
def pregnant_gb(app: Flask, session: Session, world: World) -> Any:
    """A pregnant adult bound for the UK: her X-ray is required [S25]."""
    case = make_case(
        session,
        world.actor("nurse"),
        destination="GB",
        programme="student",
        planned_departure=(TODAY + timedelta(days=60)).isoformat(),
        principal=applicant_data(sex="female", given_names="Leyla", dob="1996-05-02"),
    )
    service.set_facts(
        session,
        world.actor("panel_physician"),
        app.extensions["pmha.rules"],
        case.applicants[0].id,
        FactsUpdate(**{"exam_date": TODAY, "pregnant": True, **WELL}),
    )
    session.commit()
    return case


def test_the_form_offers_not_done_in_words_and_no_waiver_for_a_screening_test(
    as_role: Any, pregnant_gb: Any
) -> None:
    page = page_of(as_role("radiologist"), wf(pregnant_gb))
    assert "Mark not done or block" in page
    assert "Pregnant, and deferring the test until after delivery" in page
    assert "The applicant declined the test" in page
    assert "Reason to waive Chest X-ray" not in page  # no waiver allowed [S25, S26b]


def test_a_deferred_xray_says_the_sputum_route_would_settle_it(
    as_role: Any, pregnant_gb: Any, session: Session
) -> None:
    client = as_role("radiologist")
    step = step_of(session, pregnant_gb, "chest_xray")
    response = post(
        client,
        f"{wf(pregnant_gb)}/steps/{step.id}",
        {"to": "not_done", "not_done_reason": "pregnant_deferring", "version": str(step.version)},
        wf(pregnant_gb),
    )
    assert response.status_code == 302
    response.close()
    step = step_of(session, pregnant_gb, "chest_xray")
    assert (step.state, step.not_done_reason) == (StepState.NOT_DONE, "pregnant_deferring")
    page = page_of(client, wf(pregnant_gb))
    assert "To settle it: record the Chest X-ray result, or three sputum specimens" in page
    # The deferral brings in the sputum route [S26b]: both steps are now on the plan.
    assert step_of(session, pregnant_gb, "sputum_smear").planned_status == "required"
    assert step_of(session, pregnant_gb, "sputum_culture").planned_status == "required"


def test_a_waiver_forged_into_the_form_is_422_in_words_and_writes_nothing(
    as_role: Any, pregnant_gb: Any, session: Session
) -> None:
    client = as_role("radiologist")
    step = step_of(session, pregnant_gb, "chest_xray")
    response = post(
        client,
        f"{wf(pregnant_gb)}/steps/{step.id}",
        {"to": "waived", "waiver_reason": "refused", "version": str(step.version)},
        wf(pregnant_gb),
    )
    assert response.status_code == 422
    assert "This test cannot be waived: record its result, or mark it not done" in response.text
    response.close()
    after = step_of(session, pregnant_gb, "chest_xray")
    assert (after.state, after.version, after.waiver_reason) == (
        StepState.PENDING,
        step.version,
        None,
    )
    assert audit.verify(session).ok
