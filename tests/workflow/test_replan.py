"""Re-planning: a rule update re-plans open cases but holds changes to signed steps for review;
changes to the registry re-plan; each evaluation is kept with its rule version."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import select

from pmha.cases import service as cases
from pmha.cases.schemas import CaseUpdate
from pmha.config import PROJECT_ROOT
from pmha.rules import load_rules
from pmha.workflow import service
from pmha.workflow.models import PlanChange, PlanRecord, StepState
from tests.factories import applicant_data, loaded, make_case
from tests.settle import settle_as_owner

TODAY = date.today()


@pytest.fixture()
def rules(app):
    return app.extensions["pmha.rules"]


@pytest.fixture()
def updated_rules(tmp_path):
    """The US rules with the physical exam dropped, and hepatitis C testing added for adults:
    as if CDC changed its technical instructions."""
    folder = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "country_rules", folder)
    path = folder / "US.toml"
    text = path.read_text()
    text = text.replace('version = "2025.03.11-1"', 'version = "2099.01.01-test"', 1)
    text = text.replace(
        'id = "us.exam.physical"\ncode = "physical_exam"\nsource = ["S9"]\nconfidence = "C"\n'
        "effective_from = 2013-10-01\n",
        'id = "us.exam.physical"\ncode = "physical_exam"\nsource = ["S9"]\nconfidence = "C"\n'
        'effective_from = 2013-10-01\nwhen = { age = { from = "200y" } }\n',
    )
    text += (
        '\n[[requirement]]\nid = "us.test.hcv"\ncode = "hcv_test"\nsource = ["S9"]\n'
        'effective_from = 2013-10-01\nwhen = { age = { from = "18y" } }\n'
    )
    path.write_text(text)
    return load_rules(folder)


def held_change(session, applicant, code, *, state, before, after, version="t"):
    """A rule update's change awaiting review, as re-planning would hold it."""
    session.add(
        PlanChange(
            applicant_id=applicant.id,
            code=code,
            state=state,
            planned_before=before,
            planned_after=after,
            rules_version=version,
        )
    )
    session.flush()


@pytest.fixture()
def adult(session, world):
    return make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]


def test_rule_update_holds_changes_to_signed_steps_for_review(
    session, world, rules, updated_rules, adult
):
    physician = world.actor("panel_physician")
    settle_as_owner(
        session,
        physician,
        rules,
        adult.id,
        {"code": "physical_exam", "value": "normal", "date": TODAY},
    )
    found = service.current(session, physician, updated_rules, adult.id)
    assert found.record.trigger == "rules_update"
    assert found.record.rules_version == "2099.01.01-test"
    exam = next(s for s in found.steps if s.code == "physical_exam")
    assert exam.state == StepState.DONE  # a signed step is not silently changed
    hcv = next(s for s in found.steps if s.code == "hcv_test")
    assert hcv.state == StepState.PENDING  # the new requirement is planned, and listed
    held = service.pending_changes(session, physician, adult.id)
    assert [(c.code, c.state, c.planned_after) for c in held] == [("hcv_test", "new", "required")]


def test_an_open_step_follows_a_rule_update(session, world, rules, updated_rules, adult):
    physician = world.actor("panel_physician")
    service.current(session, physician, rules, adult.id)
    found = service.current(session, physician, updated_rules, adult.id)
    exam = next(s for s in found.steps if s.code == "physical_exam")
    assert exam.state == StepState.NOT_APPLICABLE  # an open step follows the new rules
    assert [c.code for c in session.scalars(select(PlanChange))] == ["hcv_test"]


def test_every_evaluation_is_kept_with_its_rule_version(
    session, world, rules, updated_rules, adult
):
    physician = world.actor("panel_physician")
    service.current(session, physician, rules, adult.id)
    service.current(session, physician, updated_rules, adult.id)
    versions = session.scalars(
        select(PlanRecord.rules_version)
        .where(PlanRecord.applicant_id == adult.id)
        .order_by(PlanRecord.planned_at)
    ).all()
    assert versions == [rules.for_destination("US").version, "2099.01.01-test"]


def test_a_registry_change_re_plans(session, world, rules, adult):
    physician = world.actor("panel_physician")
    first = service.current(session, physician, rules, adult.id)
    cases.update_case(
        session,
        world.actor("nurse"),
        adult.case_id,
        loaded(CaseUpdate, {"version": adult.case.version, "destination": "CA"}),
    )
    again = service.current(session, physician, rules, adult.id)
    assert again.record.id != first.record.id
    assert again.record.trigger == "registry_change"
    assert again.record.rules_version == rules.for_destination("CA").version


def test_a_programme_the_rules_do_not_cover_is_a_clear_blocker(session, world, rules):
    case = make_case(
        session,
        world.actor("nurse"),
        destination="NZ",
        programme="humanitarian",
        principal=applicant_data(family_name="Karimi", dob="1979-02-02"),
    )
    found = service.current(session, world.actor("panel_physician"), rules, case.applicants[0].id)
    assert found.decision.status == "pending"
    assert "programme" in found.decision.blockers[0].detail


def test_case_clearance_over_the_api(client, world, session):
    case = make_case(session, world.actor("nurse"))
    session.commit()
    response = client.get(f"/api/v1/cases/{case.id}/clearance", headers=world.auth("operations"))
    assert response.status_code == 200
    body = response.json
    assert body["clearance"]["status"] == "pending"
    assert body["members"][0]["clearance"]["blockers"]


def test_accepting_a_change_reopens_the_signed_step(session, world, rules, adult):
    physician = world.actor("panel_physician")
    settle_as_owner(
        session,
        world.actor("radiologist"),
        rules,
        adult.id,
        {"code": "chest_xray", "value": "normal", "date": TODAY},
    )
    # the updated rules also re-cite the X-ray under a new rule id: a change to a signed step
    held_change(
        session,
        adult,
        "chest_xray",
        state="done",
        before="done",
        after="required",
        version="2099.01.01-test",
    )
    change = service.pending_changes(session, physician, adult.id)[0]
    found = service.review_change(session, physician, rules, change.id, "accept")
    xray = next(s for s in found.steps if s.code == "chest_xray")
    assert xray.state == StepState.PENDING  # to be done again under the new rules
    assert service.pending_changes(session, physician, adult.id) == []


def test_review_is_for_physicians_and_names_a_bad_decision(session, world, rules, adult):
    from pmha.core.errors import Forbidden, ValidationFailed

    held_change(session, adult, "hcv_test", state="new", before="none", after="required")
    change = service.pending_changes(session, world.actor("panel_physician"), adult.id)[0]
    with pytest.raises(Forbidden):
        service.review_change(session, world.actor("nurse"), rules, change.id, "keep")
    with pytest.raises(ValidationFailed):
        service.review_change(session, world.actor("panel_physician"), rules, change.id, "maybe")
    service.review_change(session, world.actor("panel_physician"), rules, change.id, "keep")
    assert service.pending_changes(session, world.actor("panel_physician"), adult.id) == []


def test_the_workflow_page_lists_changes_for_review(client, world, session, signed_in, adult):
    held_change(session, adult, "hcv_test", state="new", before="none", after="required")
    session.commit()
    page = signed_in("panel_physician").get(f"/cases/{adult.case_id}/workflow")
    assert page.status_code == 200
    assert "The rules changed" in page.text


def test_reading_the_changes_over_the_api_is_audited_and_matches_its_schema(
    client, session, world, adult
):
    """Issue 19: GET plan-changes read applicant data without an audit event, and answered a
    list where its OpenAPI document declared one change."""
    from pmha.core.audit import AuditEvent

    held_change(session, adult, "physical_exam", state="done", before="required", after="-")
    session.commit()
    answer = client.get(
        f"/api/v1/applicants/{adult.id}/plan-changes", headers=world.auth("panel_physician")
    )
    assert answer.status_code == 200
    assert [c["code"] for c in answer.json["changes"]] == ["physical_exam"]
    session.expire_all()
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.request_id == answer.headers["X-Request-ID"])
    )
    assert event is not None
    assert (event.action, event.record_type, event.record_id) == (
        "read",
        "plan_changes",
        str(adult.id),
    )
    spec = client.get("/api/openapi.json").json
    op = spec["paths"]["/api/v1/applicants/{applicant_id}/plan-changes"]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("PlanChangesOut")
