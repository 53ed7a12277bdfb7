"""Forecast the next target dose of one patient series (spec chapter 7)."""

from __future__ import annotations

from datetime import date, timedelta

from pmha.vaccines.cdsi.dates import DATE_MAX, add_offset, shift
from pmha.vaccines.cdsi.model import (
    AGED_OUT,
    COMPLETE,
    CONTRAINDICATED,
    IMMUNE,
    NOT_COMPLETE,
    NOT_RECOMMENDED,
    NOT_VALID,
    VALID,
)
from pmha.vaccines.cdsi.schema import SeriesDose
from pmha.vaccines.cdsi.skip import FORECAST, can_skip
from pmha.vaccines.cdsi.state import SATISFIED, SKIPPED, PatientSeries, in_effect

ONE_DAY = timedelta(days=1)


def forecast_series(
    ps: PatientSeries, *, immune: bool, contraindicated: bool, excluded_cvx: frozenset[str]
) -> None:
    """Set the series status and, when another dose is due, its forecast dates."""
    today = ps.history.assessment_date
    total = len(ps.series.doses)
    while ps.target < total:
        dose = ps.series.doses[ps.target]
        # A skip is checked on the assessment date and again on the earliest date the dose
        # could be given ("not required for those 7 years or older at the earliest
        # forecasted date for next dose"): a child turning 7 before then moves on to the
        # catch-up doses for 7 and older.
        if not dose.conditional_skips or not (
            can_skip(ps, dose, FORECAST, today, None)
            or can_skip(ps, dose, FORECAST, max(today, _earliest(ps, dose, today)), None)
        ):
            break
        if ps.targets[ps.target] != SATISFIED:
            ps.targets[ps.target] = SKIPPED
        ps.target += 1
    if immune:
        ps.status, ps.reason = IMMUNE, "Patient has evidence of immunity"
        return
    if contraindicated:
        ps.status, ps.reason = CONTRAINDICATED, "Patient has a contraindication"
        return
    if ps.target >= total:
        if SATISFIED in ps.targets:
            ps.status, ps.reason = COMPLETE, "Patient series is complete"
        else:
            ps.status, ps.reason = NOT_RECOMMENDED, "Not recommended due to past history"
        return
    target = ps.series.doses[ps.target]
    if target.season_end is not None and today > target.season_end:
        ps.status, ps.reason = NOT_RECOMMENDED, "Past seasonal recommendation end date"
        return
    types = tuple(
        v.cvx for v in target.preferable_vaccines if v.forecast and v.cvx not in excluded_cvx
    )
    if excluded_cvx and not [v for v in target.preferable_vaccines if v.cvx not in excluded_cvx]:
        ps.status, ps.reason = CONTRAINDICATED, "Patient has a contraindication"
        return
    _dates(ps, target, today)
    ps.vaccine_types = types


def is_priority(ps: PatientSeries) -> bool:
    """FORECASTPRIORITY-1: the forecast is a priority patient series forecast when its target
    dose has at least one preferable interval and every one carries the interval priority
    flag (the spec's 'Y'; the supporting data writes it "override")."""
    if ps.status != NOT_COMPLETE or ps.target >= len(ps.series.doses):
        return False
    intervals = in_effect(ps.series.doses[ps.target].intervals, ps.history.assessment_date)
    return bool(intervals) and all(rule.override for rule in intervals)


def _dates(ps: PatientSeries, target: SeriesDose, today: date) -> None:
    ages = in_effect(target.ages, today)
    age = ages[0] if ages else None
    max_age = DATE_MAX if age is None else shift(ps.dob, age.max_age, DATE_MAX)
    if today >= max_age:
        ps.status, ps.reason = AGED_OUT, "Patient has exceeded the maximum age"
        return
    earliest = _earliest(ps, target, today)
    rec_interval: list[date] = []
    due_interval: list[date] = []
    for rule in in_effect(target.intervals, today):
        reference = ps.reference_date(rule, None)
        if reference is None:
            continue
        if rule.earliest_rec is not None:
            rec_interval.append(add_offset(reference, rule.earliest_rec))
        if rule.latest_rec is not None:
            due_interval.append(add_offset(reference, rule.latest_rec))
        if rule.from_most_recent and rule.min is not None:
            ps.interval_from_most_recent = str(rule.min)
    if earliest >= max_age:
        ps.status, ps.reason = (
            AGED_OUT,
            "Patient is unable to finish the series before the maximum age",
        )
        return
    # FORECASTDT-2/3: the recommended age, else the latest recommended interval; the
    # interval priority flag plays no part here (it marks a priority forecast, 9.3).
    rec_age = None if age is None else age.earliest_rec_age
    due_age = None if age is None else age.latest_rec_age
    if rec_age is not None:
        recommended = add_offset(ps.dob, rec_age)
    elif rec_interval:
        recommended = max(rec_interval)
    else:
        recommended = earliest
    past_due: date | None = None
    if due_age is not None:
        past_due = add_offset(ps.dob, due_age) - ONE_DAY
    elif due_interval:
        past_due = max(due_interval) - ONE_DAY
    ps.status, ps.reason = NOT_COMPLETE, "Patient series is not complete"
    ps.earliest = earliest
    ps.recommended = max(recommended, earliest)
    ps.past_due = None if past_due is None else max(past_due, earliest)
    ps.latest = None if max_age == DATE_MAX else max_age - ONE_DAY


def _earliest(ps: PatientSeries, target: SeriesDose, today: date) -> date:
    """The earliest date the target dose may be given (7.1): the latest of its minimum age,
    minimum intervals, the last dose given, live-virus conflicts and the season start.

    A blank minimum age is "from birth": the specification's stand-in for no limit
    (01/01/1900, CALCDT) would put a date before birth in the forecast."""
    ages = in_effect(target.ages, today)
    earliest = shift(ps.dob, ages[0].min_age, ps.dob) if ages else ps.dob
    for rule in in_effect(target.intervals, today):
        reference = ps.reference_date(rule, None)
        if reference is not None and rule.min is not None:
            earliest = max(earliest, add_offset(reference, rule.min))
    given = [e.dose.date for e in ps.doses if e.status in (VALID, NOT_VALID)]
    if given:
        earliest = max(earliest, given[-1])
    earliest = _after_conflicts(ps, target, earliest)
    if target.season_start is not None:
        earliest = max(earliest, target.season_start)
    return earliest


def _after_conflicts(ps: PatientSeries, target: SeriesDose, earliest: date) -> date:
    """Push the earliest date past live-virus conflicts with doses already given (7.1)."""
    if not ps.history.doses:
        return earliest
    conflicts = ps.data.live_virus_conflicts
    forecast_cvx = {v.cvx for v in target.preferable_vaccines if v.cvx in conflicts}
    for cvx in forecast_cvx:
        for conflict in conflicts[cvx]:
            for previous in ps.history.doses:
                if previous.cvx != conflict.previous_cvx:
                    continue
                # Same day is no conflict; any later day before the conflict end is.
                end = add_offset(previous.date, conflict.end)
                if earliest < end and earliest != previous.date:
                    earliest = end
    return earliest
