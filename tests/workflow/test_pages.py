"""The workflow pages: the case workflow page, its forms, the worklists and the clearance board.

US rules from the brief: adults need a chest X-ray [CDC TB TI, S1]; results are recorded by the
role that may (roles.py); operations sees clearance and its blockers, not result values.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.workflow import lists, service
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.models import ClinicalFacts, PlanRecord, Step, StepResult, StepState
from tests.conftest import csrf_token, login
from tests.factories import World, applicant_data, loaded, make_case
from tests.settle import settle_as_owner

TODAY = date.today()
# No record of its own that feeds the plan (pmha.workflow.owners): the generic form records it.
GENERIC = "presumptive_treatment"
NO_TB = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False,
         "extrapulmonary_tb": False}  # fmt: skip


@pytest.fixture()
def rules(app: Flask) -> Any:
    return app.extensions["pmha.rules"]


@pytest.fixture()
def case(session: Session, world: World) -> Any:
    found = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(nationality="SY"),
        planned_departure=(TODAY + timedelta(days=30)).isoformat(),
    )
    session.commit()
    return found


@pytest.fixture()
def immigrant(session: Session, world: World) -> Any:
    """An immigrant's case: the vaccination review (its record: the Vaccinations tab) is planned."""
    found = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(nationality="SY", given_names="Rania", dob="1991-03-04"),
        programme="immigrant",
        planned_departure=(TODAY + timedelta(days=30)).isoformat(),
    )
    session.commit()
    return found


@pytest.fixture()
def untreated(session: Session, world: World) -> Any:
    """A refugee examined in Jordan: presumptive treatment, which has no record of its own that
    feeds the plan, is planned (CDC presumptive treatment by exam country [S16])."""
    found = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(nationality="SY", given_names="Samir", dob="1988-07-09"),
        programme="refugee",
        planned_departure=(TODAY + timedelta(days=30)).isoformat(),
    )
    found.site.country = "JO"
    session.commit()
    return found


@pytest.fixture()
def as_role(app: Flask, world: World, connection: Any) -> Any:
    """as_role("nurse") -> a fresh client with that role's user signed in."""

    def sign_in(role: str) -> FlaskClient:
        client = app.test_client()
        response = login(client, world.users[role].username)
        assert response.status_code == 302
        response.close()
        return client

    return sign_in


def page_of(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.text[-2000:]
    text = response.text
    response.close()
    return text


def post(client: FlaskClient, url: str, data: dict[str, Any], page: str) -> Any:
    return client.post(url, data={**data, "csrf_token": csrf_token(page_of(client, page))})


def wf(case: Any) -> str:
    return f"/cases/{case.id}/workflow"


def results_url(case: Any) -> str:
    return f"{wf(case)}/applicants/{case.principal.id}/results"


def facts_url(case: Any) -> str:
    return f"{wf(case)}/applicants/{case.principal.id}/facts"


def step_of(session: Session, case: Any, code: str) -> Step:
    session.expire_all()
    step = session.scalar(
        select(Step).where(Step.applicant_id == case.principal.id, Step.code == code)
    )
    assert step is not None
    return step


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- the case workflow page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["panel_physician", "nurse", "radiologist", "lab_technician", "operations"]
)
def test_the_workflow_page_renders_for_each_allowed_role(as_role: Any, case: Any, role: str):
    text = page_of(as_role(role), wf(case))
    assert "Family clearance" in text
    assert "Pending" in text
    assert "Chest X-ray" in text
    assert "Next:" in text


def test_a_dot_worker_may_not_open_it(as_role: Any, case: Any) -> None:
    page_of(as_role("dot_worker"), wf(case), 403)


def test_another_sites_case_is_a_404(as_role: Any, case: Any) -> None:
    text = page_of(as_role("foreign"), wf(case), 404)
    assert case.case_number not in text


def test_each_role_sees_the_forms_it_may_use(
    as_role: Any, case: Any, immigrant: Any, untreated: Any
) -> None:
    # One record per fact: a step with its own record links to it; the form is for the rest.
    physician = page_of(as_role("panel_physician"), wf(case))
    assert "Sign it on the exam record" in physician
    assert "Record the Physical examination result" not in physician
    assert "Save the clinical facts" in physician
    radiologist = page_of(as_role("radiologist"), wf(case))
    assert "Read on the X-rays page" in radiologist
    assert "Record the Chest X-ray result" not in radiologist
    assert "Sign it on the exam record" not in radiologist
    assert "Save the clinical facts" not in radiologist
    nurse = page_of(as_role("nurse"), wf(immigrant))
    assert "Complete it on the Vaccinations tab" in nurse  # the review is its own record
    assert "Record the Vaccination review result" not in nurse
    treats = page_of(as_role("panel_physician"), wf(untreated))
    # Presumptive treatment has no record that feeds the plan: the form stays.
    assert "Record the Presumptive parasite treatment result" in treats
    operations = page_of(as_role("operations"), wf(case))
    assert "Read on the X-rays page" not in operations
    assert "Save the clinical facts" not in operations


def test_the_physician_sees_the_plan_and_its_reasons(as_role: Any, case: Any) -> None:
    text = page_of(as_role("panel_physician"), wf(case))
    assert "Plan details: classifications and rules" in text
    assert "us.tb.cxr.adult" in text  # the rule behind the chest X-ray step
    assert "TB classification" in text
    nurse = page_of(as_role("nurse"), wf(case))
    assert "Plan details" not in nurse


def test_operations_sees_clearance_but_no_result_values(
    as_role: Any, case: Any, session: Session, world: World, rules: Any
) -> None:
    settle_as_owner(
        session,
        world.actor("panel_physician"),
        rules,
        case.principal.id,
        {"code": "physical_exam", "value": "abnormal", "date": TODAY},
    )
    session.commit()
    physician = page_of(as_role("panel_physician"), wf(case))
    assert ">Abnormal<" in physician
    operations = page_of(as_role("operations"), wf(case))
    assert "Abnormal" not in operations
    assert "recorded" in operations  # that there is a result, not what it is
    assert "us.exam.physical" not in operations  # nor the plan's reasons
    assert "Plan details" not in operations
    assert "Pending" in operations and "Still to do" in operations


# --- the forms -----------------------------------------------------------------------------------


def test_a_result_recorded_by_form_is_kept_and_shown(
    as_role: Any, untreated: Any, session: Session
) -> None:
    case = untreated
    # Presumptive treatment has no record that feeds the plan: the form is where it is recorded.
    client = as_role("panel_physician")
    response = post(
        client,
        results_url(case),
        {"code": GENERIC, "value": "given", "date": TODAY.isoformat()},
        wf(case),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#m-{case.principal.id}")
    assert step_of(session, case, GENERIC).state == StepState.DONE
    text = page_of(client, wf(case))
    assert "Presumptive parasite treatment: result recorded." in text
    assert ">Given<" in text


def test_a_suggestive_xray_adds_sputum_to_the_page(
    as_role: Any, case: Any, session: Session, world: World, rules: Any
) -> None:
    settle_as_owner(
        session,
        world.actor("radiologist"),
        rules,
        case.principal.id,
        {"code": "chest_xray", "value": "suggestive_of_tb", "date": TODAY},
    )
    session.commit()
    text = page_of(as_role("panel_physician"), wf(case))
    assert "Suggestive of TB" in text
    assert re.search(r"Still to do</dt><dd>[^<]*Sputum smears", text)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": GENERIC, "date": TODAY.isoformat()}, "value", "Choose the result."),
        ({"code": GENERIC, "value": "fuzzy", "date": TODAY.isoformat()}, "value", "Use one"),
        ({"code": GENERIC, "value": "given", "date": "2099-01-01"}, "date", "future"),
        ({"code": GENERIC, "value": "given", "date": "1900-01-01"}, "date", "before"),
    ],
)
def test_a_bad_result_is_422_inline_and_nothing_is_written(
    as_role: Any, untreated: Any, session: Session, data: dict[str, Any], field: str, message: str
) -> None:
    case = untreated
    client = as_role("panel_physician")
    page_of(client, wf(case))  # planned once, so the counts below are the baseline
    results, plans = count(session, StepResult), count(session, PlanRecord)
    response = post(client, results_url(case), data, wf(case))
    assert response.status_code == 422
    text = response.text
    response.close()
    target = f"r-{case.principal.id}-{GENERIC}"
    assert f'id="e-{target}-{field}"' in text
    assert f'href="#f-{target}-{field}"' in text  # the summary links to the field
    assert message in text
    assert 'aria-invalid="true"' in text
    assert count(session, StepResult) == results
    assert count(session, PlanRecord) == plans
    assert step_of(session, case, GENERIC).state == StepState.PENDING


def test_a_result_the_role_may_not_record_is_403(as_role: Any, case: Any, session: Session):
    response = post(
        as_role("nurse"),
        results_url(case),
        {"code": "chest_xray", "value": "normal", "date": TODAY.isoformat()},
        wf(case),
    )
    assert response.status_code == 403
    response.close()
    assert count(session, StepResult) == 0


def test_a_step_of_another_case_is_404(as_role: Any, case: Any, session: Session, world: World):
    principal = applicant_data(family_name="Darwish", dob="1970-05-05")
    other = make_case(session, world.actor("nurse"), principal=principal)
    session.commit()
    client = as_role("panel_physician")
    page_of(client, wf(other))
    step = step_of(session, other, "physical_exam")
    response = post(
        client,
        f"{wf(case)}/steps/{step.id}",
        {"to": "in_progress", "version": str(step.version)},
        wf(case),
    )
    assert response.status_code == 404
    response.close()
    assert step_of(session, other, "physical_exam").state == StepState.PENDING


def test_start_waive_block_and_reopen_by_form(as_role: Any, case: Any, session: Session):
    client = as_role("panel_physician")
    page_of(client, wf(case))
    url = f"{wf(case)}/steps/{step_of(session, case, 'physical_exam').id}"

    def move(**data: Any) -> int:
        step = step_of(session, case, "physical_exam")
        response = post(client, url, {"version": str(step.version), **data}, wf(case))
        status: int = response.status_code
        response.close()
        return status

    assert move(to="in_progress") == 302
    assert step_of(session, case, "physical_exam").state == StepState.IN_PROGRESS
    assert move(to="blocked", note="Interpreter not available") == 302
    assert step_of(session, case, "physical_exam").note == "Interpreter not available"
    assert move(to="pending") == 302
    # Issue 14 (BRIEF 1.5 [S13a]): a refusal is not a waiver, and no rule file allows a waiver
    # of the physical exam; the old form waived it "refused" and the applicant could clear.
    assert move(to="waived", waiver_reason="refused") == 422
    step = step_of(session, case, "physical_exam")
    assert (step.state, step.waiver_reason) == (StepState.PENDING, None)
    assert move(to="not_done", not_done_reason="declined") == 302
    step = step_of(session, case, "physical_exam")
    assert (step.state, step.not_done_reason) == (StepState.NOT_DONE, "declined")
    page = page_of(client, wf(case))
    assert "The applicant declined the test" in page
    assert "To settle it: record the Physical examination result" in page


def test_a_waiver_without_a_reason_is_422_and_changes_nothing(
    as_role: Any, case: Any, session: Session
) -> None:
    client = as_role("panel_physician")
    page_of(client, wf(case))
    step = step_of(session, case, "physical_exam")
    response = post(
        client,
        f"{wf(case)}/steps/{step.id}",
        {"to": "waived", "version": str(step.version)},
        wf(case),
    )
    assert response.status_code == 422
    assert "Say why the step is waived." in response.text
    response.close()
    assert step_of(session, case, "physical_exam").state == StepState.PENDING


def test_an_illegal_move_is_409_naming_the_allowed_ones(
    as_role: Any, untreated: Any, session: Session
) -> None:
    case = untreated
    client = as_role("panel_physician")
    page_of(client, wf(case))
    post(
        client,
        results_url(case),
        {"code": GENERIC, "value": "given", "date": TODAY.isoformat()},
        wf(case),
    ).close()
    step = step_of(session, case, GENERIC)
    response = post(
        client,
        f"{wf(case)}/steps/{step.id}",
        {"to": "in_progress", "version": str(step.version)},
        wf(case),
    )
    assert response.status_code == 409
    assert "Allowed: none (record a new result instead)." in response.text
    response.close()
    assert step_of(session, case, GENERIC).state == StepState.DONE


def test_a_stale_step_version_is_409(as_role: Any, case: Any, session: Session) -> None:
    client = as_role("panel_physician")
    page_of(client, wf(case))
    step = step_of(session, case, "physical_exam")
    response = post(
        client,
        f"{wf(case)}/steps/{step.id}",
        {"to": "in_progress", "version": str(step.version + 5)},
        wf(case),
    )
    assert response.status_code == 409
    assert "Someone changed this step meanwhile" in response.text
    response.close()


def test_clinical_facts_by_form(as_role: Any, case: Any, session: Session) -> None:
    client = as_role("nurse")
    form = {k: "no" for k in NO_TB} | {"exam_date": TODAY.isoformat(), "tb_contact": ""}
    response = post(client, facts_url(case), form, wf(case))
    assert response.status_code == 302, response.text[-2000:]
    response.close()
    session.expire_all()
    facts = session.get(ClinicalFacts, case.principal.id)
    assert facts is not None
    assert (facts.tb_symptoms, facts.tb_contact, facts.exam_date) == (False, None, TODAY)
    # A second save sends the version it read; the form shows what is kept.
    text = page_of(client, wf(case))
    assert 'name="version" value="1"' in text
    again = {**form, "tb_contact": "yes", "version": "1"}
    response = post(client, facts_url(case), again, wf(case))
    assert response.status_code == 302
    response.close()
    session.expire_all()
    assert session.get(ClinicalFacts, case.principal.id).tb_contact is True  # type: ignore[union-attr]


def test_the_exam_validity_shows_once_the_exam_date_is_recorded(
    as_role: Any, case: Any, session: Session
) -> None:
    """Validity runs from the exam (US 6 months [S20], BRIEF 1.7): before the exam date is
    recorded the plan dates itself from today, so the page shows no "valid until"."""
    client = as_role("nurse")
    assert "Exam valid until" not in page_of(client, wf(case))
    form = {k: "no" for k in NO_TB} | {"exam_date": TODAY.isoformat()}
    response = post(client, facts_url(case), form, wf(case))
    assert response.status_code == 302
    response.close()
    assert "Exam valid until" in page_of(client, wf(case))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"pregnant": "yes"}, "pregnant"),  # the principal is a man
        ({"gestation_weeks": "ten"}, "gestation_weeks"),
        ({"tb_symptoms": "maybe"}, "tb_symptoms"),
        ({"exam_date": "1970-01-01"}, "exam_date"),  # before his birth
    ],
)
def test_bad_facts_are_422_inline_and_nothing_is_written(
    as_role: Any, case: Any, session: Session, form: dict[str, str], field: str
) -> None:
    client = as_role("panel_physician")
    page_of(client, wf(case))
    plans = count(session, PlanRecord)
    response = post(client, facts_url(case), form, wf(case))
    assert response.status_code == 422, response.text[-2000:]
    assert f'id="e-f-{case.principal.id}-{field}"' in response.text
    response.close()
    assert count(session, ClinicalFacts) == 0
    assert count(session, PlanRecord) == plans


# --- worklists and the board ---------------------------------------------------------------------


def test_worklists_list_applicants_never_opened_and_link_to_the_page(
    as_role: Any, case: Any, session: Session
) -> None:
    """Issue 21: the plan is made when the applicant is registered (the commit that registers
    plans), not by the first page that reads it: reading the worklist writes no plan."""
    assert count(session, PlanRecord) == 1  # registered, never opened: planned at registration
    text = page_of(as_role("radiologist"), "/worklists/radiology")
    assert "Chest X-ray" in text
    assert case.case_number in text
    assert f'href="{wf(case)}#m-{case.principal.id}"' in text
    assert count(session, PlanRecord) == 1


def test_a_recorded_result_leaves_the_worklist(
    as_role: Any, case: Any, session: Session, world: World, rules: Any
) -> None:
    client = as_role("radiologist")
    assert case.case_number in page_of(client, "/worklists/radiology")
    settle_as_owner(
        session,
        world.actor("radiologist"),
        rules,
        case.principal.id,
        {"code": "chest_xray", "value": "normal", "date": TODAY},
    )
    session.commit()
    assert case.case_number not in page_of(client, "/worklists/radiology")


def test_the_worklist_puts_the_earliest_departure_first(
    as_role: Any, case: Any, session: Session, world: World
) -> None:
    sooner = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(given_names="Sami", dob="1990-01-01"),
        planned_departure=(TODAY + timedelta(days=5)).isoformat(),
    )
    session.commit()
    text = page_of(as_role("lab_technician"), "/worklists/lab")
    assert text.index(sooner.case_number) < text.index(case.case_number)


def test_the_nurse_worklist_is_empty_for_adults(as_role: Any, case: Any) -> None:
    assert "Nothing waiting" in page_of(as_role("nurse"), "/worklists/nurse")


def test_the_board_shows_each_family_and_sorts_by_departure(
    as_role: Any, case: Any, session: Session, world: World
) -> None:
    later = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(given_names="Sami", dob="1990-01-01"),
        planned_departure=(TODAY + timedelta(days=90)).isoformat(),
    )
    session.commit()
    client = as_role("operations")
    text = page_of(client, "/worklists/operations")
    assert text.index(case.case_number) < text.index(later.case_number)
    assert "Still to do" in text and "Pending" in text
    text = page_of(client, "/worklists/operations?sort=-departure")
    assert text.index(later.case_number) < text.index(case.case_number)
    page_of(client, "/worklists/operations?sort=nonsense")  # falls back to departure


def test_class_a_tb_holds_the_family_on_the_board(
    as_role: Any, session: Session, world: World, rules: Any
) -> None:
    family = make_case(session, world.actor("nurse"), principal=applicant_data(dob="1980-01-01"))
    spouse = service_add_spouse(session, world, family)
    physician, lab = world.actor("panel_physician"), world.actor("lab_technician")
    service.set_facts(session, physician, rules, family.principal.id, FactsUpdate(**dict(NO_TB)))
    for code, value, who in [
        ("chest_xray", "suggestive_of_tb", world.actor("radiologist")),
        ("sputum_smear", "positive", lab),
    ]:
        settle_as_owner(
            session, who, rules, family.principal.id, {"code": code, "value": value, "date": TODAY}
        )
    service.current(session, physician, rules, spouse.id)
    session.commit()
    board = page_of(as_role("operations"), "/worklists/operations")
    row = board[board.index(family.case_number) :]
    assert "Travel hold" in row[:3000]
    assert "TB classification: Class A" in row[:3000]


def service_add_spouse(session: Session, world: World, family: Any) -> Any:
    from pmha.cases import service as cases
    from pmha.cases.schemas import ApplicantIn

    data = applicant_data(given_names="Huda", sex="female", dob="1984-01-01",
                          relationship="spouse", given_names_original=None)  # fmt: skip
    return cases.add_applicant(session, world.actor("nurse"), family.id, loaded(ApplicantIn, data))


def test_the_today_page_links_each_role_to_its_worklist(as_role: Any, world: World) -> None:
    for role, link in [
        ("panel_physician", "/worklists/physician"),
        ("nurse", "/worklists/nurse"),
        ("radiologist", "/worklists/radiology/studies"),
        ("lab_technician", "/worklists/lab/orders"),
        ("operations", "/worklists/operations"),
    ]:
        assert f'href="{link}"' in page_of(as_role(role), "/")


def test_the_case_page_links_to_its_workflow(as_role: Any, case: Any) -> None:
    assert f'href="{wf(case)}"' in page_of(as_role("nurse"), f"/cases/{case.id}")
    assert f'href="{wf(case)}"' not in page_of(as_role("dot_worker"), f"/cases/{case.id}")


def test_demo_seed_plans_everyone_with_a_spread_of_clearances(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from pmha import demo
    from pmha.cases.models import Applicant, Site
    from pmha.core.auth import Actor, Role

    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))  # the demo passwords file goes here
    demo.seed(session, families=6, rules=app.extensions["pmha.rules"])
    planned = session.scalar(select(func.count(func.distinct(PlanRecord.applicant_id))))
    assert planned == count(session, Applicant)
    sites = frozenset(session.scalars(select(Site.id)))
    ops = Actor(None, "t", frozenset({Role.OPERATIONS}), sites)
    board = lists.clearance_board(session, ops)
    statuses = {row.decision.status for row in board}
    assert {"cleared", "pending", "travel_hold"} <= statuses
    held = next(row for row in board if row.decision.status == "travel_hold")
    assert len(held.members) > 1 or held.members[0][1].status == "travel_hold"
    results = {r.value for r in session.scalars(select(StepResult))}
    assert "suggestive_of_tb" in results
