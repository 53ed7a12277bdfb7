"""The demo helpers of issue 15 put a US immigrant into (a) a refusal the physician confirmed
(vaccination Class A, clearance held [S13f]) and (b) the derived blanket waivers [S13a]."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pmha.rules import RuleBook
from pmha.vaccines import demo
from pmha.workflow import service as workflow
from tests.factories import World
from tests.vaccines.test_nurse import _planned
from tests.vaccines.test_records import TODAY


def test_into_refusal_gives_class_a_and_holds_clearance(
    session: Session, world: World, app: Any
) -> None:
    rules: RuleBook = app.extensions["pmha.rules"]
    nurse, physician = world.actor("nurse"), world.actor("panel_physician")
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-04-02")
    done = demo.into_refusal(session, nurse, physician, rules, applicant.id, TODAY)
    assert done is not None and done.outcome == "class_a"
    decision = workflow.current(session, nurse, rules, applicant.id).decision
    assert decision.status == "not_cleared"
    assert any(b.code == "vaccination" for b in decision.blockers)


def test_into_blanket_waivers_shows_not_age_appropriate(
    session: Session, world: World, app: Any
) -> None:
    rules: RuleBook = app.extensions["pmha.rules"]
    nurse = world.actor("nurse")
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1990-04-02")
    waived = demo.into_blanket_waivers(session, nurse, rules, applicant.id, TODAY)
    assert "Hib: Waived: not age appropriate" in waived
    # adult polio is a dose to give from 1 May 2024 [S23c], never waived by age
    assert "Polio: Waived: not age appropriate" not in waived, waived
