"""Plans kept by writes, never by reads (issue 21): registering plans once at commit; a read of an
out-of-date plan shows it as it is today without writing; the nightly job keeps it; a step new
today keeps the id it was shown with, so the page can move it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pmha.cases import service as cases
from pmha.cases.schemas import ApplicantIn, CaseUpdate
from pmha.core.audit import AuditEvent
from pmha.core.db import utcnow
from pmha.workflow import service
from pmha.workflow.models import PlanRecord, Step
from pmha.workflow.steps import step_id
from pmha.workflow.tasks import replan_out_of_date
from tests.conftest import csrf_token
from tests.factories import applicant_data, loaded, make_case


@pytest.fixture()
def rules(app):
    return app.extensions["pmha.rules"]


def _plans(session, applicant_id) -> list[PlanRecord]:
    session.expire_all()
    return list(
        session.scalars(
            select(PlanRecord)
            .where(PlanRecord.applicant_id == applicant_id)
            .order_by(PlanRecord.planned_at)
        )
    )


def _age_plans(session, applicant_id, days: int = 1) -> None:
    """As if the kept plan was made `days` ago: a new day puts it out of date."""
    session.execute(
        update(PlanRecord)
        .where(PlanRecord.applicant_id == applicant_id)
        .values(as_of=utcnow().date() - timedelta(days=days))
    )
    session.commit()


def test_registering_plans_the_applicant_once_at_commit_with_its_audit_event(session, world):
    """The registration's commit plans each new applicant (one plan each, however many
    changes the transaction made), and the plan's audit event is written with it."""
    nurse = world.actor("nurse")
    case = make_case(session, nurse, principal=applicant_data())
    child = applicant_data(given_names="Lina", relationship="child", dob="2015-04-01")
    member = cases.add_applicant(session, nurse, case.id, loaded(ApplicantIn, child))
    assert _plans(session, member.id) == []  # nothing before the commit
    session.commit()
    for applicant in case.applicants:
        (kept,) = _plans(session, applicant.id)
        assert kept.trigger == "first_plan"
        logged = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "plan", AuditEvent.record_id == str(applicant.id))
        )
        assert logged == 1


def test_a_rolled_back_registration_plans_nothing(session, world):
    case = make_case(session, world.actor("nurse"), principal=applicant_data())
    principal_id = case.applicants[0].id
    session.rollback()
    assert _plans(session, principal_id) == []


def test_a_registry_change_is_planned_at_its_commit(session, world, rules):
    case = make_case(session, world.actor("nurse"), principal=applicant_data())
    session.commit()
    applicant_id = case.applicants[0].id
    cases.update_case(
        session,
        world.actor("nurse"),
        case.id,
        loaded(CaseUpdate, {"version": case.version, "destination": "CA"}),
    )
    session.commit()
    latest = _plans(session, applicant_id)[-1]
    assert latest.trigger == "registry_change"
    assert latest.rules_version == rules.for_destination("CA").version


def test_a_new_case_reference_plans_nothing_again(session, world):
    """Plans are made from the destination, programme and departure: a change of the case's
    external reference alone re-plans no member (issue 21: plans computed once, on the writes
    that change what they are made from)."""
    case = make_case(session, world.actor("nurse"), principal=applicant_data())
    session.commit()
    applicant_id = case.applicants[0].id
    kept = len(_plans(session, applicant_id))
    cases.update_case(
        session,
        world.actor("nurse"),
        case.id,
        loaded(CaseUpdate, {"version": case.version, "external_ref": "UNHCR-7"}),
    )
    session.commit()
    assert len(_plans(session, applicant_id)) == kept


def test_reading_an_out_of_date_plan_shows_today_and_writes_nothing(session, world, rules):
    """A new day: the read works the plan out again for today and shows it; the kept plan and
    steps are untouched, so a read can be repeated at no cost to the record."""
    case = make_case(session, world.actor("nurse"), principal=applicant_data())
    session.commit()
    applicant_id = case.applicants[0].id
    _age_plans(session, applicant_id)
    (kept,) = _plans(session, applicant_id)
    steps_before = session.scalar(
        select(func.count()).select_from(Step).where(Step.applicant_id == applicant_id)
    )

    shown = service.view(session, world.actor("panel_physician"), rules, applicant_id)
    session.commit()

    assert shown.record.as_of == utcnow().date() and shown.record.trigger == "new_day"
    assert _plans(session, applicant_id) == [kept]  # no plan kept by the read
    assert (
        session.scalar(
            select(func.count()).select_from(Step).where(Step.applicant_id == applicant_id)
        )
        == steps_before
    )
    # What the read showed is what keeping the plan gives.
    saved = service.current(session, world.actor("panel_physician"), rules, applicant_id)
    assert saved.decision == shown.decision
    assert sorted((s.code, s.state, s.planned_status) for s in saved.steps) == sorted(
        (s.code, s.state, s.planned_status) for s in shown.steps
    )
    assert {s.id for s in saved.steps} == {s.id for s in shown.steps}


def test_a_new_step_is_shown_under_the_id_it_is_kept_with(session, world, rules):
    """A step the plan adds is named by its applicant and code, so the id a read shows is the
    one the step gets when the plan is kept (pmha.workflow.steps.step_id)."""
    case = make_case(session, world.actor("nurse"), principal=applicant_data())
    session.commit()
    applicant_id = case.applicants[0].id
    kept = {s.code: s.id for s in service.current(session, world.actor("nurse"), rules,
                                                     applicant_id).steps}  # fmt: skip
    assert kept and all(kept[code] == step_id(applicant_id, code) for code in kept)


def test_the_page_moves_a_step_it_showed_before_the_plan_was_kept(
    app, session, world, rules, client, signed_in
):
    """Never planned (as for records made before plans were kept at registration): the page
    shows the plan worked out for today; starting a step keeps the plan, then moves it."""
    case = make_case(session, world.actor("nurse"), principal=applicant_data())
    session.commit()
    applicant_id = case.applicants[0].id
    session.execute(Step.__table__.delete().where(Step.applicant_id == applicant_id))
    session.execute(PlanRecord.__table__.delete().where(PlanRecord.applicant_id == applicant_id))
    session.commit()

    signed_in("panel_physician")
    page = client.get(f"/cases/{case.id}/workflow")
    assert page.status_code == 200
    target = step_id(applicant_id, "physical_exam")
    assert str(target) in page.text
    assert _plans(session, applicant_id) == []  # the page read wrote no plan

    moved = client.post(
        f"/cases/{case.id}/workflow/steps/{target}",
        data={"to": "in_progress", "version": "1", "csrf_token": csrf_token(page.text)},
    )
    assert moved.status_code == 302, moved.text[-1500:]
    session.expire_all()
    assert session.get(Step, target).state == "in_progress"


def test_the_nightly_job_keeps_every_out_of_date_plan(app, session, world, rules):
    fresh = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(family_name="Ahmadi", dob="1971-05-06"),
    )
    old = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(family_name="Rahimi", dob="1970-01-02"),
    )
    session.commit()
    _age_plans(session, old.applicants[0].id, days=3)
    before_fresh = _plans(session, fresh.applicants[0].id)

    with app.app_context():
        counts = replan_out_of_date.run()
    assert counts["replanned"] >= 1

    latest = _plans(session, old.applicants[0].id)[-1]
    assert (latest.as_of, latest.trigger) == (utcnow().date(), "new_day")
    assert _plans(session, fresh.applicants[0].id) == before_fresh  # up to date: left alone
    with app.app_context():
        again = replan_out_of_date.run()
    assert _plans(session, old.applicants[0].id)[-1] == latest  # idempotent
    assert again["applicants"] >= 2
