"""The demo's traveller who lived in an endemic region (issue 15: "a traveller who lived in an
endemic region"): DRC 2012-2019, then Uganda. BRIEF 1.6: albendazole, praziquantel and
artemether-lumefantrine [S16, S18]; ivermectin left out after a Loa loa-endemic country [S16]."""

from __future__ import annotations

from typing import Any

from pmha.travel.residence_demo import give_endemic_residence
from pmha.workflow import residence
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
