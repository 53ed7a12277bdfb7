"""Sputum monitoring by treatment month, as the regimen defines it (BRIEF 6): monthly until the
culture converts [S33f], the month-2 culture that decides the extension [S33c, S33d], WHO failure
"positive at month 5 or later" and cure "negative at the end" [S33g]. Month m of treatment ends
`m` months after the start, clamped at short months, so no two checks share a day or a label.
Pure: no database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from pmha.config import PROJECT_ROOT
from pmha.core.errors import ValidationFailed
from pmha.rules.dates import Period
from pmha.tb_dot import service
from pmha.tb_dot.adherence import (
    Progress,
    Sputum,
    check_month,
    compute,
    month_due,
    overdue_months,
    treatment_month,
)
from pmha.tb_dot.commands import NewSputum
from pmha.tb_dot.regimens import MONTHLY, Phase, SputumSchedule, TreatmentRules, load_catalogue
from tests.factories import World
from tests.tb_dot.helpers import TODAY, catalogue_of, start, tb_patient

CATALOGUE = load_catalogue(Path(PROJECT_ROOT / "country_rules"))
DESTINATIONS = ("US", "GB", "CA", "AU")
JAN_31 = dt.date(2026, 1, 31)
GRACE = 7
STANDARD = SputumSchedule((2, 5, 6), until_conversion=True)
D = dt.timedelta


def rules(grace: int = GRACE) -> TreatmentRules:
    return TreatmentRules(
        destination="US",
        taken=frozenset({"observed"}),
        interruption_alert_after=3,
        lost_to_follow_up_after=Period.parse("2m"),
        custom_sputum=MONTHLY,
        sputum_grace_days=grace,
        failure_positive_from_month=5,
        custom_within_factor=1.5,
    )


# --- the rule files: each regimen's months, with its sources -----------------------------------


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_2hrze_4hr_checks_months_2_5_and_6_and_monthly_until_conversion(destination: str) -> None:
    """2HRZE/4HR: month 2 (end of the intensive phase) [S33c, S33d], month 5 (WHO failure) and
    month 6 (end of treatment, for cure) [S33g], and every month until conversion [S33f]."""
    regimen = CATALOGUE[destination].regimens["2HRZE/4HR"]
    assert regimen.sputum == STANDARD
    assert regimen.sputum_schedule(extended=False) == STANDARD


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_an_extended_2hrze_4hr_moves_the_end_of_treatment_check_to_month_9(
    destination: str,
) -> None:
    """Continuation to 7 months, 9 in all [S33c, S33d]: the end-of-treatment check that cure
    needs [S33g] moves to month 9."""
    regimen = CATALOGUE[destination].regimens["2HRZE/4HR"]
    assert regimen.sputum_schedule(extended=True) == SputumSchedule((2, 5, 9), True)


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_hpzm_and_custom_regimens_check_monthly_until_conversion(destination: str) -> None:
    """HPZM: end of the 8-week intensive phase (month 2) and of the 17 weeks (month 4) [S33a],
    monthly until conversion [S33f] (confidence U: an open question in the file). Custom
    (drug-resistant) regimens: monthly until conversion [S33f] (open question too)."""
    rules_of = CATALOGUE[destination]
    assert rules_of.regimens["HPZM"].sputum == SputumSchedule((2, 4), True)
    assert rules_of.custom_sputum == MONTHLY
    assert rules_of.failure_positive_from_month == 5  # WHO [S33g]


# --- treatment months: month-end arithmetic without collisions -----------------------------------


def test_the_months_of_a_31_january_start_end_on_the_last_day_of_short_months() -> None:
    """31 January + 1 month = 28 February (29 in a leap year), + 2 = 31 March, + 3 = 30 April:
    each counted from the start, never chained (which would drift to the 28th)."""
    assert [month_due(JAN_31, m) for m in range(1, 5)] == [
        dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30), dt.date(2026, 5, 31),
    ]  # fmt: skip
    assert month_due(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)


@pytest.mark.parametrize(
    "start",
    [JAN_31, dt.date(2026, 1, 30), dt.date(2026, 1, 29), dt.date(2028, 1, 31),
     dt.date(2028, 2, 29), dt.date(2026, 8, 31), dt.date(2026, 12, 31), dt.date(2026, 3, 1)],
)  # fmt: skip
def test_no_two_months_end_on_the_same_day(start: dt.date) -> None:
    """Month-end starts: the due days of months 1 to 12 are distinct and increasing, and each
    due day starts the next treatment month (the day before still belongs to the month)."""
    dues = [month_due(start, m) for m in range(1, 13)]
    assert dues == sorted(set(dues))
    for m, due in enumerate(dues, start=1):
        assert treatment_month(start, due - D(days=1)) == m  # the day before
        assert treatment_month(start, due) == m + 1  # the day of


def test_the_first_day_of_treatment_is_month_1() -> None:
    assert treatment_month(JAN_31, JAN_31) == 1


def test_a_check_within_the_grace_days_after_its_month_belongs_to_that_month() -> None:
    """The end-of-month check collected a little late still counts for the month just ended
    (the file's `sputum_grace_days`, [U]); the day after the grace days it is the next month's."""
    due = month_due(JAN_31, 1)  # 28 February 2026
    assert check_month(JAN_31, due - D(days=1), GRACE, set()) == 1
    assert check_month(JAN_31, due, GRACE, set()) == 1
    assert check_month(JAN_31, due + D(days=GRACE), GRACE, set()) == 1  # last day of grace
    assert check_month(JAN_31, due + D(days=GRACE + 1), GRACE, set()) == 2  # the day after
    assert check_month(JAN_31, due, GRACE, {1}) == 2  # month 1 has its check already


@pytest.mark.parametrize("start", [JAN_31, dt.date(2028, 1, 31), dt.date(2026, 8, 31)])
def test_one_check_at_each_month_end_gets_its_own_month_and_day(start: dt.date) -> None:
    """A check on each month's due day (what the demo generates), labelled as it is recorded:
    months 1 to 9 in order, on nine different days."""
    recorded: set[int] = set()
    days = []
    for m in range(1, 10):
        day = month_due(start, m)
        label = check_month(start, day, GRACE, recorded)
        assert label == m
        recorded.add(label)
        days.append(day)
    assert len(set(days)) == 9


# --- what is overdue, by the regimen's months ----------------------------------------------------


def test_after_conversion_only_the_regimens_own_months_are_due() -> None:
    """Converted in month 1: months 2, 5 and 6 still need a check [S33c, S33g]; 3 and 4 not
    (monthly only until conversion [S33f])."""
    as_of = month_due(JAN_31, 6) + D(days=GRACE + 1)
    assert overdue_months(JAN_31, {1}, STANDARD, 1, GRACE, as_of) == [2, 5, 6]
    assert overdue_months(JAN_31, {1}, MONTHLY, 1, GRACE, as_of) == []


def test_before_conversion_every_month_is_due() -> None:
    as_of = month_due(JAN_31, 4) + D(days=GRACE + 1)
    assert overdue_months(JAN_31, {1}, STANDARD, None, GRACE, as_of) == [2, 3, 4]


def test_a_month_is_overdue_the_day_after_its_grace_days() -> None:
    """Month 2 of a 31 January start is due on 31 March: still in time on 7 April (grace 7 [U]),
    overdue on 8 April."""
    due = month_due(JAN_31, 2)
    assert due == dt.date(2026, 3, 31)
    assert overdue_months(JAN_31, {1}, STANDARD, 1, GRACE, due + D(days=GRACE)) == []
    assert overdue_months(JAN_31, {1}, STANDARD, 1, GRACE, due + D(days=GRACE + 1)) == [2]


def test_no_month_after_the_one_treatment_ended_in_is_due() -> None:
    end = month_due(JAN_31, 6) - D(days=1)  # last day of month 6
    as_of = month_due(JAN_31, 9) + D(days=GRACE + 1)
    assert overdue_months(JAN_31, {1, 2, 5}, STANDARD, 1, GRACE, as_of, end) == [6]
    assert overdue_months(JAN_31, {1, 2, 5, 6}, STANDARD, 1, GRACE, as_of, end) == []


# --- failure counts the same months ---------------------------------------------------------------

LONG = (Phase("intensive", "HRZE", 56, 84), Phase("continuation", "HR", 126, 168))


def _progress(checks: list[Sputum], as_of: dt.date) -> Progress:
    doses = [(JAN_31 + D(days=i), "observed") for i in range((as_of - JAN_31).days)]
    return compute(LONG, JAN_31, doses, checks, rules(), as_of, STANDARD)


def test_a_positive_check_in_treatment_month_5_is_failure_and_month_4_is_not() -> None:
    """WHO: failure = positive at month 5 or later [S33g] (BRIEF 6: "positive culture after 4
    months" [S33f, S33d]), counted on the same treatment months as the schedule. Month 4 of a
    31 January start ends on 31 May: its check collected on 3 June (in grace) is month 4."""
    late_m4 = dt.date(2026, 6, 3)
    label = check_month(JAN_31, late_m4, GRACE, {1, 2, 3})
    assert label == 4
    p = _progress([Sputum(label, late_m4, "positive", None)], dt.date(2026, 6, 10))
    assert not p.failure
    m5 = dt.date(2026, 6, 9)  # the day after month 4's grace days: month 5
    label = check_month(JAN_31, m5, GRACE, {1, 2, 3})
    assert label == 5
    p = _progress([Sputum(label, m5, "positive", None)], dt.date(2026, 6, 10))
    assert p.failure
    assert p.suggested_outcome() == "treatment_failed"


def test_compute_flags_the_regimens_months_by_treatment_month() -> None:
    checks = [Sputum(1, month_due(JAN_31, 1), "positive", "negative")]
    as_of = month_due(JAN_31, 2) + D(days=GRACE + 1)
    p = _progress(checks, as_of)
    assert p.sputum_overdue == [2]


# --- the service labels each check by its treatment month, one check a month and a day ----------


def test_the_service_labels_checks_by_treatment_month_and_refuses_a_second_on_a_day(
    app: Flask, session: Session, world: World
) -> None:
    """BRIEF 6 [S33f]: a check collected on month 1's due day is month 1; the next collected
    the same day is refused (no two checks on one day); one 40 days later is month 2."""
    applicant = tb_patient(session, app, world)
    begun = TODAY - D(days=80)
    found = start(session, app, world, applicant, start_date=begun, diagnosed_on=begun)
    dot, catalogue = world.actor("dot_worker"), catalogue_of(app)
    due = month_due(begun, 1)
    service.record_sputum(session, dot, catalogue, found.episode.id,
                          NewSputum(collected_on=due, culture="positive"))  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        service.record_sputum(session, dot, catalogue, found.episode.id,
                              NewSputum(collected_on=due, culture="negative"))  # fmt: skip
    assert "already recorded" in str(refused.value.errors["collected_on"])
    later = {"collected_on": due + D(days=30), "culture": "negative"}
    after = service.record_sputum(session, dot, catalogue, found.episode.id, NewSputum(**later))
    assert sorted(s.month for s in after.episode.sputum) == [1, 2]
