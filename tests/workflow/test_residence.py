"""Residence periods stored per applicant (issue 15): services, JSON API and the workflow page's
form. Every invalid period is a clear 422 (API) or form error (page) and writes nothing; each
change is audited and re-plans the applicant, so presumptive treatment follows residence
(BRIEF 1.6 [S16, S17, S18])."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.audit import AuditEvent
from pmha.core.errors import NotFound, ValidationFailed
from pmha.workflow import residence
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate, NewResidence
from pmha.workflow.models import ResidencePeriod
from tests.conftest import csrf_token
from tests.factories import World, applicant_data, make_case


@pytest.fixture()
def rules(app: Any) -> Any:
    return app.extensions["pmha.rules"]


@pytest.fixture()
def refugee(session: Session, world: World) -> Any:
    """A US-bound refugee (born 1990) whose site is outside every region of the 2017 table, so
    only residence can bring presumptive treatment in."""
    person = make_case(
        session, world.actor("nurse"), principal=applicant_data(dob="1990-06-01", sex="female")
    ).applicants[0]
    person.case.site.country = "DE"
    session.commit()
    return person


def _periods(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ResidencePeriod)) or 0


def _status(session: Session, world: World, rules: Any, person: Any) -> str:
    """The presumptive treatment step's state ('not_applicable' when the plan does not ask)."""
    found = workflow.current(session, world.actor("panel_physician"), rules, person.id)
    states = {s.code: s.state.value for s in found.steps}
    return states.get("presumptive_treatment", "not_applicable")


def test_adding_a_period_replans_and_is_audited(session, world, rules, refugee):
    """A refugee who lived in Somalia: presumptive treatment becomes required [S16, S17]."""
    nurse = world.actor("nurse")
    assert _status(session, world, rules, refugee) == "not_applicable"
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    row = residence.add_period(
        session, nurse, rules, refugee.id,
        NewResidence(country="SO", started_on=date(1995, 1, 1), ended_on=date(2015, 1, 1)),
    )  # fmt: skip
    session.commit()
    assert (row.country, row.recorded_by) == ("SO", nurse.user_id)
    assert _status(session, world, rules, refugee) == "pending"
    kinds = session.scalars(
        select(AuditEvent.record_type).order_by(AuditEvent.seq).offset(events)
    ).all()
    assert "residence" in kinds
    residence.remove_period(session, nurse, rules, refugee.id, row.id)
    session.commit()
    assert _periods(session) == 0
    assert _status(session, world, rules, refugee) == "not_applicable"
    assert audit.verify(session).ok


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"country": "CD", "started_on": date(2019, 1, 1), "ended_on": date(2018, 12, 31)},
         "to", "The end date is before the start date."),
        ({"country": "CD", "started_on": date(1990, 5, 31)},  # the day before birth
         "from", "The start date is before the date of birth."),
        ({"country": "CD", "started_on": date.today() + timedelta(days=1)},  # exam: today
         "from", "The start date is after the exam date."),
        ({"country": "CD", "started_on": date(2010, 1, 1),
          "ended_on": date.today() + timedelta(days=1)},
         "to", "The end date is after the exam date."),
        ({"country": "ZZ", "started_on": date(2010, 1, 1)}, "country", "No country has this code"),
    ],
)  # fmt: skip
def test_an_invalid_period_writes_nothing(session, world, rules, refugee, data, field, message):
    with pytest.raises(ValidationFailed) as caught:
        residence.add_period(session, world.actor("nurse"), rules, refugee.id, NewResidence(**data))
    assert caught.value.code == "workflow.residence"
    assert any(message in m for m in caught.value.errors[field])
    session.rollback()
    assert _periods(session) == 0


def test_boundaries_born_today_and_exam_day(session, world, rules, refugee):
    """From the day of birth, to the exam day (today: no exam date recorded) are allowed."""
    nurse = world.actor("nurse")
    residence.add_period(
        session,
        nurse,
        rules,
        refugee.id,
        NewResidence(country="SO", started_on=date(1990, 6, 1), ended_on=date.today()),
    )
    assert _periods(session) == 1


def test_another_applicants_period_is_not_found(session, world, rules, refugee):
    other = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    row = residence.add_period(
        session, world.actor("nurse"), rules, other.id,
        NewResidence(country="SO", started_on=date(2000, 1, 1)),
    )  # fmt: skip
    with pytest.raises(NotFound):
        residence.remove_period(session, world.actor("nurse"), rules, refugee.id, row.id)


# --- the API -----------------------------------------------------------------------------------


def test_api_adds_lists_and_removes(client, session, world, refugee):
    url = f"/api/v1/applicants/{refugee.id}/residence"
    made = client.post(url, json={"country": "CD", "from": "2012-01-01", "to": "2019-06-01"},
                       headers=world.auth("nurse"))  # fmt: skip
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert (body["country"], body["from"], body["to"]) == ("CD", "2012-01-01", "2019-06-01")
    still = client.post(url, json={"country": "UG", "from": "2019-06-01"},
                        headers=world.auth("nurse"))  # fmt: skip
    assert still.status_code == 201 and still.get_json()["to"] is None
    listed = client.get(url, headers=world.auth("panel_physician")).get_json()["residence"]
    assert [r["country"] for r in listed] == ["CD", "UG"]
    gone = client.delete(f"{url}/{body['id']}", headers=world.auth("nurse"))
    assert gone.status_code == 204
    assert _periods(session) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "CD", "from": "2019-01-01", "to": "2018-01-01"}, "to"),
        ({"country": "CD", "from": "1980-01-01"}, "from"),  # before birth (1990)
        ({"country": "cd", "from": "2010-01-01"}, "country"),
        ({"country": "COD", "from": "2010-01-01"}, "country"),
        ({"country": "ZZ", "from": "2010-01-01"}, "country"),
        ({"country": "CD"}, "from"),
        ({"country": "CD", "from": "2010-13-01"}, "from"),
        ({"country": "CD", "from": "2010-01-01", "city": "Goma"}, "city"),
    ],
)
def test_api_refuses_every_invalid_period_and_writes_nothing(client, session, world, refugee,
                                                             body, field):  # fmt: skip
    response = client.post(
        f"/api/v1/applicants/{refugee.id}/residence", json=body, headers=world.auth("nurse")
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert field in problem["errors"], problem
    assert _periods(session) == 0


# --- the page ----------------------------------------------------------------------------------


def test_the_page_form_adds_a_period_and_shows_it(session, refugee, signed_in):
    client = signed_in("panel_physician")
    url = f"/cases/{refugee.case_id}/workflow"
    page = client.get(url).get_data(as_text=True)
    assert "Countries lived in" in page
    response = client.post(
        f"{url}/applicants/{refugee.id}/residence",
        data={"csrf_token": csrf_token(page), "country": "cd", "from": "2012-01-01",
              "to": "2019-06-01"},
    )  # fmt: skip
    assert response.status_code == 302
    shown = client.get(url).get_data(as_text=True)
    assert "(CD): 2012-01-01 to 2019-06-01" in shown


def test_the_page_says_what_is_wrong_in_words_and_writes_nothing(session, refugee, signed_in):
    client = signed_in("nurse")
    url = f"/cases/{refugee.case_id}/workflow"
    page = client.get(url).get_data(as_text=True)
    response = client.post(
        f"{url}/applicants/{refugee.id}/residence",
        data={"csrf_token": csrf_token(page), "country": "CD", "from": "2019-01-01",
              "to": "2018-01-01"},
    )  # fmt: skip
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "The end date is before the start date." in text
    assert "workflow.residence" not in text  # no codes on pages
    missing = client.post(
        f"{url}/applicants/{refugee.id}/residence",
        data={"csrf_token": csrf_token(page), "country": "CD"},
    )
    assert missing.status_code == 422
    assert "Give this date." in missing.get_data(as_text=True)
    assert _periods(session) == 0


def test_api_gives_the_presumptive_plan_with_each_drug_left_out_and_why(
    client, session, world, rules, refugee
):
    """DRC then Uganda [S16, S18]: albendazole, praziquantel, AL; ivermectin left out. Before
    any residence (site outside the table's regions) no rule applies; while her pregnancy is not
    recorded every drug with a pregnancy rule is held [S17]."""
    from pmha.travel.residence_demo import give_endemic_residence

    physician = world.actor("panel_physician")
    url = f"/api/v1/applicants/{refugee.id}/presumptive-treatment"
    assert client.get(url, headers=world.auth("nurse")).get_json()["rule_id"] is None
    give_endemic_residence(session, physician, rules, refugee.id)
    session.commit()
    body = client.get(url, headers=world.auth("nurse")).get_json()
    assert body["drugs"] == []
    assert {h["drug"] for h in body["held"]} == {
        "albendazole",
        "praziquantel",
        "artemether-lumefantrine",
    }
    assert all("pregnancy not recorded" in h["reason"] for h in body["held"])
    workflow.set_facts(session, physician, rules, refugee.id, FactsUpdate(pregnant=False))
    session.commit()
    body = client.get(url, headers=world.auth("nurse")).get_json()
    assert body["rule_id"] == "us.presumptive.sub_saharan_africa"
    assert [d["drug"] for d in body["drugs"]] == [
        "albendazole",
        "praziquantel",
        "artemether-lumefantrine",
    ]
    assert body["omitted"] == [
        {
            "drug": "ivermectin",
            "reason": "ivermectin not given: lived in a Loa loa-endemic country "
            "(Democratic Republic of the Congo, 2012-2019)",
        }
    ]
    assert body["held"] == [] and body["given"] == []
