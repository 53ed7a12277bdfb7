"""The demo's traveller who lived in an endemic region (issue 15: "a traveller who lived in an
endemic region"): DRC 2012-2019, then Uganda. BRIEF 1.6: albendazole, praziquantel and
artemether-lumefantrine [S16, S18]; ivermectin left out after a Loa loa-endemic country [S16]."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pmha.core.errors import ValidationFailed
from pmha.travel import handover
from pmha.travel.commands import NewTreatment
from pmha.travel.residence_demo import give_endemic_residence
from pmha.workflow import residence
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from tests.factories import World, applicant_data, make_case


def test_the_endemic_traveller_shows_the_drugs_and_the_reason_ivermectin_is_left_out(
    app: Any, session: Any, world: World
) -> None:
    rules = app.extensions["pmha.rules"]
    person = make_case(
        session, world.actor("nurse"), principal=applicant_data(dob="1988-04-02")
    ).applicants[0]
    physician = world.actor("panel_physician")
    plan = give_endemic_residence(session, physician, rules, person.id)
    assert plan is not None and plan.id == "us.presumptive.sub_saharan_africa"
    assert [d.drug for d in plan.drugs] == [
        "albendazole",
        "praziquantel",
        "artemether-lumefantrine",
    ]
    assert [why for _d, why in plan.omitted] == [
        "ivermectin not given: lived in a Loa loa-endemic country "
        "(Democratic Republic of the Congo, 2012-2019)"
    ]
    periods = residence.periods(session, physician, person.id)
    assert [(p.country, p.ended_on is None) for p in periods] == [("CD", False), ("UG", True)]


def test_a_drug_left_out_cannot_be_recorded_and_a_held_one_only_by_the_physician(
    app: Any, session: Any, world: World
) -> None:
    """Ivermectin after DRC is refused with its reason [S16]; in pregnancy ivermectin and
    praziquantel are held for the physician (rules not retrieved [U]): a nurse cannot record
    them, the physician can; albendazole is never given in pregnancy [S17]."""
    rules = app.extensions["pmha.rules"]
    physician, nurse = world.actor("panel_physician"), world.actor("nurse")
    person = make_case(
        session, nurse, principal=applicant_data(dob="1988-04-02", sex="female")
    ).applicants[0]
    workflow.set_facts(session, physician, rules, person.id, FactsUpdate(pregnant=False))
    give_endemic_residence(session, physician, rules, person.id)
    today = date.today()

    def record(who: Any, drug: str) -> Any:
        with app.app_context():
            return handover.record_treatment(
                session, who, person.id, NewTreatment(drug=drug, dose="as planned", given_on=today)
            )

    with pytest.raises(ValidationFailed) as caught:
        record(nurse, "ivermectin")
    assert caught.value.errors["drug"] == [
        "Ivermectin not given: lived in a Loa loa-endemic country "
        "(Democratic Republic of the Congo, 2012-2019)."
    ]
    assert record(nurse, "praziquantel").drug == "praziquantel"
    facts = workflow.clinical_facts(session, person.id)
    assert facts is not None
    workflow.set_facts(
        session,
        physician,
        rules,
        person.id,
        FactsUpdate(pregnant=True, gestation_weeks=20, version=facts.version),
    )
    with pytest.raises(ValidationFailed):
        record(nurse, "praziquantel")  # held: the physician decides
    assert record(physician, "praziquantel").drug == "praziquantel"
    with pytest.raises(ValidationFailed) as caught:
        record(physician, "albendazole")
    assert "not given in pregnancy" in caught.value.errors["drug"][0]
