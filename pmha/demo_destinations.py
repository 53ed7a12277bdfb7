"""Two synthetic US-bound families that show the destination's requirements to the letter
(issue 15), side by side in the demo:

- an immigrant family: the principal refuses a required vaccine (Class A for vaccination,
  which holds the family, [S13f]); the spouse's remaining vaccines are waived by the engine
  itself (blanket waivers: not age appropriate, [S13a]); their grown-up son was treated for
  Class A TB under DOT, completed and was reclassified, and is still valid because validity runs
  from the final TB evaluation, not the first exam (US.toml us.validity.reclassified);
- a refugee family whose principal lived in the Democratic Republic of the Congo and now lives in
  Uganda: the presumptive treatment plan gives albendazole, praziquantel and
  artemether-lumefantrine, and leaves ivermectin out because of Loa loa [S16, S17, S18].

Two families because the programme is a case's: the vaccination requirement is for immigrants
only (BRIEF 1.1) and presumptive treatment for refugees only (BRIEF 1.6). Every person is
invented (pmha.demo's name lists).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.schemas import ApplicantIn, CaseIn
from pmha.core.auth import Actor, Role
from pmha.rules import RuleBook
from pmha.tb_dot.reclassified import make_reclassified
from pmha.travel.residence_demo import give_endemic_residence
from pmha.vaccines import demo as vaccine_demo
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.facts import NOTHING_FOUND

Person = Callable[[random.Random, str, tuple[str, str], str, int, date, str], dict[str, Any]]
NATIONALITY = "AF"
# The families' references (case.external_ref), so a reader of the demo can find them.
IMMIGRANTS, REFUGEES = "DEMO-US-IMMIGRANT-15", "DEMO-US-REFUGEE-15"


def seed(
    session: Session,
    clinic: Mapping[Role, Actor],
    operations: Actor,
    rules: RuleBook,
    today: date,
    person: Person,
    names: Mapping[str, list[tuple[str, str]]],
) -> list[str]:
    """Register both families and bring each member to the state above; returns the case
    numbers. `person` is pmha.demo._person and `names` its family-name lists."""
    nurse, physician = clinic[Role.NURSE], clinic[Role.PANEL_PHYSICIAN]
    # Its own generator (synthetic names), so the rest of the demo draws as it did before.
    rng = random.Random(15)  # noqa: S311
    numbers = []

    # The immigrant family: a refusal, blanket waivers, a treated-and-reclassified son.
    family = rng.choice(names[NATIONALITY])
    principal = person(rng, NATIONALITY, family, "female", 44, today, "principal")
    spouse = person(rng, NATIONALITY, family, "male", 47, today, "spouse")
    son = person(rng, NATIONALITY, family, "male", 20, today, "child")
    case = _register(session, operations, IMMIGRANTS, today, principal, [spouse, son])
    mother, father, grown_son = (_member(case, r) for r in ("principal", "spouse", "child"))
    for applicant in (mother, father):
        _facts(session, nurse, rules, applicant, today)
    vaccine_demo.into_refusal(session, nurse, physician, rules, mother.id, today)
    vaccine_demo.into_blanket_waivers(session, nurse, rules, father.id, today)
    make_reclassified(session, clinic, rules, grown_son.id)
    numbers.append(case.case_number)

    # The refugee family: the principal lived in a Loa loa-endemic country.
    family = rng.choice(names[NATIONALITY])
    principal = person(rng, NATIONALITY, family, "male", 38, today, "principal")
    wife = person(rng, NATIONALITY, family, "female", 35, today, "spouse")
    case = _register(session, operations, REFUGEES, today, principal, [wife])
    for applicant in case.applicants:
        _facts(session, nurse, rules, applicant, today)
    give_endemic_residence(session, physician, rules, _member(case, "principal").id)
    numbers.append(case.case_number)
    return numbers


def _register(
    session: Session,
    operations: Actor,
    reference: str,
    today: date,
    principal: dict[str, Any],
    members: list[dict[str, Any]],
) -> Any:
    case = cases.register_case(
        session,
        operations,
        CaseIn().load(
            {
                "site_code": "IST",
                "destination": "US",
                "programme": "immigrant" if reference == IMMIGRANTS else "refugee",
                "planned_departure": today + timedelta(days=45),
                "external_ref": reference,
                "principal": principal,
            }
        ),
    )
    for member in members:
        cases.add_applicant(session, operations, case.id, ApplicantIn().load(member))
    session.flush()
    session.expire_all()  # the inputs were plain strings: read the enums back
    return case


def _member(case: Any, relationship: str) -> Any:
    return next(a for a in case.applicants if a.relationship.value == relationship)


def _facts(session: Session, nurse: Actor, rules: RuleBook, applicant: Any, today: date) -> None:
    facts: dict[str, Any] = {"exam_date": today, **NOTHING_FOUND}
    if applicant.sex.value == "female":
        facts["pregnant"] = False
    workflow.set_facts(session, nurse, rules, applicant.id, FactsUpdate(**facts))
