"""Conditional skip: when a target dose need not be given (spec sections 6.2 and 7.1)."""

from __future__ import annotations

from datetime import date

from pmha.vaccines.cdsi.dates import DATE_MAX, DATE_MIN, add_offset, shift
from pmha.vaccines.cdsi.model import VALID
from pmha.vaccines.cdsi.schema import SeriesDose, SkipCondition, SkipSet
from pmha.vaccines.cdsi.state import PatientSeries

EVALUATION = "evaluation"
FORECAST = "forecast"


def can_skip(
    ps: PatientSeries, dose: SeriesDose, context: str, on: date, before: int | None
) -> bool:
    """True when a conditional skip of `dose` applies on date `on`.

    `before` is the position of the dose being evaluated (only earlier doses count); None in
    the forecast, where every dose counts.
    """
    for skip in dose.conditional_skips:
        if skip.context not in ("both", context):
            continue
        results = [_set_met(ps, s, on, before) for s in skip.sets]
        if all(results) if skip.all_sets else any(results):
            return True
    return False


def _set_met(ps: PatientSeries, skip_set: SkipSet, on: date, before: int | None) -> bool:
    if skip_set.effective is not None and on < skip_set.effective:
        return False
    if skip_set.cessation is not None and on > skip_set.cessation:
        return False
    results = [_condition_met(ps, c, on, before) for c in skip_set.conditions]
    return all(results) if skip_set.all_conditions else any(results)


def _condition_met(ps: PatientSeries, c: SkipCondition, on: date, before: int | None) -> bool:
    kind = c.condition_type
    if kind == "age":
        begin = shift(ps.dob, c.begin_age, ps.dob)
        end = shift(ps.dob, c.end_age, DATE_MAX)
        return begin <= on < end
    if kind == "interval":
        previous = ps.previous(before)
        if previous is None or c.interval is None:
            return False
        return on >= add_offset(previous.dose.date, c.interval)
    if kind == "completed series":
        return any(group in ps.completed_groups for group in c.series_groups)
    if kind.startswith("vaccine count"):
        return _count_met(ps, c, on, before)
    return False


def _count_met(ps: PatientSeries, c: SkipCondition, on: date, before: int | None) -> bool:
    by_age = "age" in c.condition_type
    by_date = "date" in c.condition_type
    begin_age = shift(ps.dob, c.begin_age, ps.dob)
    end_age = shift(ps.dob, c.end_age, DATE_MAX)
    start = c.start_date or DATE_MIN
    end = c.end_date or DATE_MAX
    stop = len(ps.doses) if before is None else before
    count = 0
    for candidate in ps.doses[:stop]:
        dose = candidate.dose
        if dose.date > on:
            continue
        if c.vaccine_types and dose.cvx not in c.vaccine_types:
            continue
        if by_age and not begin_age <= dose.date < end_age:
            continue
        if by_date and not start <= dose.date <= end:
            continue
        if c.dose_type == "valid" and candidate.status != VALID:
            continue
        count += 1
    logic = c.dose_count_logic
    if logic.startswith("greater"):
        return count > c.dose_count
    if logic.startswith("less"):
        return count < c.dose_count
    return count == c.dose_count
