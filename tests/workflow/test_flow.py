"""An applicant's plan as steps: results re-plan, transitions are checked, clearance follows.

US rules from the brief: adults (>= 15) need a chest X-ray [CDC TB TI, S1]; an X-ray suggestive
of TB needs three sputum smears and cultures [S1]; Class A TB holds travel until treated [S2, S3].
"""

from __future__ import annotations

from datetime import date

import pytest

from pmha.core.errors import Forbidden, ValidationFailed
from pmha.rules import vocabulary as vocab
from pmha.workflow import service
from pmha.workflow.commands import FactsUpdate, Move, NewResult
from pmha.workflow.models import PlanRecord, StepState
from pmha.workflow.roles import group_of
from pmha.workflow.steps import IllegalTransition
from tests.factories import applicant_data, make_case
from tests.settle import settle_as_owner

TODAY = date.today()
NO_TB = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False,
         "extrapulmonary_tb": False, "pregnant": False}  # fmt: skip


@pytest.fixture()
def rules(app):
    return app.extensions["pmha.rules"]


@pytest.fixture()
def adult(session, world):
    case = make_case(session, world.actor("nurse"), principal=applicant_data(nationality="SY"))
    return case.applicants[0]


def good_value(code):
    """The reassuring result of a test: normal, negative, non-reactive or completed."""
    allowed = vocab.RESULT_VALUES[code]
    if allowed is None:
        return "0"
    for value in ("normal", "negative", "non_reactive", "completed", "given"):
        if value in allowed:
            return value
    return allowed[0]


def complete_required(session, world, rules, applicant, found):
    """Record a reassuring result for every open required step, by the role that may."""
    role = {"radiology": "radiologist", "lab": "lab_technician", "nurse": "nurse"}
    while True:
        todo = [
            s
            for s in found.steps
            if s.state == StepState.PENDING
            and s.planned_status == "required"
            and group_of(s.code) != "travel"
        ]
        if not todo:
            return found
        step = todo[0]
        who = role.get(group_of(step.code), "panel_physician")
        found = settle_as_owner(
            session,
            world.actor(who),
            rules,
            applicant.id,
            {"code": step.code, "value": good_value(step.code), "date": TODAY},
        )


def codes(found, state=None):
    return sorted(s.code for s in found.steps if state is None or s.state == state)


def test_first_view_plans_and_keeps_the_rule_version(session, world, rules, adult):
    found = service.current(session, world.actor("panel_physician"), rules, adult.id)
    assert found.record.rules_version == rules.for_destination("US").version
    assert "chest_xray" in codes(found, StepState.PENDING)
    assert found.decision.status == "pending"


def test_results_move_the_applicant_to_cleared(session, world, rules, adult):
    physician = world.actor("panel_physician")
    found = service.set_facts(session, physician, rules, adult.id, FactsUpdate(**dict(NO_TB)))
    found = complete_required(session, world, rules, adult, found)
    assert found.decision.status in {"cleared", "cleared_with_conditions"}, found.decision


def test_suggestive_xray_adds_sputum_and_holds_clearance(session, world, rules, adult):
    service.set_facts(
        session, world.actor("panel_physician"), rules, adult.id, FactsUpdate(**dict(NO_TB))
    )
    found = settle_as_owner(
        session,
        world.actor("radiologist"),
        rules,
        adult.id,
        {"code": "chest_xray", "value": "suggestive_of_tb", "date": TODAY},
    )
    assert {"sputum_smear", "sputum_culture"} <= set(codes(found, StepState.PENDING))
    assert found.decision.status == "pending"


def test_a_result_needs_the_right_role(session, world, rules, adult):
    service.current(session, world.actor("nurse"), rules, adult.id)
    with pytest.raises(Forbidden):
        service.record_result(
            session,
            world.actor("nurse"),
            rules,
            adult.id,
            NewResult(code="chest_xray", value="normal", date=TODAY),
        )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "chest_xray", "value": "fuzzy", "date": TODAY}, "value"),
        ({"code": "chest_xray", "value": "normal", "date": date(1900, 1, 1)}, "date"),
        ({"code": "tst", "value": "12", "date": TODAY}, "code"),  # adults: not in the plan
    ],
)
def test_bad_results_are_refused_and_nothing_changes(session, world, rules, adult, data, field):
    who = "nurse" if data["code"] == "tst" else "radiologist"
    service.current(session, world.actor(who), rules, adult.id)
    plans = session.query(PlanRecord).count()
    with pytest.raises(ValidationFailed) as exc:
        settle_as_owner(session, world.actor(who), rules, adult.id, dict(data))
    assert field in exc.value.errors
    assert session.query(PlanRecord).count() == plans


def test_illegal_transition_names_the_allowed_ones(session, world, rules, adult):
    found = service.current(session, world.actor("radiologist"), rules, adult.id)
    xray = next(s for s in found.steps if s.code == "chest_xray")
    settle_as_owner(
        session,
        world.actor("radiologist"),
        rules,
        adult.id,
        {"code": "chest_xray", "value": "normal", "date": TODAY},
    )
    with pytest.raises(IllegalTransition) as exc:
        service.transition(
            session,
            world.actor("radiologist"),
            rules,
            xray.id,
            Move(to=StepState.IN_PROGRESS, version=xray.version),
        )
    assert exc.value.extra["allowed"] == []


def test_a_waiver_needs_a_reason_the_rules_allow_and_refusal_is_not_done(
    session, world, rules, adult
):
    """Issue 14: the old path waived a physical exam "refused" and counted it as finished.
    A refusal is recorded as not done (declined) and never settles the step [BRIEF 1.5, S13f]."""
    found = service.current(session, world.actor("panel_physician"), rules, adult.id)
    step = next(s for s in found.steps if s.code == "physical_exam")
    with pytest.raises(ValidationFailed):
        service.transition(
            session,
            world.actor("panel_physician"),
            rules,
            step.id,
            Move(to=StepState.WAIVED, version=step.version),
        )
    with pytest.raises(ValidationFailed) as exc:
        service.transition(
            session,
            world.actor("panel_physician"),
            rules,
            step.id,
            Move(to=StepState.WAIVED, waiver_reason="refused", version=step.version),
        )
    assert exc.value.code == "workflow.waiver_not_allowed"
    assert "cannot be waived" in exc.value.errors["waiver_reason"][0]
    assert (step.state, step.waiver_reason) == (StepState.PENDING, None)
    found = service.transition(
        session,
        world.actor("panel_physician"),
        rules,
        step.id,
        Move(to=StepState.NOT_DONE, not_done_reason="declined", version=step.version),
    )
    assert "physical_exam" in codes(found, StepState.NOT_DONE)
    assert found.decision.status == "pending"
    assert any(b.code == "physical_exam" for b in found.decision.blockers)


def test_a_male_cannot_be_pregnant(session, world, rules, adult):
    with pytest.raises(ValidationFailed) as exc:
        service.set_facts(
            session, world.actor("panel_physician"), rules, adult.id, FactsUpdate(pregnant=True)
        )
    assert "pregnant" in exc.value.errors


def test_family_is_held_by_one_members_class_a(session, world, rules):
    from pmha.workflow import clearance as cl

    members = {"A": cl.Decision("cleared"), "B": cl.Decision("not_cleared")}
    family = cl.case_clearance(members, "all_travellers")
    assert family.status == "travel_hold" and family.ready == ()
    each = cl.case_clearance(members, "each_traveller")
    assert each.ready == ("A",)
