"""Evaluate every dose administered against one patient series (spec chapter 6)."""

from __future__ import annotations

from datetime import date

from pmha.vaccines.cdsi.dates import DATE_MAX, add_offset, shift
from pmha.vaccines.cdsi.model import (
    EXTRANEOUS,
    INADVERTENT,
    INTERVAL_TOO_SOON,
    LIVE_VIRUS_CONFLICT,
    NOT_PREFERABLE_OR_ALLOWABLE,
    NOT_VALID,
    SERIES_COMPLETE,
    SUB_STANDARD,
    TOO_OLD,
    TOO_YOUNG,
    VALID,
)
from pmha.vaccines.cdsi.schema import SeriesDose, VaccineRule
from pmha.vaccines.cdsi.skip import EVALUATION, can_skip
from pmha.vaccines.cdsi.state import SATISFIED, SKIPPED, Evaluated, PatientSeries, in_effect


def evaluate_series(ps: PatientSeries) -> None:
    """Give every dose in the series a status and reason, and advance the target dose."""
    total = len(ps.series.doses)
    for position, evaluated in enumerate(ps.doses):
        when = evaluated.dose.date
        if evaluated.dose.sub_standard:
            evaluated.status, evaluated.reason = SUB_STANDARD, "Sub-standard dose"
            continue
        while ps.target < total:
            target_dose = ps.series.doses[ps.target]
            if target_dose.recurring or not can_skip(ps, target_dose, EVALUATION, when, position):
                break
            ps.targets[ps.target] = SKIPPED
            ps.target += 1
        if ps.target >= total:
            evaluated.status, evaluated.reason = EXTRANEOUS, SERIES_COMPLETE
            continue
        target_dose = ps.series.doses[ps.target]
        failure = _failure(ps, target_dose, evaluated, position)
        if failure is not None:
            evaluated.status, evaluated.reasons = failure
            evaluated.reason = failure[1][0]
            evaluated.inadvertent = failure[1] == (INADVERTENT,)
            continue
        evaluated.status, evaluated.target = VALID, ps.target
        ps.targets[ps.target] = SATISFIED
        if not target_dose.recurring:
            ps.target += 1


def _failure(
    ps: PatientSeries, target: SeriesDose, evaluated: Evaluated, position: int
) -> tuple[str, tuple[str, ...]] | None:
    """Why the dose does not satisfy the target dose, or None when it does.

    Every check is made and every failing one named, as the specification's "satisfy target
    dose" table does ("not valid, with evaluation reasons"): a dose both too young and too
    soon after the previous one fails for both reasons, and either is a right answer.
    """
    dose = evaluated.dose
    if dose.cvx in target.inadvertent_cvx:
        return NOT_VALID, (INADVERTENT,)
    reasons: list[str] = []
    ages = in_effect(target.ages, dose.date)
    if ages:
        age = ages[0]
        if dose.date < shift(ps.dob, age.abs_min_age, ps.dob):
            reasons.append(TOO_YOUNG)
        elif dose.date >= shift(ps.dob, age.max_age, DATE_MAX):
            return EXTRANEOUS, (TOO_OLD,)
    if not _interval_ok(ps, target, dose.date, position):
        reasons.append(INTERVAL_TOO_SOON)
    if _live_virus_conflict(ps, evaluated, position):
        reasons.append(LIVE_VIRUS_CONFLICT)
    if not (
        _matches(ps, target.preferable_vaccines, evaluated, trade_name=True)
        or _matches(ps, target.allowable_vaccines, evaluated, trade_name=False)
    ):
        reasons.append(NOT_PREFERABLE_OR_ALLOWABLE)
    return (NOT_VALID, tuple(reasons)) if reasons else None


def _interval_ok(ps: PatientSeries, target: SeriesDose, when: date, position: int) -> bool:
    """Preferable intervals (6.5), then allowable intervals (6.6)."""
    preferable = True
    for rule in in_effect(target.intervals, when):
        reference = ps.reference_date(rule, position)
        if reference is None:
            continue
        if rule.abs_min is not None and when < add_offset(reference, rule.abs_min):
            preferable = False
            break
    if preferable:
        return True
    checked = False
    for rule in in_effect(target.allowable_intervals, when):
        reference = ps.reference_date(rule, position)
        if reference is None:
            continue
        checked = True
        if rule.abs_min is not None and when < add_offset(reference, rule.abs_min):
            return False
    return checked


def _live_virus_conflict(ps: PatientSeries, evaluated: Evaluated, position: int) -> bool:
    """A live vaccine too soon after another live vaccine (6.7); checks every patient dose."""
    dose = evaluated.dose
    conflicts = ps.data.live_virus_conflicts.get(dose.cvx)
    if not conflicts:
        return False
    statuses = {e.dose.index: e.status for e in ps.doses[:position]}
    for previous in ps.history.doses:
        if previous.date >= dose.date:
            break
        for conflict in conflicts:
            if conflict.previous_cvx != previous.cvx:
                continue
            status = statuses.get(previous.index, VALID)
            end = conflict.min_end if status == VALID else conflict.end
            if (
                add_offset(previous.date, conflict.begin)
                <= dose.date
                < add_offset(previous.date, end)
            ):
                return True
    return False


def _matches(
    ps: PatientSeries, rules: tuple[VaccineRule, ...], evaluated: Evaluated, *, trade_name: bool
) -> bool:
    dose = evaluated.dose
    for rule in rules:
        if rule.cvx != dose.cvx:
            continue
        if not (
            shift(ps.dob, rule.begin_age, ps.dob)
            <= dose.date
            < shift(ps.dob, rule.end_age, DATE_MAX)
        ):
            continue
        if trade_name and rule.mvx and dose.mvx and rule.mvx != dose.mvx:
            continue
        return True
    return False
