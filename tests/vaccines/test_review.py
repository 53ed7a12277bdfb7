"""The vaccination review is its own record (issue 14, one record per fact): the nurse completes
it on the Vaccinations tab once every required vaccine is settled, and only that record settles
the plan's vaccination_review step (US immigrants: vaccination requirements [S13a, S14]). A
vaccine still to give, or refused, keeps it open: a refusal is not a waiver [S13f]."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.rules import RuleBook
from pmha.vaccines import records, review
from pmha.vaccines.models import RecordKind, VaccinationReview
from pmha.workflow import service as workflow
from pmha.workflow.models import StepResult, StepState
from tests.conftest import csrf_token
from tests.factories import World
from tests.vaccines.test_nurse import _planned
from tests.vaccines.test_records import TODAY


@pytest.fixture()
def nurse(world: World) -> Actor:
    return world.actor("nurse")


@pytest.fixture()
def rules(app: Any) -> RuleBook:
    found: RuleBook = app.extensions["pmha.rules"]
    return found


def _reviews(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VaccinationReview)) or 0


def _step(session: Session, actor: Actor, rules: RuleBook, applicant: Applicant) -> Any:
    flow = workflow.current(session, actor, rules, applicant.id)
    return next(s for s in flow.steps if s.code == "vaccination_review")


def _elder(session: Session, nurse: Actor, rules: RuleBook) -> Applicant:
    """A US immigrant born in 1950: influenza, Tdap, varicella and (65 or over) pneumococcal
    are required today (US.toml us.vaccine.*, BRIEF §1.5 [S13a, S14])."""
    return _planned(session, nurse, rules, "US", "immigrant", dob="1950-03-01")


def _settle_every_vaccine(
    session: Session, nurse: Actor, applicant: Applicant, influenza: bool = True
) -> None:
    """Papers for influenza this season, a Tdap and a PCV20 (pneumococcal from 65 years, BRIEF
    §1.5), and a physician's diagnosis of varicella (evidence of immunity, [S13a])."""
    papers = [("115", dt.date(2024, 5, 2)), ("216", dt.date(2024, 5, 2))]
    if influenza:
        papers.append(("141", TODAY - dt.timedelta(days=20)))
    for cvx, day in papers:
        records.record_vaccination(
            session, nurse, applicant.id,
            {"kind": RecordKind.HISTORICAL, "cvx": cvx, "date": day, "information_source": "03"},
        )  # fmt: skip
    records.record_vaccination(
        session, nurse, applicant.id,
        {"kind": RecordKind.EVIDENCE_OF_IMMUNITY, "date": dt.date(1962, 1, 1),
         "immunity_evidence": "physician_diagnosis", "immunity_disease": "38907003"},
    )  # fmt: skip


def test_the_review_waits_while_a_vaccine_is_open_and_writes_nothing(
    session: Session, nurse: Actor, rules: RuleBook, app: Any
) -> None:
    applicant = _elder(session, nurse, rules)
    before, results = _reviews(session), session.scalar(select(func.count(StepResult.id)))
    with pytest.raises(review.ReviewOpen) as exc:
        review.complete_review(session, nurse, rules, applicant.id)
    assert exc.value.code == "vaccines.review_open" and exc.value.status == 409
    assert "Influenza (to give)" in exc.value.detail and "Varicella" in exc.value.detail
    assert _reviews(session) == before
    assert session.scalar(select(func.count(StepResult.id))) == results
    assert _step(session, nurse, rules, applicant).state == StepState.PENDING


def test_a_refused_vaccine_keeps_the_review_open(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    applicant = _elder(session, nurse, rules)
    _settle_every_vaccine(session, nurse, applicant, influenza=False)
    records.record_vaccination(
        session, nurse, applicant.id,
        {"kind": RecordKind.REFUSED, "date": TODAY, "cvx": "141", "refusal_reason": "03"},
    )  # fmt: skip
    with pytest.raises(review.ReviewOpen) as exc:
        review.complete_review(session, nurse, rules, applicant.id)
    assert "Influenza (refused: the physician decides)" in exc.value.detail


def test_the_review_settles_the_step_and_the_workflow_links_to_it(
    session: Session, nurse: Actor, rules: RuleBook, app: Any
) -> None:
    applicant = _elder(session, nurse, rules)
    _settle_every_vaccine(session, nurse, applicant)
    done = review.complete_review(session, nurse, rules, applicant.id)
    assert {r["vaccine"] for r in done.requirements} >= {"Influenza", "Varicella"}
    step = _step(session, nurse, rules, applicant)
    assert step.state == StepState.DONE
    result = session.scalars(
        select(StepResult).where(
            StepResult.applicant_id == applicant.id, StepResult.code == "vaccination_review"
        )
    ).one()
    assert (result.source_kind, result.source_id) == ("vaccination_review", done.id)
    session.commit()
    assert audit.verify(session).ok


def test_the_workflow_refuses_a_typed_vaccination_review(
    session: Session, nurse: Actor, rules: RuleBook, world: Any, client: Any
) -> None:
    """Regression: the review used to be typed as 'completed' on the workflow page with no
    vaccine settled."""
    applicant = _elder(session, nurse, rules)
    session.commit()
    response = client.post(
        f"/api/v1/applicants/{applicant.id}/results",
        json={"code": "vaccination_review", "value": "completed", "date": TODAY.isoformat()},
        headers={"Authorization": f"Bearer {world.tokens['nurse']}"},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "workflow.result_recorded_elsewhere"
    assert "Vaccinations tab" in response.get_json()["detail"]
    assert _step(session, nurse, rules, applicant).state == StepState.PENDING


def test_the_api_and_the_page_complete_the_review(
    session: Session, nurse: Actor, rules: RuleBook, world: Any, client: Any, signed_in: Any
) -> None:
    applicant = _elder(session, nurse, rules)
    session.commit()
    url = f"/api/v1/applicants/{applicant.id}/vaccination-review"
    auth = {"Authorization": f"Bearer {world.tokens['nurse']}"}
    refused = client.post(url, headers=auth)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "vaccines.review_open"
    assert refused.get_json()["open"]
    page_url = f"/cases/{applicant.case_id}/applicants/{applicant.id}/vaccinations"
    page = signed_in("nurse").get(page_url).get_data(as_text=True)
    assert "Vaccination review" in page and "Still open" in page
    assert "Complete the vaccination review</button>" not in page
    _settle_every_vaccine(session, nurse, applicant)
    session.commit()
    page = client.get(page_url).get_data(as_text=True)
    assert "Complete the vaccination review</button>" in page
    response = client.post(f"{page_url}/review", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    page = client.get(page_url).get_data(as_text=True)
    assert "Vaccination review completed" in page and "Completed</span> on" in page
    assert _reviews(session) == 1
