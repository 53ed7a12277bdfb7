"""Combine antigen forecasts into one vaccine-group forecast (spec chapter 9)."""

from __future__ import annotations

from datetime import date

from pmha.vaccines.cdsi.model import (
    AGED_OUT,
    COMPLETE,
    CONTRAINDICATED,
    IMMUNE,
    NOT_COMPLETE,
    NOT_RECOMMENDED,
    AntigenForecast,
    GroupForecast,
)
from pmha.vaccines.cdsi.schema import VaccineGroup


def _pick(values: list[date | None], latest: bool) -> date | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present) if latest else min(present)


def _not_before(value: date | None, floor: date | None) -> date | None:
    if value is None or floor is None:
        return value
    return max(value, floor)


def group_forecast(
    group: VaccineGroup, antigens: list[AntigenForecast], last_given: date | None = None
) -> GroupForecast:
    """One forecast for the group: due when any antigen is due (9.1 to 9.3).

    `last_given` is the latest date a dose of a vaccine belonging to the group was given."""
    statuses = [a.status for a in antigens]
    due = [a for a in antigens if a.status == NOT_COMPLETE]
    if due:
        status = NOT_COMPLETE
    elif statuses and all(s == IMMUNE for s in statuses):
        status = IMMUNE
    elif CONTRAINDICATED in statuses:
        status = CONTRAINDICATED
    elif COMPLETE in statuses:
        status = COMPLETE
    elif AGED_OUT in statuses:
        status = AGED_OUT
    else:
        status = NOT_RECOMMENDED
    if not due:
        reason = next((a.reason for a in antigens if a.status == status), "")
        return GroupForecast(
            group.name, status, reason, None, None, None, None, None, (), tuple(antigens)
        )
    # The antigen due first gives the reason and, unless all antigens are given at once
    # (MMR), the vaccine types; ties go to the group's first antigen.
    driver = min(due, key=lambda a: a.earliest or date.max)
    contained = due
    if not group.administer_full_group:
        due = [driver]
    types: list[str] = []
    for a in due:
        types += [cvx for cvx in a.vaccine_types if cvx not in types]
    full = group.administer_full_group
    # The group's dose number: with all antigens at once (MMR) a dose counts only when it
    # carried them all, so the antigen with the fewest doses numbers it (a single-antigen
    # measles dose leaves MMR dose 1 due); otherwise (DTaP/Tdap/Td) any dose carrying one
    # of them counts (a Td after five DTaP is dose 6 of the group), so the most.
    numbers = [a.dose_number for a in (due if full else antigens) if a.status == NOT_COMPLETE]
    present = [n for n in numbers if n is not None]
    earliest = (
        _group_earliest(contained, last_given)
        if len(group.antigens) > 1
        else _pick([a.earliest for a in contained], False)
    )
    return GroupForecast(
        vaccine_group=group.name,
        status=status,
        reason=driver.reason,
        dose_number=(min(present) if full else max(present)) if present else None,
        earliest=earliest,
        # FORECASTVG-2 to 4: the earliest recommended and past-due dates of the contained
        # forecasts, not before the group's earliest date; the earliest latest date.
        recommended=_not_before(_pick([a.recommended for a in contained], False), earliest),
        past_due=_not_before(_pick([a.past_due for a in contained], False), earliest),
        latest=_pick([a.latest for a in contained], False),
        vaccine_types=tuple(types),
        antigens=tuple(antigens),
    )


def _group_earliest(contained: list[AntigenForecast], last_given: date | None) -> date | None:
    """MULTIANTVG-1: the earliest date of a multiple antigen vaccine group.

    With a priority patient series forecast among them (FORECASTPRIORITY-1), the later of the
    earliest of the contained forecasts' earliest dates and the last dose given of a vaccine in
    the group; otherwise the latest of their earliest dates."""
    if any(a.priority for a in contained):
        return _not_before(_pick([a.earliest for a in contained], False), last_given)
    return _pick([a.earliest for a in contained], True)
