"""Select relevant patient series and the best one per series group (spec chapters 5 and 8)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pmha.vaccines.cdsi.dates import DATE_MAX, DATE_MIN, add_offset, shift
from pmha.vaccines.cdsi.history import History
from pmha.vaccines.cdsi.model import (
    AGED_OUT,
    COMPLETE,
    CONTRAINDICATED,
    IMMUNE,
    NOT_COMPLETE,
    NOT_RECOMMENDED,
)
from pmha.vaccines.cdsi.schema import Series
from pmha.vaccines.cdsi.state import SATISFIED, PatientSeries


def is_relevant(series: Series, history: History) -> bool:
    """Gender, and for risk series an indication the patient has at the assessment date."""
    if series.required_genders and history.gender not in series.required_genders:
        return False
    if series.series_type != "Risk":
        return True
    dob, today = history.patient.dob, history.assessment_date
    return any(
        i.observation_code in history.observations
        and shift(dob, i.begin_age, DATE_MIN) <= today < shift(dob, i.end_age, DATE_MAX)
        for i in series.indications
    )


def _starts_in_window(ps: PatientSeries) -> bool:
    """A started series must have started before its maximum age to start; a series not
    started yet must be startable today (its minimum age to start reached)."""
    valid = ps.valid_doses
    start = valid[0].dose.date if valid else ps.history.assessment_date
    if start >= shift(ps.dob, ps.series.max_age_to_start, DATE_MAX):
        return False
    return bool(valid) or start >= shift(ps.dob, ps.series.min_age_to_start, DATE_MIN)


def _scorable(candidates: list[PatientSeries]) -> list[PatientSeries]:
    scorable: list[PatientSeries] = []
    risk = [ps for ps in candidates if ps.series.series_type == "Risk"]
    if risk:
        best = min(ps.series.priority for ps in risk)
        scorable += [ps for ps in risk if ps.series.priority == best and _starts_in_window(ps)]
    standard = [ps for ps in candidates if ps.series.series_type == "Standard"]
    if any(ps.valid_doses for ps in standard):
        scorable += [ps for ps in standard if ps.valid_doses and _starts_in_window(ps)]
    elif not any(ps.series.default for ps in standard):
        scorable += [ps for ps in standard if _starts_in_window(ps)]
    scorable += [
        ps for ps in candidates if ps.series.series_type == "Evaluation Only" and ps.is_complete
    ]
    return scorable


def _in_process(ps: PatientSeries) -> bool:
    return SATISFIED in ps.targets and ps.status == NOT_COMPLETE


def best_series(group: list[PatientSeries]) -> PatientSeries | None:
    """The prioritised patient series of one series group (8.1 to 8.5).

    None when no series of the group is scorable and none is the default: an unfinished
    "Evaluation Only" series (a Twinrix schedule given to a patient without the risk) is
    never the series to forecast from.
    """
    candidates = [ps for ps in group if ps.status != CONTRAINDICATED] or group
    scorable = _scorable(candidates)
    default = [ps for ps in candidates if ps.series.default]
    if not scorable:
        return default[0] if default else None
    if len(scorable) == 1:
        return scorable[0]
    complete = [ps for ps in scorable if ps.status == COMPLETE]
    if len(complete) == 1:
        return complete[0]
    if len(complete) > 1:
        _score_complete(complete)
        return _highest(complete)
    in_process = [ps for ps in scorable if _in_process(ps)]
    if len(in_process) == 1:
        return in_process[0]
    if in_process:
        _score_in_process(in_process)
        return _highest(in_process)
    scorable_default = [ps for ps in scorable if ps.series.default]
    if scorable_default:
        return scorable_default[0]
    _score_not_started(scorable)
    return _highest(scorable)


def _highest(group: list[PatientSeries]) -> PatientSeries:
    return min(group, key=lambda ps: (-ps.score, ps.series.preference))


def _award(
    group: list[PatientSeries], test: Callable[[PatientSeries], bool], points: int, *, tie: int = 0
) -> None:
    winners = [ps for ps in group if test(ps)]
    for ps in group:
        if ps in winners:
            ps.score += points if len(winners) == 1 else tie
        else:
            ps.score -= points


def _score_complete(group: list[PatientSeries]) -> None:
    most = max(len(ps.valid_doses) for ps in group)
    _award(group, lambda ps: len(ps.valid_doses) == most, 1)


def _finish_date(ps: PatientSeries) -> date | None:
    """Forecast finish: earliest date plus the minimum intervals of the remaining doses."""
    if ps.earliest is None:
        return None
    finish = ps.earliest
    for dose in ps.series.doses[ps.target + 1 :]:
        minimums = [r.min for r in dose.intervals if r.from_previous and r.min is not None]
        if minimums:
            finish = add_offset(finish, minimums[0])
    return finish


def _completable(ps: PatientSeries, finish: date | None = None) -> bool:
    """The forecast finish date is before the maximum age of the last target dose."""
    finish = _finish_date(ps) if finish is None else finish
    if finish is None:
        return False
    last = ps.series.doses[-1]
    max_age = last.ages[0].max_age if last.ages else None
    return finish < shift(ps.dob, max_age, DATE_MAX)


def _score_in_process(group: list[PatientSeries]) -> None:
    def product_all_valid(ps: PatientSeries) -> bool:
        return ps.series.product_path and len(ps.valid_doses) == len(ps.doses)

    finish = {id(ps): _finish_date(ps) for ps in group}
    completable = {id(ps): _completable(ps, finish[id(ps)]) for ps in group}
    _award(group, product_all_valid, 2)
    _award(group, lambda ps: completable[id(ps)], 3)
    most = max(len(ps.valid_doses) for ps in group)
    _award(group, lambda ps: len(ps.valid_doses) == most, 2)
    fewest = min(len(ps.series.doses) - ps.target for ps in group)
    _award(group, lambda ps: len(ps.series.doses) - ps.target == fewest, 2)
    # Can finish earliest: a completable series whose forecast finish date is on or before
    # that of every other completable series.
    done_by = [f for k, f in finish.items() if completable[k] and f is not None]
    first = min(done_by, default=None)
    _award(group, lambda ps: completable[id(ps)] and finish[id(ps)] == first, 1)


def _score_not_started(group: list[PatientSeries]) -> None:
    starts = [ps.earliest for ps in group if ps.earliest is not None]
    first = min(starts) if starts else None
    _award(group, lambda ps: first is not None and ps.earliest == first, 1)
    _award(group, _completable, 1)
    _award(group, lambda ps: not ps.series.product_path, 1)


_FALLBACK_ORDER = (CONTRAINDICATED, AGED_OUT, NOT_RECOMMENDED)


def _covered(ps: PatientSeries, done: list[PatientSeries]) -> bool:
    """A series is not needed when a series group it names as equivalent is complete.

    The equivalence is read from the series that would be given: "HepB risk 3-dose series"
    names group 1, so a complete infant series satisfies it; "Hib risk 3-dose series" (after a
    stem-cell transplant) and the pneumococcal risk series name none, so a complete standard
    series never makes their doses vanish.
    """
    return any(d.series.group in ps.series.equivalent_series_groups for d in done)


def best_across_groups(chosen: list[PatientSeries]) -> PatientSeries | None:
    """The best series of the antigen, from the prioritised series of each series group.

    1. A series group the patient is too young to start (e.g. "Pneumococcal 50+") waits its
       turn unless it already has valid doses.
    2. A complete (or immune) group satisfies every open group that names it as equivalent.
    3. Of the open groups left, a risk series (made relevant by the patient's indication)
       comes before a standard one, started or not (Table 8-14: an incomplete risk series is
       a best patient series; an incomplete standard series is not when an equivalent group
       has a risk series; where both are best, chapter 9 blends risk with risk, and the
       patient's indication is what the forecast must follow: a pregnant woman whose routine
       Td catch-up is under way is offered her pregnancy Tdap); then the earliest date, then
       the series group.
    4. Otherwise a complete group, a risk series first (a pregnancy's Tdap is shown as that
       pregnancy's dose, not as an extra dose of the childhood series), else contraindicated,
       aged out, not recommended.
    """
    if len(chosen) < 2:
        return chosen[0] if chosen else None
    started = [ps for ps in chosen if ps.valid_doses or _may_start(ps)]
    chosen = started or chosen
    done = [ps for ps in chosen if ps.status in (COMPLETE, IMMUNE)]
    open_ = [ps for ps in chosen if ps.status == NOT_COMPLETE and not _covered(ps, done)]
    if open_:
        return min(
            open_,
            key=lambda ps: (
                _rank(ps, chosen),
                ps.earliest or date.max,
                len(ps.series.group),
                ps.series.group,
            ),
        )
    if done:
        return min(done, key=lambda ps: ps.series.series_type != "Risk")
    for status in _FALLBACK_ORDER:
        for ps in chosen:
            if ps.status == status:
                return ps
    return chosen[0]


def _rank(ps: PatientSeries, chosen: list[PatientSeries]) -> int:
    """0: a risk series (the patient's indication makes it relevant); 1: a standard series in
    process that the patient is old enough to start; 2: the rest (a child's stray PPSV23 makes
    the "Pneumococcal 50+" series in process, but it never goes before the child's risk
    series).

    A risk series that builds on another group (its doses are skipped once that group is
    complete: a "Completed Series" skip condition, as in "Polio risk adult series") waits
    while that group is in process: a laboratory worker with two childhood polio doses
    finishes the childhood series first, as ACIP says (the doses given count)."""
    if ps.series.series_type == "Risk":
        waits = _builds_on(ps) & {
            o.series.group for o in chosen if o.status == NOT_COMPLETE and o.valid_doses
        }
        return 2 if waits else 0
    return 1 if ps.valid_doses and _may_start(ps) else 2


def _builds_on(ps: PatientSeries) -> set[str]:
    """The series groups whose completion skips doses of this series."""
    return {
        group
        for dose in ps.series.doses
        for skip in dose.conditional_skips
        for skip_set in skip.sets
        for condition in skip_set.conditions
        if condition.condition_type == "completed series"
        for group in condition.series_groups
    }


def _may_start(ps: PatientSeries) -> bool:
    return ps.history.assessment_date >= shift(ps.dob, ps.series.min_age_to_start, DATE_MIN)


def _period(history: History, code: str) -> str:
    """ " (from 2026-05-01 until 2027-01-20)" for an observation active on the assessment date
    with dates; "" for a plain code (known on every date)."""
    if code in history.plain:
        return ""
    today = history.assessment_date
    for obs in history.dated:
        if obs.code == code and obs.active_on(today):
            since = "" if obs.begin is None else f" from {obs.begin.isoformat()}"
            until = "" if obs.end is None else f" until {obs.end.isoformat()}"
            return f" ({(since + until).strip()})"
    return ""


def why_chosen(pick: PatientSeries, chosen: list[PatientSeries]) -> str:
    """In words, for a nurse: which series the forecast follows and why."""
    if pick.series.series_type == "Risk":
        known = pick.data.observations
        titles = sorted(
            {
                (known[i.observation_code].title if i.observation_code in known else i.description)
                + _period(pick.history, i.observation_code)
                for i in pick.series.indications
                if i.observation_code in pick.history.observations
            }
        )
        because = f" because of: {'; '.join(titles)}" if titles else ""
        text = f"Following the risk schedule '{pick.series.name}'{because}."
    else:
        text = f"Following the routine schedule '{pick.series.name}'."
    if len(chosen) < 2 or pick.status != NOT_COMPLETE:
        return text
    others = [ps for ps in chosen if ps is not pick and ps.status in (COMPLETE, IMMUNE)]
    if others:
        text += f" '{others[0].series.name}' is complete but does not cover this schedule."
    return text
