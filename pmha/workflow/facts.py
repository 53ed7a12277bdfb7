"""From what the registry and the clinic recorded to the rule engine's Facts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant
from pmha.rules import Facts, Result
from pmha.rules import vocabulary as vocab
from pmha.rules.facts import FLAGS as FLAGS  # re-exported: the flags a physician records
from pmha.rules.facts import Residence
from pmha.rules.model import RuleSet
from pmha.workflow.models import ClinicalFacts, ResidencePeriod, Step, StepResult, StepState
from pmha.workflow.steps import allowed_waivers

# Every flag answered "no" (pregnancy is asked of women only): a well applicant, for the demos.
NOTHING_FOUND: Mapping[str, bool] = MappingProxyType(
    {flag: False for flag in FLAGS if flag != "pregnant"}
)


def latest_results(session: Session, applicant_id: object) -> dict[str, StepResult]:
    rows = session.scalars(
        select(StepResult)
        .where(StepResult.applicant_id == applicant_id)
        .order_by(StepResult.recorded_at)
    )
    return {row.code: row for row in rows}


def residence_of(session: Session, applicant_id: object) -> tuple[Residence, ...]:
    """The applicant's residence periods, oldest first, as the engine's facts."""
    rows = session.scalars(
        select(ResidencePeriod)
        .where(ResidencePeriod.applicant_id == applicant_id)
        .order_by(ResidencePeriod.started_on, ResidencePeriod.recorded_at)
    )
    return tuple(Residence(r.country, r.started_on, r.ended_on) for r in rows)


def result_value(code: str, value: str) -> str | float:
    return float(value) if vocab.RESULT_VALUES.get(code, ()) is None else value


def build_facts(
    session: Session,
    applicant: Applicant,
    steps: list[Step],
    as_of: date,
    rules: RuleSet | None = None,
) -> tuple[Facts, dict[str, list[str]]]:
    """The applicant's facts and, if the rules cannot plan with them, what is wrong, by field.
    Only waivers the destination's `rules` allow for their step are facts (none without rules);
    a step not done is deferred: it stays open (blocked when required), never settled."""
    case = applicant.case
    clinical = session.get(ClinicalFacts, applicant.id)
    exam_date = clinical.exam_date if clinical and clinical.exam_date else as_of
    results = {
        code: Result(result_value(code, row.value), row.result_date, row.treated)
        for code, row in latest_results(session, applicant.id).items()
    }
    waivers = {
        s.code: s.waiver_reason
        for s in steps
        if s.state == StepState.WAIVED
        and s.waiver_reason in allowed_waivers(rules, s.code, exam_date)
    }
    deferred = frozenset(s.code for s in steps if s.state == StepState.NOT_DONE)
    departure = case.planned_departure
    facts = Facts(
        dob=applicant.dob,
        exam_date=exam_date,
        sex=applicant.sex.value,
        programme=case.programme.value,
        destination=case.destination.value,
        exam_country=case.site.country,
        departure_date=departure if departure and departure >= exam_date else None,
        results=MappingProxyType(results),
        waivers=MappingProxyType({k: v for k, v in waivers.items() if v}),
        deferred=deferred,
        **{flag: getattr(clinical, flag) if clinical else None for flag in FLAGS},
        gestation_weeks=clinical.gestation_weeks if clinical else None,
        residence=residence_of(session, applicant.id),
    )
    return facts, facts.errors()
