"""The TB API: bad input is a clear problem with a stable code and nothing written; site
scoping; the nightly check through Celery beat; the programme summary and the chart page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.tb_dot import demo, service, summary, tasks
from pmha.tb_dot.commands import CloseEpisode
from pmha.tb_dot.models import DotObservation, TbAlert, TbEpisode
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from tests.factories import World
from tests.tb_dot.helpers import TODAY, catalogue_of, start, tb_episode_body, tb_patient
from tests.test_authorization import assert_problem


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture()
def episode(app: Flask, session: Session, world: World) -> TbEpisode:
    applicant = tb_patient(session, app, world)
    begun = TODAY - dt.timedelta(days=10)
    found = start(session, app, world, applicant, start_date=begun, diagnosed_on=begun)
    session.commit()
    return found.episode


def _dose(client: FlaskClient, world: World, episode: TbEpisode, **body: Any) -> Any:
    data = {"date": TODAY.isoformat(), "status": "observed", **body}
    return client.post(f"/api/v1/tb-episodes/{episode.id}/doses", json=data,
                       headers=world.auth("dot_worker"))  # fmt: skip


def test_a_second_observation_for_the_same_dose_is_a_conflict(
    client: FlaskClient, session: Session, world: World, episode: TbEpisode
) -> None:
    assert _dose(client, world, episode).status_code == 201
    again = _dose(client, world, episode, status="missed")
    assert_problem(again, 409, "tb_dot.dose_already_recorded")
    assert _count(session, DotObservation) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": (TODAY - dt.timedelta(days=11)).isoformat()}, "date"),
        ({"date": (TODAY + dt.timedelta(days=1)).isoformat()}, "date"),
        ({"status": "adverse_event"}, "description"),
        ({"status": "taken"}, "status"),
        ({"note": "x"}, "note"),
    ],
    ids=["before_start", "in_future", "adverse_event_undescribed", "unknown_status",
         "unknown_field"],
)  # fmt: skip
def test_a_bad_dose_names_its_field_and_writes_nothing(
    client: FlaskClient,
    session: Session,
    world: World,
    episode: TbEpisode,
    body: dict[str, Any],
    field: str,
) -> None:
    response = _dose(client, world, episode, **body)
    problem = assert_problem(response, 422, response.get_json()["code"])
    assert field in problem["errors"]
    assert _count(session, DotObservation) == 0


def test_an_adverse_event_keeps_its_description(
    client: FlaskClient, session: Session, world: World, episode: TbEpisode
) -> None:
    response = _dose(client, world, episode, status="adverse_event", description="vomiting")
    assert response.status_code == 201
    row = session.scalar(select(DotObservation))
    assert row is not None and row.description == "vomiting"


def test_closing_with_doses_outstanding_is_refused(
    client: FlaskClient, session: Session, world: World, episode: TbEpisode
) -> None:
    body = {"outcome": "treatment_completed", "version": episode.version}
    response = client.post(f"/api/v1/tb-episodes/{episode.id}/close", json=body,
                           headers=world.auth("panel_physician"))  # fmt: skip
    problem = assert_problem(response, 422, "tb_dot.cannot_close")
    assert "outstanding" in problem["errors"]["outcome"][0]
    _assert_still_open(session, episode)


def _assert_still_open(session: Session, episode: TbEpisode) -> None:
    """Nothing written: the episode open without an outcome, no workflow result, no event."""
    from pmha.core.audit import AuditEvent
    from pmha.workflow.models import StepResult

    session.expire_all()
    row = session.get(TbEpisode, episode.id)
    assert row is not None and row.status.value == "active" and row.outcome is None
    assert not session.scalars(
        select(StepResult).where(StepResult.code == "tb_treatment_dot")
    ).all()
    assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "close")).all()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"outcome": "cured"}, "outcome", "outstanding"),
        ({"outcome": "lost_to_follow_up"}, "outcome", "not interrupted long enough"),
        ({"outcome": "treatment_failed"}, "outcome", "No positive sputum"),
        ({"outcome": "died"}, "note", "Say what happened"),
        ({"outcome": "not_evaluated", "note": "  "}, "note", "Say what happened"),
    ],
    ids=["cured_with_doses_outstanding", "lost_without_2_months_interruption",
         "failed_without_a_late_positive", "died_without_a_note", "not_evaluated_blank_note"],
)  # fmt: skip
def test_an_outcome_the_record_does_not_support_is_refused(
    app: Flask,
    session: Session,
    world: World,
    episode: TbEpisode,
    body: dict[str, Any],
    field: str,
    words: str,
) -> None:
    """WHO outcome definitions [S S33g] (BRIEF 6): cure and completion need every dose, loss to
    follow-up 2 months' interruption, failure a positive sputum from month 5."""
    from pmha.core.errors import ValidationFailed
    from tests.tb_dot.helpers import rules_of

    physician = world.actor("panel_physician")
    with pytest.raises(ValidationFailed) as caught:
        service.close_episode(session, physician, rules_of(app), catalogue_of(app), episode.id,
                              CloseEpisode(**{**body, "version": episode.version}))  # fmt: skip
    assert caught.value.code == "tb_dot.cannot_close"
    assert words in (caught.value.errors or {})[field][0]
    session.rollback()
    _assert_still_open(session, episode)


def test_a_regimen_the_applicant_is_not_eligible_for_is_refused(
    client: FlaskClient, app: Flask, session: Session, world: World
) -> None:
    applicant = tb_patient(session, app, world)
    session.commit()
    body = {**tb_episode_body(), "regimen": "HPZM", "site": "extrapulmonary"}
    response = client.post(f"/api/v1/applicants/{applicant.id}/tb-episodes", json=body,
                           headers=world.auth("panel_physician"))  # fmt: skip
    problem = assert_problem(response, 422, "tb_dot.invalid_episode")
    assert "site" in problem["errors"]
    assert _count(session, TbEpisode) == 0


def test_a_second_episode_while_one_is_active_is_a_conflict(
    client: FlaskClient, session: Session, world: World, episode: TbEpisode
) -> None:
    url = f"/api/v1/applicants/{episode.applicant_id}/tb-episodes"
    response = client.post(url, json=tb_episode_body(), headers=world.auth("panel_physician"))
    assert_problem(response, 409, "tb_dot.episode_active")
    assert _count(session, TbEpisode) == 1


def test_a_referral_names_its_dot_centre_and_gets_a_letter(
    client: FlaskClient, app: Flask, session: Session, world: World, signed_in: Any
) -> None:
    applicant = tb_patient(session, app, world)
    session.commit()
    body = {**tb_episode_body(), "dot_site": "referral"}
    url = f"/api/v1/applicants/{applicant.id}/tb-episodes"
    refused = client.post(url, json=body, headers=world.auth("panel_physician"))
    assert "referral_centre" in assert_problem(refused, 422, "tb_dot.invalid_episode")["errors"]
    body["referral_centre"] = "Istanbul NTP DOT centre 3"
    made = client.post(url, json=body, headers=world.auth("panel_physician"))
    assert made.status_code == 201
    episode_id = made.get_json()["episode"]["id"]
    letter = signed_in("nurse").get(f"/dot/episodes/{episode_id}/referral-letter.pdf")
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")


def test_another_sites_episode_is_not_found(
    client: FlaskClient, world: World, episode: TbEpisode
) -> None:
    response = client.post(f"/api/v1/tb-episodes/{episode.id}/doses",
                           json={"date": TODAY.isoformat(), "status": "observed"},
                           headers=world.auth("foreign"))  # fmt: skip
    assert_problem(response, 404, "tb_dot.episode_not_found")


def test_the_summary_for_export_bundles_is_plain_data(
    app: Flask, session: Session, world: World, episode: TbEpisode
) -> None:
    with app.app_context():
        found = summary.tb_summary(session, world.actor("nurse"), episode.applicant_id)
    assert json.loads(json.dumps(found)) == found
    assert found["classification"]["outcomes"]["tb_class"]["values"] == ["class_a"]
    assert found["episode"]["regimen"]["code"] == "2HRZE/4HR"
    assert found["outcome"] is None


def test_the_nightly_check_flags_missed_doses_and_overdue_sputum_once(
    app: Flask, session: Session, world: World
) -> None:
    applicant = tb_patient(session, app, world)
    begun = TODAY - dt.timedelta(days=45)
    found = start(session, app, world, applicant, start_date=begun, diagnosed_on=begun)
    demo.generate_doses(session, world.actor("dot_worker"), found.episode,
                        TODAY - dt.timedelta(days=5), {})  # fmt: skip
    session.commit()
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["tb-dot-nightly-check"]["task"] == tasks.NIGHTLY
    first = tasks.nightly_check()
    assert first["interruption"] == 1 and first["sputum_overdue"] == 1
    again = tasks.nightly_check()
    assert "interruption" not in again
    session.expire_all()
    kinds = sorted(a.kind for a in session.scalars(select(TbAlert)))
    assert kinds == ["interruption", "sputum_overdue"]


def test_the_pages_show_the_list_the_chart_and_the_programme(
    app: Flask, session: Session, world: World, signed_in: Any
) -> None:
    applicant = tb_patient(session, app, world)
    begun = TODAY - dt.timedelta(days=30)
    found = start(session, app, world, applicant, start_date=begun, diagnosed_on=begun)
    demo.generate_doses(session, world.actor("dot_worker"), found.episode,
                        TODAY - dt.timedelta(days=1), {3: demo.DoseStatus.MISSED})  # fmt: skip
    session.commit()
    client = signed_in("dot_worker")
    listing = client.get("/dot").get_data(as_text=True)
    assert applicant.family_name in listing and "29</strong> of 182" in listing
    page = client.get(f"/cases/{applicant.case_id}/applicants/{applicant.id}/tb")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('data-status="observed"') == 29 and html.count('data-status="missed"') == 1
    assert "Intensive (HRZE)" in html and "Class A" in html
    programme = client.get("/dot/programme").get_data(as_text=True)
    assert "On treatment" in programme
    totals = summary.programme_summary(session, world.actor("nurse"), catalogue_of(app))
    assert totals["on_treatment"] == 1
    assert service.active_episode(session, applicant.id) is not None


def test_the_pages_refuse_a_second_dose_and_a_future_sample_in_words(
    app: Flask, session: Session, world: World, signed_in: Any, episode: TbEpisode
) -> None:
    from tests.conftest import csrf_token

    client = signed_in("dot_worker")
    token = csrf_token(client.get("/dot").get_data(as_text=True))
    url = f"/dot/episodes/{episode.id}/doses"
    body = {"csrf_token": token, "status": "observed", "back": "list"}
    assert client.post(url, data=body).status_code == 302
    again = client.post(url, data=body)
    assert again.status_code == 422 and "already recorded" in again.get_data(as_text=True)
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    form = {"csrf_token": token, "collected_on": future, "smear": "negative"}
    sample = client.post(f"/dot/episodes/{episode.id}/sputum", data=form)
    assert sample.status_code == 422
    assert 'id="e-sputum-collected_on"' in sample.get_data(as_text=True)
    assert _count(session, DotObservation) == 1


def test_the_workflow_page_links_each_traveller_to_their_tb_page(
    session: Session, world: World, signed_in: Any, episode: TbEpisode
) -> None:
    applicant = service.episode_applicant(episode)
    page = signed_in("panel_physician").get(f"/cases/{applicant.case_id}/workflow").text
    assert f"/cases/{applicant.case_id}/applicants/{applicant.id}/tb" in page


def test_the_treatment_outcome_comes_only_from_closing_the_episode(
    client: FlaskClient, session: Session, world: World, signed_in: Any, episode: TbEpisode
) -> None:
    """A physician records the outcome by closing the episode (adherence and sputum checked);
    the workflow page links the TB page instead of offering a result form that bypasses it."""
    from pmha.workflow.models import StepResult
    from tests.conftest import csrf_token

    def written() -> int:
        query = select(func.count()).where(StepResult.code == "tb_treatment_dot")
        return session.scalar(query) or 0

    applicant = service.episode_applicant(episode)
    body = {"code": "tb_treatment_dot", "value": "cured", "date": TODAY.isoformat()}
    response = client.post(f"/api/v1/applicants/{applicant.id}/results", json=body,
                           headers=world.auth("panel_physician"))  # fmt: skip
    problem = assert_problem(response, 422, "workflow.result_recorded_elsewhere")
    assert "closing the treatment episode" in problem["errors"]["code"][0]
    browser = signed_in("panel_physician")
    page = browser.get(f"/cases/{applicant.case_id}/workflow").text
    assert 'name="code" value="tb_treatment_dot"' not in page
    assert "Doses and outcome on the TB page" in page
    url = f"/cases/{applicant.case_id}/workflow/applicants/{applicant.id}/results"
    refused = browser.post(url, data={**body, "csrf_token": csrf_token(page)})
    assert refused.status_code == 422 and "closing the treatment episode" in refused.text
    session.expire_all()
    assert written() == 0


def test_a_destination_without_treatment_rules_says_so_instead_of_a_form(
    session: Session, world: World, signed_in: Any
) -> None:
    """The brief gives no TB treatment facts for New Zealand (BRIEF 4.2): NZ.toml has no
    [tb_treatment] table, and the page says so rather than offering a form that must fail."""
    from tests.factories import make_case

    case = make_case(session, world.actor("nurse"), destination="NZ", programme="refugee")
    assert case.principal is not None
    session.commit()
    page = signed_in("panel_physician").get(f"/cases/{case.id}/applicants/{case.principal.id}/tb")
    assert page.status_code == 200
    assert "The NZ rule file has no TB treatment rules" in page.text
    assert 'id="start-form"' not in page.text


def test_a_class_still_waiting_for_sputum_offers_no_confirmation(
    app: Any, session: Session, world: World, signed_in: Any
) -> None:
    """A chest X-ray suggestive of TB, sputum still out: the page offers nothing to confirm."""
    from tests.factories import make_case
    from tests.tb_dot.helpers import NO_TB, record, rules_of

    case = make_case(session, world.actor("nurse"), destination="US", programme="refugee")
    applicant = case.principal
    assert applicant is not None
    workflow.set_facts(session, world.actor("panel_physician"), rules_of(app), applicant.id,
                       FactsUpdate(**{"exam_date": TODAY, **NO_TB}))  # fmt: skip
    record(session, app, world, applicant, "chest_xray", "suggestive_of_tb")
    session.commit()
    page = signed_in("panel_physician").get(f"/cases/{case.id}/applicants/{applicant.id}/tb")
    assert page.status_code == 200
    assert "Nothing to confirm yet" in page.text
    assert "Confirm this classification" not in page.text
