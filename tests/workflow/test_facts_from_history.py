"""One record per fact (issue 14): once a signed medical history has set the facts it asks (TB
history, contact, symptoms, HIV, extrapulmonary signs, pregnancy), the workflow page's facts form
cannot contradict it: a second form must not take a child contact's chest X-ray out of the plan
[S1]. Only an amendment of the history changes them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.errors import ValidationFailed
from pmha.exams import service as exams
from pmha.exams.commands import SectionDraft
from pmha.exams.models import SectionKind
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.models import ClinicalFacts, PlanRecord
from tests.conftest import csrf_token
from tests.exams.test_sections import HISTORY, SIG
from tests.factories import World, applicant_data, make_case

H = SectionKind.MEDICAL_HISTORY


@pytest.fixture()
def rules(app: Any) -> Any:
    return app.extensions["pmha.rules"]


@pytest.fixture()
def signed(session: Session, world: World, rules: Any) -> Any:
    """An adult whose signed medical history says: no TB contact, no TB history, no symptoms."""
    adult = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    physician = world.actor("panel_physician")
    draft = exams.save_draft(
        session, physician, adult.id, SectionDraft(kind=H, content=dict(HISTORY), version=None)
    )
    exams.sign(session, physician, rules, adult.id, H, draft.version, SIG)
    session.commit()
    return adult


def _plans(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PlanRecord)) or 0


def test_the_facts_keep_the_history_they_come_from(session: Session, signed: Any) -> None:
    facts = session.get(ClinicalFacts, signed.id)
    assert facts is not None and facts.history_section_id is not None
    assert (facts.tb_contact, facts.tb_history) == (False, False)


def test_the_workflow_cannot_contradict_the_signed_history(
    session: Session, world: World, rules: Any, signed: Any
) -> None:
    physician = world.actor("panel_physician")
    facts = session.get(ClinicalFacts, signed.id)
    assert facts is not None
    version, plans = facts.version, _plans(session)
    with pytest.raises(ValidationFailed) as exc:
        workflow.set_facts(
            session, physician, rules, signed.id, FactsUpdate(tb_contact=True, version=version)
        )
    assert exc.value.code == "workflow.fact_from_history"
    assert exc.value.errors == {
        "tb_contact": ["From the signed medical history: amend the history to change it."]
    }
    session.rollback()
    facts = session.get(ClinicalFacts, signed.id)
    assert facts is not None and (facts.tb_contact, facts.version) == (False, version)
    assert _plans(session) == plans
    assert audit.verify(session).ok


def test_the_same_values_and_the_other_facts_still_save(
    session: Session, world: World, rules: Any, signed: Any
) -> None:
    physician = world.actor("panel_physician")
    facts = session.get(ClinicalFacts, signed.id)
    assert facts is not None
    found = workflow.set_facts(
        session,
        physician,
        rules,
        signed.id,
        FactsUpdate(tb_contact=False, complex_condition=True, version=facts.version),
    )
    assert found.record.problems is None
    assert session.get(ClinicalFacts, signed.id).complex_condition is True  # type: ignore[union-attr]


def test_an_amended_history_changes_the_facts(
    session: Session, world: World, rules: Any, signed: Any
) -> None:
    physician = world.actor("panel_physician")
    amendment = exams.amend(session, physician, signed.id, H, "Contact with a TB case remembered")
    changed = dict(HISTORY, tb_contact_past_year=True)
    amendment = exams.save_draft(
        session,
        physician,
        signed.id,
        SectionDraft(kind=H, content=changed, version=amendment.version),
    )
    exams.sign(session, physician, rules, signed.id, H, amendment.version, SIG)
    facts = session.get(ClinicalFacts, signed.id)
    assert facts is not None and facts.tb_contact is True
    assert facts.history_section_id == amendment.id


def test_the_page_shows_the_history_facts_as_read_only_and_refuses_a_change(
    session: Session, signed: Any, signed_in: Any
) -> None:
    client = signed_in("panel_physician")
    url = f"/cases/{signed.case_id}/workflow"
    page = client.get(url).get_data(as_text=True)
    assert "from the signed medical history (amend it on the exam record" in page
    facts = session.get(ClinicalFacts, signed.id)
    assert facts is not None
    response = client.post(
        f"{url}/applicants/{signed.id}/facts",
        data={
            "csrf_token": csrf_token(page),
            "version": str(facts.version),
            "exam_date": facts.exam_date.isoformat() if facts.exam_date else "",
            "tb_contact": "yes",
            "tb_history": "no",
        },
    )
    assert response.status_code == 422
    assert "amend the history to change it" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(ClinicalFacts, signed.id).tb_contact is False  # type: ignore[union-attr]
