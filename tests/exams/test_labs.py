"""Lab orders and results: only what was ordered, not before the order, consent for HIV,
three sputum specimens told to the plan once they say something; each path feeds the plan.

US TB TI [S1]: an X-ray suggestive of TB -> three sputum specimens; positive culture -> DST.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pmha.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from pmha.exams import lab_service
from pmha.exams.commands import NewLabResult
from pmha.exams.labs import ConsentKind, combined
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate, NewResult
from pmha.workflow.models import StepState
from tests.factories import applicant_data, make_case

TODAY = date.today()
NO_TB = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False,
         "extrapulmonary_tb": False}  # fmt: skip


@pytest.fixture()
def rules(app):
    return app.extensions["pmha.rules"]


@pytest.fixture()
def suspect(session, world, rules):
    """An adult whose chest X-ray suggests TB: sputum smears and cultures are required."""
    applicant = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    workflow.set_facts(
        session, world.actor("panel_physician"), rules, applicant.id, FactsUpdate(**dict(NO_TB))
    )
    workflow.record_result(
        session,
        world.actor("radiologist"),
        rules,
        applicant.id,
        NewResult(code="chest_xray", value="suggestive_of_tb", date=TODAY),
        owner=True,  # as the reading would: the X-ray's own record is not what these tests test
    )
    return applicant


def result(session, world, rules, order, value, day=TODAY, role="lab_technician", **details):
    """Record `value`, naming the order's own specimen number (its label)."""
    return lab_service.record_result(
        session,
        world.actor(role),
        rules,
        order.id,
        NewLabResult(specimen_number=order.accession, value=value, date=day, details=details),
    )


def step_of(session, world, rules, applicant, code):
    found = workflow.current(session, world.actor("panel_physician"), rules, applicant.id)
    return next(s for s in found.steps if s.code == code)


def test_sputum_is_ordered_as_three_specimens_once(session, world, rules, suspect):
    physician = world.actor("panel_physician")
    made = lab_service.order_tests(session, physician, rules, suspect.id, ["sputum_smear"])
    assert [o.specimen for o in made] == [1, 2, 3]
    assert lab_service.order_tests(session, physician, rules, suspect.id, ["sputum_smear"]) == []


def test_the_plan_hears_negative_only_when_all_three_are_in(session, world, rules, suspect):
    orders = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, suspect.id, ["sputum_culture"]
    )
    for order in orders[:2]:
        result(session, world, rules, order, "negative")
        assert step_of(session, world, rules, suspect, "sputum_culture").state != StepState.DONE
    result(session, world, rules, orders[2], "negative")
    assert step_of(session, world, rules, suspect, "sputum_culture").state == StepState.DONE


def test_a_positive_culture_brings_dst(session, world, rules, suspect):
    orders = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, suspect.id, ["sputum_culture"]
    )
    result(session, world, rules, orders[0], "positive")
    dst = step_of(session, world, rules, suspect, "dst")
    assert dst.planned_status == "required"


@pytest.mark.parametrize(
    ("values", "told"),
    [
        (["positive", None, None], "positive"),
        (["negative", "negative", None], None),
        (["negative"] * 3, "negative"),
        (["negative", "inconclusive", "negative"], "inconclusive"),
    ],
)
def test_combined_sputum_values(values, told):
    assert combined("sputum_smear", values) == told


def test_a_test_outside_the_plan_cannot_be_ordered(session, world, rules):
    applicant = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    with pytest.raises(ValidationFailed) as exc:
        lab_service.order_tests(
            session, world.actor("panel_physician"), rules, applicant.id, ["hcv_test"]
        )
    assert "codes" in exc.value.errors


def test_a_result_dated_before_its_order_is_refused(session, world, rules, suspect):
    order = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, suspect.id, ["sputum_smear"]
    )[0]
    with pytest.raises(ValidationFailed) as exc:
        result(session, world, rules, order, "negative", day=TODAY - timedelta(days=3))
    assert "date" in exc.value.errors


def test_a_result_twice_is_a_conflict(session, world, rules, suspect):
    order = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, suspect.id, ["sputum_smear"]
    )[0]
    result(session, world, rules, order, "negative")
    with pytest.raises(Conflict):
        result(session, world, rules, order, "positive")


def test_another_sites_order_does_not_exist_for_you(session, world, rules, suspect):
    order = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, suspect.id, ["sputum_smear"]
    )[0]
    with pytest.raises(NotFound):
        result(session, world, rules, order, "negative", role="foreign")


def test_a_radiologist_cannot_record_a_lab_result(session, world, rules, suspect):
    order = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, suspect.id, ["sputum_smear"]
    )[0]
    with pytest.raises(Forbidden):
        result(session, world, rules, order, "negative", role="radiologist")


@pytest.fixture()
def child_contact(session, world, rules):
    """A 5-year-old contact of a TB case: US TI [S8] asks for an IGRA; under 2 a TST."""
    case = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(
            dob=str(TODAY.replace(year=TODAY.year - 1) - timedelta(days=30)),
            family_name="Noori",
            given_names="Baby",
            family_name_original=None,
            given_names_original=None,
        ),
    )
    applicant = case.applicants[0]
    workflow.set_facts(
        session,
        world.actor("panel_physician"),
        rules,
        applicant.id,
        FactsUpdate(**dict(NO_TB, tb_contact=True)),
    )
    return applicant


def test_tst_is_read_48_to_72_hours_after_placement(session, world, rules, child_contact):
    found = workflow.current(session, world.actor("nurse"), rules, child_contact.id)
    assert "tst" in {s.code for s in found.steps if s.state != StepState.NOT_APPLICABLE}
    order = lab_service.order_tests(
        session, world.actor("nurse"), rules, child_contact.id, ["tst"]
    )[0]
    with pytest.raises(ValidationFailed) as exc:
        result(
            session,
            world,
            rules,
            order,
            "12",
            role="nurse",
            placed_on=TODAY - timedelta(days=5),
            read_on=TODAY,
        )
    assert "details" in exc.value.errors
    result(
        session,
        world,
        rules,
        order,
        "12",
        role="nurse",
        placed_on=TODAY - timedelta(days=2),
        read_on=TODAY,
    )


def test_an_hiv_result_needs_consent(session, world, rules):
    """An HIV test needs the applicant's consent and pre-test counselling before its result."""
    case = make_case(
        session,
        world.actor("nurse"),
        destination="CA",
        programme="immigrant",
        principal=applicant_data(),
    )
    applicant = case.applicants[0]
    found = workflow.current(session, world.actor("panel_physician"), rules, applicant.id)
    # Canada requires an HIV test of this adult (CA.toml ca.exam.hiv: S28c, S28d)
    assert "hiv_test" in {s.code for s in found.steps if s.state != StepState.NOT_APPLICABLE}
    order = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, applicant.id, ["hiv_test"]
    )[0]
    with pytest.raises(ValidationFailed) as exc:
        result(session, world, rules, order, "negative", pre_test_counselling_on=TODAY)
    assert "consent" in exc.value.errors
    lab_service.record_consent(
        session, world.actor("nurse"), applicant.id, ConsentKind.HIV_TEST, True, TODAY
    )
    with pytest.raises(ValidationFailed) as exc:  # consented, but not counselled first
        result(session, world, rules, order, "negative")
    assert "details" in exc.value.errors
    result(session, world, rules, order, "negative", pre_test_counselling_on=TODAY)
