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
from pmha.vaccines.commands import NewVaccination
from pmha.vaccines.models import RecordKind, VaccinationReview
from pmha.workflow import service as workflow
from pmha.workflow.models import StepResult, StepState
from tests.conftest import csrf_token
from tests.factories import World
from tests.vaccines.test_nurse import _planned
from tests.vaccines.test_records import TODAY


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
    session: Session,
    nurse: Actor,
    applicant: Applicant,
    influenza: bool = True,
    pneumococcal: bool = True,
) -> None:
    """Papers for influenza this season, a Tdap, a childhood polio dose (adults need one for
    exams from 1 May 2024 [S23c]) and a PCV20 (pneumococcal from 65 years, BRIEF §1.5), and a
    physician's diagnosis of varicella (evidence of immunity, [S13a])."""
    papers = [("115", dt.date(2024, 5, 2)), ("10", dt.date(1956, 1, 10))]
    if pneumococcal:
        papers.append(("216", dt.date(2024, 5, 2)))
    if influenza:
        papers.append(("141", TODAY - dt.timedelta(days=20)))
    for cvx, day in papers:
        records.record_vaccination(
            session, nurse, applicant.id,
            NewVaccination(kind=RecordKind.HISTORICAL, cvx=cvx, date=day, information_source="03"),
        )  # fmt: skip
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(
            kind=RecordKind.EVIDENCE_OF_IMMUNITY,
            date=dt.date(1962, 1, 1),
            immunity_evidence="physician_diagnosis",
            immunity_disease="38907003",
        ),
    )


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


def _refuses_pcv(session: Session, nurse: Actor, rules: RuleBook) -> Applicant:
    """The elder with every vaccine settled but pneumococcal (required from 65, US.toml
    us.vaccine.pneumococcal, BRIEF §1.5 [S13a, S14]), which they refuse."""
    applicant = _elder(session, nurse, rules)
    _settle_every_vaccine(session, nurse, applicant, pneumococcal=False)
    records.record_vaccination(
        session, nurse, applicant.id,
        NewVaccination(kind=RecordKind.REFUSED, date=TODAY, cvx="216", refusal_reason="03"),
    )  # fmt: skip
    return applicant


def _holds(session: Session, actor: Actor, rules: RuleBook, applicant: Applicant) -> list[str]:
    decision = workflow.current(session, actor, rules, applicant.id).decision
    return [f"{b.code}:{b.detail}" for b in decision.blockers if b.kind == "outcome"]


def test_a_refusal_is_not_completed_without_the_physician_confirming_it(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """A refusal is not a waiver [S13f]: without confirmation the review stays open, and a nurse
    cannot confirm it (the panel physician does); nothing is written either way."""
    applicant = _refuses_pcv(session, nurse, rules)
    before = _reviews(session)
    with pytest.raises(review.ReviewOpen) as exc:
        review.complete_review(session, nurse, rules, applicant.id)
    assert "Refused by the applicant: Pneumococcal" in exc.value.detail
    assert "Class A" in exc.value.detail
    from pmha.core.errors import Forbidden

    with pytest.raises(Forbidden):
        review.complete_review(session, nurse, rules, applicant.id, confirm_refusal=True)
    assert _reviews(session) == before
    assert _step(session, nurse, rules, applicant).state == StepState.PENDING


def test_a_confirmed_refusal_completes_the_review_as_class_a_and_holds_clearance(
    session: Session, nurse: Actor, rules: RuleBook, world: World
) -> None:
    """BRIEF §1.5: refusal of a required vaccine without waiver -> Class A (vaccination)
    [S13f]; US.toml [vaccination] refusal_outcome = class_a, us.vaccination.class_a, and
    [clearance] hold 'vaccination:class_a'. The completion is audited with its outcome."""
    applicant = _refuses_pcv(session, nurse, rules)
    physician = world.actor("panel_physician")
    done = review.complete_review(session, physician, rules, applicant.id, confirm_refusal=True)
    assert (done.outcome, done.individual_waivers) == ("class_a", [])
    assert _step(session, nurse, rules, applicant).state == StepState.DONE
    decision = workflow.current(session, nurse, rules, applicant.id).decision
    assert decision.status == "not_cleared"
    assert "vaccination:class a" in _holds(session, nurse, rules, applicant)
    session.commit()
    event = session.scalars(
        select(audit.AuditEvent).where(
            audit.AuditEvent.record_type == "vaccination_review",
            audit.AuditEvent.record_id == str(done.id),
        )
    ).first()
    assert event is not None and event.changes is not None and "outcome" in event.changes
    assert audit.verify(session).ok


def test_an_individual_waiver_releases_the_refusal(
    session: Session, nurse: Actor, rules: RuleBook, world: World
) -> None:
    """The religious or moral waiver USCIS grants on its own form [S13d] (US.toml [vaccination]
    individual_waiver) settles the refused vaccines: outcome complete, clearance not held."""
    applicant = _refuses_pcv(session, nurse, rules)
    physician = world.actor("panel_physician")
    review.complete_review(session, physician, rules, applicant.id, confirm_refusal=True)
    assert _holds(session, nurse, rules, applicant)
    waived = ["Pneumococcal"]
    done = review.complete_review(
        session, physician, rules, applicant.id, individual_waivers=waived
    )
    assert (done.outcome, done.individual_waivers) == ("complete", waived)
    assert not [h for h in _holds(session, nurse, rules, applicant) if h.startswith("vacc")]
    from pmha.vaccines import service

    view = service.overview(session, nurse, rules, applicant.id)
    assert view.outcome is not None and view.outcome.value == "complete"
    states = {v.vaccine: v.state for v in view.outcome.vaccines}
    assert states["Pneumococcal"] == "individual_waiver"


def test_an_individual_waiver_only_for_a_refused_vaccine(
    session: Session, nurse: Actor, rules: RuleBook, world: World
) -> None:
    """A waiver is the authority's answer to a refusal: nothing else is waived this way."""
    applicant = _refuses_pcv(session, nurse, rules)
    physician = world.actor("panel_physician")
    with pytest.raises(review.ReviewOpen) as exc:
        review.complete_review(
            session, physician, rules, applicant.id, individual_waivers=["Varicella"]
        )
    assert "not refused: Varicella" in exc.value.detail


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


def test_the_pages_and_the_pdf_show_the_refusal_and_its_outcome(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any, tmp_path: Any
) -> None:
    """The nurse's page, the physician's confirmation, the vaccination record PDF and the
    clearance page say the same thing in words: refused, not a waiver, Class A (vaccination)
    holds travel [S13f]; blanket waivers with their reason (not age appropriate [S13a])."""
    import subprocess

    applicant = _refuses_pcv(session, nurse, rules)
    session.commit()
    page_url = f"/cases/{applicant.case_id}/applicants/{applicant.id}/vaccinations"
    client = signed_in("nurse")
    page = client.get(page_url).get_data(as_text=True)
    assert "Vaccination outcome:</strong> A required vaccine was refused" in page
    assert "Refused (not a waiver)" in page and "Waived: not age appropriate" in page
    assert "A panel physician confirms the refusal" in page
    assert "not_age_appropriate" not in page and "us.vaccine" not in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    client = signed_in("panel_physician")
    page = client.get(page_url).get_data(as_text=True)
    assert 'name="confirm_refusal"' in page and 'name="individual_waiver"' in page
    response = client.post(
        f"{page_url}/review", data={"csrf_token": csrf_token(page), "confirm_refusal": "yes"}
    )
    assert response.status_code == 302
    page = client.get(page_url).get_data(as_text=True)
    assert "refused without a waiver (Class A, vaccination). This holds travel." in page
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(client.get(f"{page_url}/record.pdf").data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Vaccination outcome: A required vaccine was refused" in " ".join(text.split())
    assert "Refused (not a" in text and "Waived: not age" in text  # words wrap in the grid
    case_page = client.get(f"/cases/{applicant.case_id}/workflow").get_data(as_text=True)
    assert "Vaccination (a required vaccine refused, no waiver): Class A" in case_page


def test_the_api_confirms_a_refusal_and_records_the_individual_waiver(
    session: Session, nurse: Actor, rules: RuleBook, world: Any, client: Any
) -> None:
    """The API does what the page does: a refusal is a 409 until a panel physician confirms it,
    which records Class A (vaccination) [S13f]; a nurse may not confirm it; the individual
    (religious or moral) waiver is recorded for the refused vaccine only [S13d] and releases the
    hold. Bad bodies are 422s naming the field and record nothing."""
    applicant = _refuses_pcv(session, nurse, rules)
    session.commit()
    url = f"/api/v1/applicants/{applicant.id}/vaccination-review"
    as_nurse = {"Authorization": f"Bearer {world.tokens['nurse']}"}
    as_physician = {"Authorization": f"Bearer {world.tokens['panel_physician']}"}
    assert client.post(url, headers=as_nurse).status_code == 409
    assert client.post(url, headers=as_nurse, json={"confirm_refusal": True}).status_code == 403
    for bad in (
        {"confirm_refusal": "yes"},
        {"individual_waivers": ["Smallpox"]},
        {"individual_waivers": "Pneumococcal"},
        {"waive_everything": True},
    ):
        response = client.post(url, headers=as_physician, json=bad)
        assert response.status_code == 422, bad
        assert response.get_json()["errors"]
    assert _reviews(session) == 0
    response = client.post(url, headers=as_physician, json={"confirm_refusal": True})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["outcome"] == "class_a"
    response = client.post(url, headers=as_physician, json={"individual_waivers": ["Pneumococcal"]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["outcome"] == "complete" and body["individual_waivers"] == ["Pneumococcal"]
