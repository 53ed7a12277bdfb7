"""Exam sections: drafts, sign-off, immutability, amendments, ranges, and feeding the plan."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pmha.accounts.models import User
from pmha.accounts.signatures import Signature, confirm_signature
from pmha.core import audit
from pmha.core.audit import AuditEvent
from pmha.core.errors import Forbidden, StaleVersion, ValidationFailed
from pmha.exams import service
from pmha.exams.commands import SectionDraft
from pmha.exams.models import ExamSection, SectionKind, SectionStatus
from pmha.exams.sections import bmi, implied_mental_health_class
from pmha.workflow import service as workflow
from pmha.workflow.models import ClinicalFacts, StepState
from tests.factories import PASSWORD, applicant_data, make_case

H, P, M = SectionKind.MEDICAL_HISTORY, SectionKind.PHYSICAL_EXAM, SectionKind.MENTAL_HEALTH
HISTORY = {"tb_history": False, "tb_contact_past_year": False, "known_hiv": False,
           "tb_symptoms": {"cough_3_weeks": False, "fever": False}}  # fmt: skip
PHYSICAL = {"vitals": {"temperature_c": 36.8, "height_cm": 172, "weight_kg": 70,
                       "systolic_mmhg": 120, "diastolic_mmhg": 80},
            "systems": {"lungs": {"status": "normal"}}, "overall": "normal"}  # fmt: skip


# A physician's signature, as confirm_signature makes it from the password (tests below check it).
SIG = Signature(None, "Test panel_physician", "panel_physician", "TEST-MD-0001")


@pytest.fixture()
def rules(app):
    return app.extensions["pmha.rules"]


@pytest.fixture()
def adult(session, world):
    return make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]


def test_signing_a_history_sets_the_facts_and_completes_its_step(session, world, rules, adult):
    physician = world.actor("panel_physician")
    draft = service.save_draft(
        session, physician, adult.id, SectionDraft(kind=H, content=dict(HISTORY), version=None)
    )
    signature = confirm_signature(session, physician, PASSWORD, "exams:sign")
    signed = service.sign(session, physician, rules, adult.id, H, draft.version, signature)
    assert signed.status == SectionStatus.SIGNED
    # the signed record names a professional, not a username
    assert (signed.signed_by_name, signed.signed_by_role, signed.signed_by_registration) == (
        "Test panel_physician",
        "panel_physician",
        "TEST-MD-0001",
    )
    facts = session.get(ClinicalFacts, adult.id)
    assert (facts.tb_history, facts.tb_contact, facts.tb_symptoms) == (False, False, False)
    found = workflow.current(session, physician, rules, adult.id)
    step = next(s for s in found.steps if s.code == "medical_history")
    assert step.state == StepState.DONE


def test_symptoms_in_the_history_bring_sputum_into_the_plan(session, world, rules, adult):
    """US TB TI: signs or symptoms of TB -> three sputum smears and cultures [S1]."""
    physician = world.actor("panel_physician")
    history = dict(HISTORY, tb_symptoms={"cough_3_weeks": True})
    draft = service.save_draft(
        session, physician, adult.id, SectionDraft(kind=H, content=history, version=None)
    )
    service.sign(session, physician, rules, adult.id, H, draft.version, SIG)
    found = workflow.current(session, physician, rules, adult.id)
    planned = {s.code: s.planned_status for s in found.steps}
    assert planned["sputum_smear"] == "required"


def test_a_signed_section_cannot_change_but_can_be_amended(session, world, rules, adult):
    physician = world.actor("panel_physician")
    draft = service.save_draft(
        session, physician, adult.id, SectionDraft(kind=P, content=dict(PHYSICAL), version=None)
    )
    service.sign(session, physician, rules, adult.id, P, draft.version, SIG)
    with pytest.raises(service.SectionSigned):
        service.save_draft(
            session,
            physician,
            adult.id,
            SectionDraft(kind=P, content=dict(PHYSICAL), version=draft.version),
        )
    amendment = service.amend(
        session, physician, adult.id, P, "Weight re-measured on a calibrated scale"
    )
    assert (amendment.number, amendment.amends_id) == (2, draft.id)
    changed = dict(PHYSICAL, vitals=dict(PHYSICAL["vitals"], weight_kg=68))
    amendment = service.save_draft(
        session,
        physician,
        adult.id,
        SectionDraft(kind=P, content=changed, version=amendment.version),
    )
    service.sign(session, physician, rules, adult.id, P, amendment.version, SIG)
    record = service.record(session, physician, adult.id)[P]
    assert [(s.number, s.status) for s in record] == [
        (1, SectionStatus.SUPERSEDED),
        (2, SectionStatus.SIGNED),
    ]
    assert record[0].data["vitals"]["weight_kg"] == 70  # the original is kept as it was


def test_an_amendment_needs_a_reason(session, world, rules, adult):
    physician = world.actor("panel_physician")
    draft = service.save_draft(
        session, physician, adult.id, SectionDraft(kind=P, content=dict(PHYSICAL), version=None)
    )
    service.sign(session, physician, rules, adult.id, P, draft.version, SIG)
    with pytest.raises(ValidationFailed) as exc:
        service.amend(session, physician, adult.id, P, "  ")
    assert "reason" in exc.value.errors


def test_a_nurse_drafts_but_cannot_sign_a_physical_exam(session, world, rules, adult):
    draft = service.save_draft(
        session,
        world.actor("nurse"),
        adult.id,
        SectionDraft(kind=P, content=dict(PHYSICAL), version=None),
    )
    with pytest.raises(Forbidden):
        service.sign(session, world.actor("nurse"), rules, adult.id, P, draft.version, SIG)


def test_a_stale_draft_is_a_conflict(session, world, adult):
    nurse = world.actor("nurse")
    draft = service.save_draft(
        session, nurse, adult.id, SectionDraft(kind=P, content=dict(PHYSICAL), version=None)
    )
    changed = dict(PHYSICAL, findings="scar on the left forearm")
    service.save_draft(
        session, nurse, adult.id, SectionDraft(kind=P, content=changed, version=draft.version)
    )
    with pytest.raises(StaleVersion):
        service.save_draft(
            session, nurse, adult.id, SectionDraft(kind=P, content=dict(PHYSICAL), version=1)
        )


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        (P, dict(PHYSICAL, vitals={"temperature_c": 70}), "vitals"),  # 70 C
        (P, dict(PHYSICAL, vitals={"height_cm": 500}), "vitals"),  # 5 m
        (P, dict(PHYSICAL, vitals={"systolic_mmhg": 80, "diastolic_mmhg": 90}), "vitals"),
        (P, dict(PHYSICAL, overall="fine"), "overall"),
        (P, dict(PHYSICAL, systems={"spleen": {"status": "normal"}}), "systems"),
        (H, dict(HISTORY, pregnant=True), "pregnant"),  # a male applicant
        (H, dict(HISTORY, pregnant=False), "pregnant"),  # not asked of a male applicant
        (H, dict(HISTORY, gestation_weeks=20), "gestation_weeks"),  # not pregnant
        (H, dict(HISTORY, colour="blue"), "colour"),
        (M, {"classification": "class_c"}, "classification"),
    ],
)
def test_impossible_answers_are_refused_and_nothing_is_written(
    session, world, adult, kind, data, field
):
    with pytest.raises(ValidationFailed) as exc:
        service.save_draft(
            session,
            world.actor("panel_physician"),
            adult.id,
            SectionDraft(kind=kind, content=data, version=None),
        )
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
        service.save_draft(
            session,
            world.actor("foreign"),
            adult.id,
            SectionDraft(kind=P, content=dict(PHYSICAL), version=None),
        )


def test_the_exam_api_round_trip(client, world, session, adult):
    session.commit()
    url = f"/api/v1/applicants/{adult.id}/exam/physical_exam"
    draft = client.put(url, json={"data": PHYSICAL}, headers=world.auth("panel_physician"))
    assert draft.status_code == 200, draft.json
    assert draft.json["derived"]["bmi"] == 23.7
    signed = client.post(
        f"{url}/sign",
        json={"version": draft.json["version"], "password": PASSWORD},
        headers=world.auth("panel_physician"),
    )
    assert signed.status_code == 200 and signed.json["status"] == "signed"
    assert signed.json["signed_by_registration"] == "TEST-MD-0001"
    assert "password" not in signed.json
    again = client.put(url, json={"data": PHYSICAL}, headers=world.auth("panel_physician"))
    assert again.status_code == 409 and again.json["code"] == "exams.section_signed"
    bad = client.put(
        f"/api/v1/applicants/{adult.id}/exam/xray",
        json={"data": {}},
        headers=world.auth("panel_physician"),
    )
    assert bad.status_code == 422 and "kind" in bad.json["errors"]


# --- issue 14: real signatures, the implied class, sex-specific questions -----------------------


def _draft_via_api(client, world, adult, kind, data):
    url = f"/api/v1/applicants/{adult.id}/exam/{kind}"
    draft = client.put(url, json={"data": data}, headers=world.auth("panel_physician"))
    assert draft.status_code == 200, draft.json
    return url, draft.json["version"]


def _section(session, adult, kind):
    session.expire_all()
    return session.scalars(
        select(ExamSection).where(ExamSection.applicant_id == adult.id, ExamSection.kind == kind)
    ).one()


def _events(session, action):
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


@pytest.mark.parametrize("password", [None, "", "not-my-password"])
def test_a_bearer_token_alone_does_not_sign(client, world, session, adult, password):
    """Issue 14 §5: signing asks the signer to re-enter their password; a wrong one is refused in
    words, nothing is signed, the failure is audited and counts toward the lockout."""
    session.commit()
    url, version = _draft_via_api(client, world, adult, "physical_exam", PHYSICAL)
    body = {"version": version} if password is None else {"version": version, "password": password}
    refused = client.post(f"{url}/sign", json=body, headers=world.auth("panel_physician"))
    assert refused.status_code == 422
    assert "password" in refused.json["errors"]
    if password is not None:
        assert refused.json["code"] == "auth.signature_not_confirmed"
        assert "nothing was signed" in refused.json["detail"]
        assert _refreshed_failures(session, world) == 1
        assert _events(session, "signature_failed") == 1
    section = _section(session, adult, P)
    assert section.status == SectionStatus.DRAFT and section.signed_by is None
    assert audit.verify(session).ok


def _refreshed_failures(session, world):
    session.expire_all()
    return session.get(User, world.users["panel_physician"].id).failed_logins


def test_wrong_signing_passwords_lock_the_account(client, world, session, adult):
    """A wrong signing password counts as a failed sign-in: five lock the account (as login)."""
    session.commit()
    url, version = _draft_via_api(client, world, adult, "physical_exam", PHYSICAL)
    headers = world.auth("panel_physician")
    for _ in range(5):
        refused = client.post(
            f"{url}/sign", json={"version": version, "password": "wrong-password"}, headers=headers
        )
        assert refused.json["code"] == "auth.signature_not_confirmed"
    assert "locked" in refused.json["detail"]
    locked = client.post(
        f"{url}/sign", json={"version": version, "password": PASSWORD}, headers=headers
    )
    assert locked.status_code == 423 and locked.json["code"] == "auth.locked"
    assert _section(session, adult, P).status == SectionStatus.DRAFT
    assert _events(session, "locked") == 1
    assert audit.verify(session).ok


def test_a_physician_without_a_registration_number_cannot_sign(client, world, session, adult):
    """The signed record names the signer's professional registration (issue 14 §5)."""
    world.users["panel_physician"].registration_number = None
    session.commit()
    url, version = _draft_via_api(client, world, adult, "physical_exam", PHYSICAL)
    refused = client.post(
        f"{url}/sign",
        json={"version": version, "password": PASSWORD},
        headers=world.auth("panel_physician"),
    )
    assert refused.status_code == 422 and refused.json["code"] == "auth.registration_missing"
    assert "ask an administrator to add your registration number" in refused.json["detail"]
    assert _section(session, adult, P).status == SectionStatus.DRAFT
    assert audit.verify(session).ok


CLASS_A_ANSWERS = {
    "disorder": True,
    "harmful_behaviour": True,
    "classification": "none",
}


def test_a_class_other_than_the_implied_one_needs_a_reason(client, world, session, adult):
    """DS-2054: a disorder with harmful behaviour implies Class A [S13b, S13c]; signing "No class"
    needs the physician's reason, shown before signing (issue 14 §4)."""
    session.commit()
    url, version = _draft_via_api(client, world, adult, "mental_health", CLASS_A_ANSWERS)
    headers = world.auth("panel_physician")
    refused = client.post(
        f"{url}/sign", json={"version": version, "password": PASSWORD}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json["code"] == "exams.classification_reason_needed"
    assert refused.json["errors"]["classification_reason"] == [
        "The answers imply Class A; you chose No class: give your reason."
    ]
    section = _section(session, adult, M)
    assert section.status == SectionStatus.DRAFT and "classification_reason" not in (
        {k for k, v in section.data.items() if v}
    )
    signed = client.post(
        f"{url}/sign",
        json={
            "version": version,
            "password": PASSWORD,
            "classification_reason": "Harm was a single event in a war zone; psychiatrist agrees",
        },
        headers=headers,
    )
    assert signed.status_code == 200, signed.json
    assert signed.json["data"]["classification_reason"].startswith("Harm was a single event")
    assert signed.json["derived"]["implied_classification"] == "class_a"
    assert audit.verify(session).ok


def test_a_class_as_implied_needs_no_reason(session, world, rules, adult):
    physician = world.actor("panel_physician")
    data = dict(CLASS_A_ANSWERS, classification="class_a")
    draft = service.save_draft(
        session, physician, adult.id, SectionDraft(kind=M, content=data, version=None)
    )
    signed = service.sign(session, physician, rules, adult.id, M, draft.version, SIG)
    assert signed.status == SectionStatus.SIGNED


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        ({"pregnant": True}, {"pregnant"}),
        ({"pregnant": False}, {"pregnant"}),
        ({"pregnant": True, "gestation_weeks": 12}, {"pregnant", "gestation_weeks"}),
    ],
)
def test_pregnancy_is_not_asked_of_a_male_applicant(client, world, session, adult, answers, fields):
    """Sex-specific questions are not asked of a male applicant (issue 14 §4)."""
    session.commit()
    url = f"/api/v1/applicants/{adult.id}/exam/medical_history"
    refused = client.put(
        url, json={"data": {**HISTORY, **answers}}, headers=world.auth("panel_physician")
    )
    assert refused.status_code == 422 and refused.json["code"] == "exams.sex_specific_question"
    assert set(refused.json["errors"]) == fields
    assert "not asked of a male applicant" in refused.json["errors"]["pregnant"][0]
    assert service.record(session, world.actor("panel_physician"), adult.id) == {}
    assert audit.verify(session).ok


def test_pregnancy_is_asked_of_a_female_applicant(session, world):
    woman = make_case(
        session, world.actor("nurse"), principal=applicant_data(sex="female", given_names="Mona")
    ).applicants[0]
    data = {**HISTORY, "pregnant": True, "gestation_weeks": 12}
    draft = service.save_draft(
        session, world.actor("nurse"), woman.id, SectionDraft(kind=H, content=data, version=None)
    )
    assert draft.data["gestation_weeks"] == 12


def test_one_physicians_signature_cannot_sign_for_another(session, world, rules, adult):
    """A signature is the signer's own (confirmed with their password): not lent."""
    foreign = signatures_of(world, "foreign")
    physician = world.actor("panel_physician")
    draft = service.save_draft(
        session, physician, adult.id, SectionDraft(kind=P, content=dict(PHYSICAL), version=None)
    )
    with pytest.raises(Forbidden):
        service.sign(session, physician, rules, adult.id, P, draft.version, foreign)


def signatures_of(world, role):
    from pmha.accounts.signatures import trusted_signature

    return trusted_signature(world.users[role], "exams:sign")
