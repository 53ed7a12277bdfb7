"""Exam sections: drafts, sign-off, immutability, amendments, ranges, and feeding the plan."""

from __future__ import annotations

import pytest

from pmha.core.errors import Forbidden, StaleVersion, ValidationFailed
from pmha.exams import service
from pmha.exams.models import SectionKind, SectionStatus
from pmha.exams.sections import bmi, implied_mental_health_class
from pmha.workflow import service as workflow
from pmha.workflow.models import ClinicalFacts, StepState
from tests.factories import applicant_data, make_case

H, P, M = SectionKind.MEDICAL_HISTORY, SectionKind.PHYSICAL_EXAM, SectionKind.MENTAL_HEALTH
HISTORY = {"tb_history": False, "tb_contact_past_year": False, "known_hiv": False,
           "tb_symptoms": {"cough_3_weeks": False, "fever": False}, "pregnant": False}  # fmt: skip
PHYSICAL = {"vitals": {"temperature_c": 36.8, "height_cm": 172, "weight_kg": 70,
                       "systolic_mmhg": 120, "diastolic_mmhg": 80},
            "systems": {"lungs": {"status": "normal"}}, "overall": "normal"}  # fmt: skip


@pytest.fixture()
def rules(app):
    return app.extensions["pmha.rules"]


@pytest.fixture()
def adult(session, world):
    return make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]


def test_signing_a_history_sets_the_facts_and_completes_its_step(session, world, rules, adult):
    physician = world.actor("panel_physician")
    draft = service.save_draft(session, physician, adult.id, H, dict(HISTORY), None)
    signed = service.sign(session, physician, rules, adult.id, H, draft.version)
    assert signed.status == SectionStatus.SIGNED and signed.signed_by_name == "t_panel_physician"
    facts = session.get(ClinicalFacts, adult.id)
    assert (facts.tb_history, facts.tb_contact, facts.tb_symptoms) == (False, False, False)
    found = workflow.current(session, physician, rules, adult.id)
    step = next(s for s in found.steps if s.code == "medical_history")
    assert step.state == StepState.DONE


def test_symptoms_in_the_history_bring_sputum_into_the_plan(session, world, rules, adult):
    """US TB TI: signs or symptoms of TB -> three sputum smears and cultures [S1]."""
    physician = world.actor("panel_physician")
    history = dict(HISTORY, tb_symptoms={"cough_3_weeks": True})
    draft = service.save_draft(session, physician, adult.id, H, history, None)
    service.sign(session, physician, rules, adult.id, H, draft.version)
    found = workflow.current(session, physician, rules, adult.id)
    planned = {s.code: s.planned_status for s in found.steps}
    assert planned["sputum_smear"] == "required"


def test_a_signed_section_cannot_change_but_can_be_amended(session, world, rules, adult):
    physician = world.actor("panel_physician")
    draft = service.save_draft(session, physician, adult.id, P, dict(PHYSICAL), None)
    service.sign(session, physician, rules, adult.id, P, draft.version)
    with pytest.raises(service.SectionSigned):
        service.save_draft(session, physician, adult.id, P, dict(PHYSICAL), draft.version)
    amendment = service.amend(
        session, physician, adult.id, P, "Weight re-measured on a calibrated scale"
    )
    assert (amendment.number, amendment.amends_id) == (2, draft.id)
    changed = dict(PHYSICAL, vitals=dict(PHYSICAL["vitals"], weight_kg=68))
    amendment = service.save_draft(session, physician, adult.id, P, changed, amendment.version)
    service.sign(session, physician, rules, adult.id, P, amendment.version)
    record = service.record(session, physician, adult.id)[P]
    assert [(s.number, s.status) for s in record] == [
        (1, SectionStatus.SUPERSEDED),
        (2, SectionStatus.SIGNED),
    ]
    assert record[0].data["vitals"]["weight_kg"] == 70  # the original is kept as it was


def test_an_amendment_needs_a_reason(session, world, rules, adult):
    physician = world.actor("panel_physician")
    draft = service.save_draft(session, physician, adult.id, P, dict(PHYSICAL), None)
    service.sign(session, physician, rules, adult.id, P, draft.version)
    with pytest.raises(ValidationFailed) as exc:
        service.amend(session, physician, adult.id, P, "  ")
    assert "reason" in exc.value.errors


def test_a_nurse_drafts_but_cannot_sign_a_physical_exam(session, world, rules, adult):
    draft = service.save_draft(session, world.actor("nurse"), adult.id, P, dict(PHYSICAL), None)
    with pytest.raises(Forbidden):
        service.sign(session, world.actor("nurse"), rules, adult.id, P, draft.version)


def test_a_stale_draft_is_a_conflict(session, world, adult):
    nurse = world.actor("nurse")
    draft = service.save_draft(session, nurse, adult.id, P, dict(PHYSICAL), None)
    changed = dict(PHYSICAL, findings="scar on the left forearm")
    service.save_draft(session, nurse, adult.id, P, changed, draft.version)
    with pytest.raises(StaleVersion):
        service.save_draft(session, nurse, adult.id, P, dict(PHYSICAL), 1)


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        (P, dict(PHYSICAL, vitals={"temperature_c": 70}), "vitals"),  # 70 C
        (P, dict(PHYSICAL, vitals={"height_cm": 500}), "vitals"),  # 5 m
        (P, dict(PHYSICAL, vitals={"systolic_mmhg": 80, "diastolic_mmhg": 90}), "vitals"),
        (P, dict(PHYSICAL, overall="fine"), "overall"),
        (P, dict(PHYSICAL, systems={"spleen": {"status": "normal"}}), "systems"),
        (H, dict(HISTORY, pregnant=True), "pregnant"),  # a male applicant
        (H, dict(HISTORY, gestation_weeks=20), "gestation_weeks"),  # not pregnant
        (H, dict(HISTORY, colour="blue"), "colour"),
        (M, {"classification": "class_c"}, "classification"),
    ],
)
def test_impossible_answers_are_refused_and_nothing_is_written(
    session, world, adult, kind, data, field
):
    with pytest.raises(ValidationFailed) as exc:
        service.save_draft(session, world.actor("panel_physician"), adult.id, kind, data, None)
    assert field in exc.value.errors
    assert service.record(session, world.actor("panel_physician"), adult.id) == {}


@pytest.mark.parametrize(
    ("data", "implied"),
    [
        (
            {"substance_use": [{"substance": "heroin", "controlled": True, "disorder": True}]},
            "class_a",
        ),
        (
            {"substance_use": [{"substance": "alcohol", "controlled": False, "disorder": True}]},
            "class_b",
        ),
        ({"disorder": True, "harmful_behaviour": True}, "class_a"),
        ({"disorder": True, "harmful_behaviour": False}, "class_b"),
        (
            {
                "substance_use": [
                    {
                        "substance": "heroin",
                        "controlled": True,
                        "disorder": True,
                        "in_remission": True,
                    }
                ]
            },
            "class_b",
        ),
        ({}, "none"),
    ],
)
def test_implied_mental_health_class(data, implied):
    """DS-2054: a controlled-substance use disorder, or a disorder with harmful behaviour, is
    Class A [S13b, S13c]; other disorders are Class B."""
    assert implied_mental_health_class(data) == implied


def test_bmi_is_derived_not_stored():
    assert bmi(PHYSICAL) == 23.7
    assert bmi({"vitals": {"height_cm": 170}}) is None


def test_another_sites_applicant_has_no_record_for_you(session, world, adult):
    from pmha.core.errors import NotFound

    with pytest.raises(NotFound):
        service.save_draft(session, world.actor("foreign"), adult.id, P, dict(PHYSICAL), None)


def test_the_exam_api_round_trip(client, world, session, adult):
    session.commit()
    url = f"/api/v1/applicants/{adult.id}/exam/physical_exam"
    draft = client.put(url, json={"data": PHYSICAL}, headers=world.auth("panel_physician"))
    assert draft.status_code == 200, draft.json
    assert draft.json["derived"]["bmi"] == 23.7
    signed = client.post(
        f"{url}/sign",
        json={"version": draft.json["version"]},
        headers=world.auth("panel_physician"),
    )
    assert signed.status_code == 200 and signed.json["status"] == "signed"
    again = client.put(url, json={"data": PHYSICAL}, headers=world.auth("panel_physician"))
    assert again.status_code == 409 and again.json["code"] == "exams.section_signed"
    bad = client.put(
        f"/api/v1/applicants/{adult.id}/exam/xray",
        json={"data": {}},
        headers=world.auth("panel_physician"),
    )
    assert bad.status_code == 422 and "kind" in bad.json["errors"]
