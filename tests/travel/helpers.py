"""Travel test data: a departure, families booked on it, and cleared or held travellers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pmha.cases.models import FamilyCase
from pmha.rules import RuleBook
from pmha.rules import vocabulary as vocab
from pmha.travel import departures
from pmha.travel.commands import NewDeparture
from pmha.travel.models import Departure
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.models import StepState
from pmha.workflow.roles import group_of
from tests.factories import World, applicant_data, make_case
from tests.settle import settle_as_owner

NO_TB = {
    "tb_history": False,
    "tb_contact": False,
    "tb_symptoms": False,
    "known_hiv": False,
    "extrapulmonary_tb": False,
    "complex_condition": False,
    "urgent_surveillance": False,
    "pregnant": False,
}
ROLE = {"radiology": "radiologist", "lab": "lab_technician", "nurse": "nurse"}


def good_value(code: str) -> str:
    allowed = vocab.RESULT_VALUES[code]
    if allowed is None:
        return "0"
    for value in ("normal", "negative", "non_reactive", "completed", "given"):
        if value in allowed:
            return value
    return allowed[0]


def clear(
    session: Session,
    world: World,
    rules: RuleBook,
    applicant_id: Any,
    exam_date: date | None = None,
    facts: dict[str, Any] | None = None,
) -> Any:
    """Record the facts and a reassuring result for every open required step."""
    physician = world.actor("panel_physician")
    data = {**NO_TB, **(facts or {})}
    if exam_date is not None:
        data["exam_date"] = exam_date
    found = workflow.set_facts(session, physician, rules, applicant_id, FactsUpdate(**data))
    day = exam_date or date.today()
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
        who = ROLE.get(group_of(step.code), "panel_physician")
        found = settle_as_owner(
            session,
            world.actor(who),
            rules,
            applicant_id,
            {"code": step.code, "value": good_value(step.code), "date": day},
        )


def departure(
    session: Session, world: World, *, days: float = 2, destination: str = "US", carrier: str = "TK"
) -> Departure:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return departures.create_departure(
        session,
        world.actor("operations"),
        NewDeparture(
            carrier=carrier,
            flight_number="1",
            departs_at=when,
            route="IST-ORD" if destination == "US" else "IST-YYZ",
            destination=destination,
        ),
    )


def family(
    session: Session,
    world: World,
    destination: str = "US",
    children: int = 0,
    programme: str = "refugee",
    **principal: Any,
) -> FamilyCase:
    from pmha.cases import service as cases
    from pmha.cases.schemas import ApplicantIn

    case = make_case(
        session,
        world.actor("nurse"),
        destination=destination,
        programme=programme,
        principal=applicant_data(**principal),
    )
    for i in range(children):
        cases.add_applicant(
            session,
            world.actor("nurse"),
            case.id,
            ApplicantIn().load(
                applicant_data(
                    given_names=f"Child{'ABCDEFG'[i]}",
                    given_names_original=None,
                    dob=f"{2014 + i}-05-0{i + 1}",
                    relationship="child",
                    sex="female",
                )
            ),
        )
    session.flush()
    return case


def booked(session: Session, world: World, dep: Departure, case: FamilyCase) -> FamilyCase:
    departures.book_case(session, world.actor("operations"), dep.id, case.id)
    return case
