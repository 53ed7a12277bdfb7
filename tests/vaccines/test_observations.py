"""Issue 16, inputs: the conditions that change an applicant's vaccine schedule, recorded as CDSi
observations with their dates (service, API, page) and read by the nurse's forecast.

The codes and titles are the <observation> entries of CDC's ScheduleSupportingData.xml (v4.64);
the risk series they select are in the AntigenSupportingData files cited per test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core.audit import AuditEvent
from pmha.core.auth import Actor
from pmha.core.errors import NotFound, ValidationFailed
from pmha.rules import RuleBook
from pmha.vaccines import observations, service
from pmha.vaccines.commands import NewObservation
from pmha.vaccines.models import VaccineObservation
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from tests.conftest import csrf_token
from tests.factories import World
from tests.vaccines.test_nurse import _planned
from tests.vaccines.test_records import TODAY, _applicant

TRANSPLANT = dt.date(2026, 9, 10)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VaccineObservation)) or 0


def _events(session: Session, record_type: str) -> list[str]:
    return list(
        # In the order they were written (PostgreSQL returns unordered rows in any order, and the
        # sealer's updates move them).
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.record_type == record_type)
            .order_by(AuditEvent.id)
        )
    )


# --- the codes offered ---------------------------------------------------------------------------


def test_the_common_conditions_come_first_by_their_titles() -> None:
    """ScheduleSupportingData.xml: 186 'HIV Infection', 160 'Anatomical or functional
    asplenia', 004 'Recipient of a hematopoietic stem cell transplant' are offered by title."""
    common, rest = observations.choices()
    assert common[:3] == [
        ("186", "HIV Infection"),
        ("160", "Anatomical or functional asplenia"),
        ("004", "Recipient of a hematopoietic stem cell transplant"),
    ]
    assert ("014", "Diabetes") in common and ("055", "Health care personnel") in common
    offered = {code for code, _ in common + rest}
    assert "161" in offered and "032" in offered
    # One fact, one record: pregnancy (clinical facts), evidence of immunity (records).
    assert not offered & {"007", "170", "020", "023"}
    assert [t.lower() for _, t in rest] == sorted(t.lower() for _, t in rest)


# --- the service ---------------------------------------------------------------------------------


def test_a_condition_is_recorded_listed_and_removed_with_a_reason_audited(
    session: Session, nurse: Actor
) -> None:
    applicant = _applicant(session, nurse)
    made = observations.add(
        session, nurse, applicant.id, NewObservation(code="004", begin=TRANSPLANT)
    )
    session.commit()
    assert (made.code, made.begin, made.end) == ("004", TRANSPLANT, None)
    assert observations.period(made) == "since 10 September 2026"
    assert [o.id for o in observations.observations(session, nurse, applicant.id)] == [made.id]
    observations.remove(session, nurse, made.id, "recorded for the wrong person")
    session.commit()
    assert observations.observations(session, nurse, applicant.id) == []
    kept = observations.observations(session, nurse, applicant.id, removed=True)
    assert [(o.id, o.deleted_reason) for o in kept] == [(made.id, "recorded for the wrong person")]
    session.commit()  # the audit events are chained on commit
    assert _events(session, "vaccine_observation") == ["create", "delete"]
    assert _events(session, "vaccine_observations") == ["read", "read", "read"]
    with pytest.raises(ValidationFailed) as again:
        observations.remove(session, nurse, made.id, "twice")
    assert "already removed" in again.value.errors["reason"][0]  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"code": "999"}, "code", "Choose a condition from the list."),
        ({"code": "007"}, "code", "clinical facts"),
        ({"code": "020"}, "code", "evidence of immunity"),
        ({"code": "160", "begin": dt.date(1985, 3, 13)}, "begin", "before the applicant's birth"),
        ({"code": "160", "begin": TODAY + dt.timedelta(days=1)}, "begin", "in the future"),
        (
            {"code": "160", "begin": dt.date(2020, 5, 2), "end": dt.date(2020, 5, 1)},
            "end",
            "before the date it began",
        ),
        ({"code": "160", "end": dt.date(1980, 1, 1)}, "end", "before the applicant's birth"),
    ],
)
def test_a_wrong_condition_names_the_field_and_writes_nothing(
    session: Session, nurse: Actor, data: dict[str, Any], field: str, words: str
) -> None:
    """Born 14 March 1985: a begin on the 13th is before birth, the day of birth is allowed;
    today is allowed, tomorrow is not; an end the day before the begin is refused."""
    applicant = _applicant(session, nurse)
    before = _count(session)
    with pytest.raises(ValidationFailed) as refused:
        observations.add(session, nurse, applicant.id, NewObservation(**data))
    assert words in refused.value.errors[field][0]  # type: ignore[index]
    assert _count(session) == before


def test_the_boundaries_birth_and_today_and_a_one_day_period_are_accepted(
    session: Session, nurse: Actor
) -> None:
    applicant = _applicant(session, nurse)
    observations.add(
        session, nurse, applicant.id, NewObservation(code="014", begin=dt.date(1985, 3, 14))
    )
    observations.add(
        session, nurse, applicant.id, NewObservation(code="160", begin=TODAY, end=TODAY)
    )
    assert _count(session) == 2
    with pytest.raises(ValidationFailed):  # the same condition from the same day twice
        observations.add(session, nurse, applicant.id, NewObservation(code="160", begin=TODAY))


def test_another_sites_physician_finds_no_such_condition(session: Session, world: World) -> None:
    """Site scoping: a physician of another site neither reads nor removes it (404, not 403)."""
    applicant = _applicant(session, world.actor("nurse"))
    made = observations.add(session, world.actor("nurse"), applicant.id, NewObservation(code="014"))
    stranger = world.actor("foreign")
    with pytest.raises(NotFound):
        observations.observations(session, stranger, applicant.id)
    with pytest.raises(NotFound):
        observations.remove(session, stranger, made.id, "not mine")
    assert made.deleted_at is None


# --- the forecast reads them ---------------------------------------------------------------------


def _hib(view: service.Overview) -> Any:
    assert view.forecast is not None
    return next(a for a in view.forecast.groups["Hib"].antigens if a.antigen == "Hib")


def test_hib_after_a_stem_cell_transplant_counts_from_the_transplant_date(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """AntigenSupportingData-Hib-508.xml, 'Hib risk 3-dose series' (indication 004 from 6
    weeks of age), dose 1: interval from 171 'Date of hematopoietic stem cell transplant' (read
    from the begin of 004), 6 months minimum and earliest recommended, 12 months latest
    recommended. An adult has no routine Hib series: without the transplant it is aged out."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    before = _hib(service.overview(session, nurse, rules, applicant.id))
    assert before.series_type != "Risk"
    observations.add(session, nurse, applicant.id, NewObservation(code="004", begin=TRANSPLANT))
    view = service.overview(session, nurse, rules, applicant.id)
    assert [o.code for o in view.conditions] == ["004"]
    hib = _hib(view)
    assert (hib.series, hib.dose_number) == ("Hib risk 3-dose series", 1)
    assert (hib.earliest, hib.recommended, hib.past_due) == (
        dt.date(2027, 3, 10),
        dt.date(2027, 3, 10),
        dt.date(2027, 9, 9),
    )
    assert hib.why == (
        "Following the risk schedule 'Hib risk 3-dose series' because of: Recipient of a "
        "hematopoietic stem cell transplant (from 2026-09-10)."
    )


def test_asplenia_and_hiv_choose_risk_series_and_a_removed_one_no_longer_counts(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """AntigenSupportingData-Hib-508.xml 'Hib risk 1-dose series' (indication 160 asplenia);
    AntigenSupportingData-HepA-508.xml 'HepA risk 2-dose series' (indication 186 HIV)."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    asplenia = observations.add(
        session, nurse, applicant.id, NewObservation(code="160", begin=dt.date(2020, 1, 1))
    )
    observations.add(session, nurse, applicant.id, NewObservation(code="186"))
    view = service.overview(session, nurse, rules, applicant.id)
    assert _hib(view).series == "Hib risk 1-dose series"
    assert view.forecast is not None
    hepa = view.forecast.groups["HepA"].antigens[0]
    assert hepa.series == "HepA risk 2-dose series"
    assert hepa.why is not None and "because of: HIV Infection" in hepa.why
    observations.remove(session, nurse, asplenia.id, "not confirmed by the specialist")
    assert _hib(service.overview(session, nurse, rules, applicant.id)).series_type != "Risk"


def test_a_condition_that_ended_no_longer_selects_a_risk_series(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """A risk series' indication applies when the observation is active on the assessment
    date (CDSi README, observations): asplenia that ended yesterday selects nothing today."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    observations.add(
        session,
        nurse,
        applicant.id,
        NewObservation(code="160", begin=dt.date(2020, 1, 1), end=TODAY - dt.timedelta(days=1)),
    )
    assert _hib(service.overview(session, nurse, rules, applicant.id)).series_type != "Risk"


# --- the API -------------------------------------------------------------------------------------


def _api(applicant_id: Any) -> str:
    return f"/api/v1/applicants/{applicant_id}/vaccine-observations"


def test_the_api_records_lists_and_removes_a_condition(
    session: Session, nurse: Actor, client: FlaskClient, world: World
) -> None:
    applicant = _applicant(session, nurse)
    session.commit()
    made = client.post(
        _api(applicant.id),
        json={"code": "004", "begin": "2026-09-10", "end": None},
        headers=world.auth("nurse"),
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["title"] == "Recipient of a hematopoietic stem cell transplant"
    assert (body["begin"], body["end"], body["deleted_at"]) == ("2026-09-10", None, None)
    listed = client.get(_api(applicant.id), headers=world.auth("nurse")).get_json()
    assert [o["id"] for o in listed["observations"]] == [body["id"]]
    gone = client.post(
        f"/api/v1/vaccine-observations/{body['id']}/remove",
        json={"reason": "recorded in error"},
        headers=world.auth("nurse"),
    )
    assert gone.status_code == 200
    assert gone.get_json()["deleted_reason"] == "recorded in error"
    again = client.get(_api(applicant.id), headers=world.auth("nurse")).get_json()
    assert again["observations"][0]["deleted_at"] is not None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"code": "160", "begin": "2020-01-01", "colour": "red"}, "colour", "validation.failed"),
        ({"code": "16"}, "code", "validation.failed"),
        ({"begin": "2020-01-01"}, "code", "validation.failed"),
        ({"code": "160", "begin": "2020-02-30"}, "begin", "validation.failed"),
        ({"code": "999"}, "code", "vaccines.observation"),
        ({"code": "160", "begin": "1984-01-01"}, "begin", "vaccines.observation"),
        (
            {"code": "160", "begin": "2020-01-02", "end": "2020-01-01"},
            "end",
            "vaccines.observation",
        ),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    session: Session,
    nurse: Actor,
    client: FlaskClient,
    world: World,
    body: dict[str, Any],
    field: str,
    code: str,
) -> None:
    applicant = _applicant(session, nurse)
    session.commit()
    before = _count(session)
    answer = client.post(_api(applicant.id), json=body, headers=world.auth("nurse"))
    assert answer.status_code == 422
    problem = answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert field in problem["errors"]
    assert problem["code"] == code
    assert _count(session) == before


def test_removing_needs_a_reason_and_an_unknown_condition_is_not_found(
    session: Session, nurse: Actor, client: FlaskClient, world: World
) -> None:
    applicant = _applicant(session, nurse)
    made = observations.add(session, nurse, applicant.id, NewObservation(code="014"))
    session.commit()
    url = f"/api/v1/vaccine-observations/{made.id}/remove"
    assert client.post(url, json={}, headers=world.auth("nurse")).status_code == 422
    missing = client.post(
        "/api/v1/vaccine-observations/00000000-0000-4000-8000-000000000000/remove",
        json={"reason": "recorded in error"},
        headers=world.auth("nurse"),
    )
    assert missing.status_code == 404
    assert missing.get_json()["code"] == "vaccines.observation_not_found"
    session.refresh(made)
    assert made.deleted_at is None


# --- the page ------------------------------------------------------------------------------------


def _page(applicant: Any) -> str:
    return f"/cases/{applicant.case_id}/applicants/{applicant.id}/vaccinations"


def test_the_page_adds_a_condition_by_name_and_shows_it_in_words_and_why(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    session.commit()
    client: FlaskClient = signed_in("nurse")
    html = client.get(_page(applicant)).get_data(as_text=True)
    assert "Conditions that change the schedule" in html
    assert '<option value="004">Recipient of a hematopoietic stem cell transplant</option>' in html
    assert "No condition recorded." in html
    answer = client.post(
        f"{_page(applicant)}/conditions",
        data={"csrf_token": csrf_token(html), "code": "004", "begin": "2026-09-10", "end": ""},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    after = client.get(_page(applicant)).get_data(as_text=True)
    assert "<strong>Recipient of a hematopoietic stem cell transplant</strong>, since 10 " in after
    assert (
        "because of: Recipient of a hematopoietic stem cell transplant (from 2026-09-10)" in after
    )


def test_a_refused_condition_is_shown_next_to_its_field_and_writes_nothing(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    session.commit()
    client: FlaskClient = signed_in("nurse")
    before = _count(session)
    answer = client.post(
        f"{_page(applicant)}/conditions",
        data={
            "csrf_token": csrf_token(client.get(_page(applicant)).text),
            "code": "160",
            "begin": "2020-01-02",
            "end": "2020-01-01",
        },
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="e-condition-end"' in html
    assert "The date it ended is before the date it began." in html
    assert _count(session) == before
    missing = client.post(
        f"{_page(applicant)}/conditions",
        data={"csrf_token": csrf_token(html), "begin": "2020-01-02"},
    )
    assert missing.status_code == 422
    assert "Choose a condition from the list." in missing.get_data(as_text=True)
    assert _count(session) == before


def test_the_page_removes_a_condition_with_a_reason(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    made = observations.add(session, nurse, applicant.id, NewObservation(code="014"))
    session.commit()
    client: FlaskClient = signed_in("nurse")
    html = client.get(_page(applicant)).get_data(as_text=True)
    assert "<strong>Diabetes</strong>, dates not known" in html
    url = f"{_page(applicant)}/conditions/{made.id}/remove"
    empty = client.post(url, data={"csrf_token": csrf_token(html)})
    assert empty.status_code == 422
    assert (
        client.post(
            url, data={"csrf_token": csrf_token(html), "reason": "not diabetic"}
        ).status_code
        == 302
    )
    session.refresh(made)
    assert made.deleted_reason == "not diabetic"
    after = client.get(_page(applicant)).get_data(as_text=True)
    assert f'<li id="c-{made.id}" class="deleted">' in after  # still on file, struck through
    assert "Reason: not diabetic" in after
    assert "Remove the condition" not in after


def test_a_known_hiv_infection_in_the_clinical_facts_reaches_the_forecast_once(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    """One fact, one record: the clinical facts' known HIV infection is CDSi 186 'HIV
    Infection' (undated) for the forecast, AntigenSupportingData-HepA-508.xml 'HepA risk
    2-dose series'; a 186 recorded here gives it its dates instead of adding a second one."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    facts = workflow.clinical_facts(session, applicant.id)
    assert facts is not None
    workflow.set_facts(
        session, nurse, rules, applicant.id, FactsUpdate(known_hiv=True, version=facts.version)
    )
    view = service.overview(session, nurse, rules, applicant.id)
    assert view.forecast is not None
    hepa = view.forecast.groups["HepA"].antigens[0]
    assert hepa.series == "HepA risk 2-dose series"
    assert hepa.why is not None and hepa.why.endswith("because of: HIV Infection.")
    observations.add(
        session, nurse, applicant.id, NewObservation(code="186", begin=dt.date(2021, 4, 1))
    )
    view = service.overview(session, nurse, rules, applicant.id)
    assert view.forecast is not None
    hepa = view.forecast.groups["HepA"].antigens[0]
    assert hepa.why is not None and hepa.why.endswith("HIV Infection (from 2021-04-01).")
    session.commit()
    html = signed_in("nurse").get(_page(applicant)).get_data(as_text=True)
    assert "HIV infection is taken from the clinical facts" in html


def test_hiv_recorded_against_the_clinical_facts_is_pointed_out(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    """The facts say no known HIV infection (known_hiv False) and a nurse records one here:
    the forecast follows the recorded condition and the page says the two disagree."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-03-01")
    observations.add(session, nurse, applicant.id, NewObservation(code="186"))
    session.commit()
    html = signed_in("nurse").get(_page(applicant)).get_data(as_text=True)
    assert "the clinical facts say there is no known HIV infection" in html
