"""Adherence arithmetic, regimen eligibility and weight bands, one rule a test, pure (no
database). Rules: BRIEF section 6 and the `[tb_treatment]` table of the rule files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pmha.config import PROJECT_ROOT
from pmha.rules.dates import Period
from pmha.tb_dot.adherence import Sputum, compute
from pmha.tb_dot.regimens import (
    MONTHLY,
    Patient,
    Phase,
    TreatmentRules,
    ineligible,
    load_catalogue,
)

START = dt.date(2026, 1, 1)
SHORT = (Phase("intensive", "HRZE", 3, 5), Phase("continuation", "HR", 2, 4))
RULES = TreatmentRules(
    destination="US",
    taken=frozenset({"observed"}),
    interruption_alert_after=3,
    lost_to_follow_up_after=Period.parse("2m"),
    custom_sputum=MONTHLY,
    sputum_grace_days=7,
    failure_positive_from_month=5,
    custom_within_factor=1.5,
)


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def doses(*statuses: str) -> list[tuple[dt.date, str]]:
    return [(day(i), s) for i, s in enumerate(statuses)]


def test_the_catalogue_in_the_rule_files_holds_the_brief_regimens() -> None:
    """BRIEF 6: 2HRZE/4HR is 56 + 126 daily doses [S S33c, S33d]; HPZM 56 + 63 = 119 doses,
    intensive within 70 days and continuation within 84 [C S33a]."""
    found = load_catalogue(Path(PROJECT_ROOT / "country_rules"))
    assert set(found) == {"US", "GB", "CA", "AU"}
    standard = found["US"].regimens["2HRZE/4HR"]
    assert [p.doses for p in standard.phases] == [56, 126]
    assert standard.extension is not None and standard.extension.continuation_doses == 217
    hpzm = found["US"].regimens["HPZM"]
    assert [(p.doses, p.within_days) for p in hpzm.phases] == [(56, 70), (63, 84)]
    assert found["US"].lost_to_follow_up_after == Period(months=2)  # WHO [S S33g]


def test_a_phase_ends_by_doses_taken_not_by_the_calendar() -> None:
    """A missed day pushes the end of the phase: the third taken dose ends a 3-dose phase."""
    p = compute(SHORT, START, doses("observed", "missed", "observed", "observed", "observed"),
                [], RULES, day(4))  # fmt: skip
    intensive, continuation = p.phases
    assert intensive.complete and intensive.end == day(3)
    assert continuation.start == day(4) and continuation.taken == 1


def test_adherence_is_observed_doses_over_doses_due_per_phase() -> None:
    p = compute(SHORT, START, doses("observed", "self_administered", "observed", "observed"),
                [], RULES, day(3))  # fmt: skip
    intensive = p.phases[0]
    assert (intensive.taken, intensive.due) == (3, 4)
    assert intensive.adherence == pytest.approx(0.75)


def test_today_counts_once_its_dose_is_recorded() -> None:
    p = compute(SHORT, START, doses("observed"), [], RULES, day(1))
    assert (p.due, p.missed_run) == (1, 0)  # today's dose not recorded yet: not due yet


@pytest.mark.parametrize(("missed", "alert"), [(2, False), (3, True)])
def test_consecutive_doses_not_taken_raise_an_interruption(missed: int, alert: bool) -> None:
    statuses = ["observed"] + ["missed"] * missed
    p = compute(SHORT, START, doses(*statuses), [], RULES, day(len(statuses) - 1))
    assert p.missed_run == missed
    assert p.interruption is alert


def test_two_months_without_a_dose_is_lost_to_follow_up() -> None:
    """WHO: interruption of 2 consecutive months or more [S S33g]."""
    long = (Phase("intensive", "HRZE", 56, 84), Phase("continuation", "HR", 126, 168))
    taken = doses(*["observed"] * 10)
    almost = compute(long, START, taken, [], RULES, day(9) + dt.timedelta(days=58))
    assert not almost.lost_to_follow_up
    gone = compute(long, START, taken, [], RULES, day(10) + dt.timedelta(days=62))
    assert gone.lost_to_follow_up and gone.suggested_outcome() == "lost_to_follow_up"


def test_a_phase_past_its_window_is_late() -> None:
    p = compute(SHORT, START, doses("observed", "missed", "missed", "missed", "missed",
                                    "observed"), [], RULES, day(5))  # fmt: skip
    assert p.phases[0].late and not p.phases[0].complete


def _finished(checks: list[Sputum]) -> str | None:
    p = compute(SHORT, START, doses(*["observed"] * 5), checks, RULES, day(4))
    return p.suggested_outcome()


def test_cure_needs_a_negative_sputum_at_the_end_and_one_before() -> None:
    """WHO: cure = smear-negative at the end and on at least one previous occasion [S S33g]."""
    one = [Sputum(1, day(4), "negative", None)]
    two = [Sputum(1, day(1), "negative", None), Sputum(2, day(4), "negative", None)]
    assert _finished([]) == "treatment_completed"
    assert _finished(one) == "treatment_completed"
    assert _finished(two) == "cured"


def test_a_positive_sputum_from_month_five_is_treatment_failure() -> None:
    """WHO: failure = smear-positive at 5 months or later [S S33g]."""
    assert _finished([Sputum(4, day(1), "positive", None)]) != "treatment_failed"
    assert _finished([Sputum(5, day(1), "positive", None)]) == "treatment_failed"


def test_culture_conversion_is_the_first_negative_culture_that_stays_negative() -> None:
    checks = [Sputum(1, day(1), "positive", "positive"), Sputum(2, day(2), "negative", "negative"),
              Sputum(3, day(3), None, "positive"), Sputum(4, day(4), None, "negative")]  # fmt: skip
    p = compute(SHORT, START, doses("observed"), checks, RULES, day(4))
    assert p.conversion == day(4)


def test_a_monthly_sputum_check_is_overdue_after_its_grace_days() -> None:
    """BRIEF 6: monthly sputum until the culture converts [S S33f]; grace days [U] in the file."""
    long = (Phase("intensive", "HRZE", 56, 84),)
    taken = doses(*["observed"] * 40)
    on_time = compute(long, START, taken, [], RULES, dt.date(2026, 2, 8))
    assert on_time.sputum_overdue == []
    late = compute(long, START, taken, [], RULES, dt.date(2026, 2, 9))
    assert late.sputum_overdue == [1]
    done = compute(long, START, taken, [Sputum(1, dt.date(2026, 2, 1), "negative", "negative")],
                   RULES, dt.date(2026, 2, 9))  # fmt: skip
    assert done.sputum_overdue == []


CATALOGUE = load_catalogue(Path(PROJECT_ROOT / "country_rules"))


def _patient(**overrides: object) -> Patient:
    data: dict[str, object] = {"dob": dt.date(2014, 3, 1), "start": dt.date(2026, 3, 1),
                               "weight_kg": 40.0, "site": "pulmonary",
                               "susceptibility": "susceptible", "pregnant": False}  # fmt: skip
    data.update(overrides)
    return Patient(**data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({}, None),  # 12 on the start date, 40 kg exactly: eligible
        ({"start": dt.date(2026, 2, 28)}, "regimen"),  # a day short of 12
        ({"weight_kg": 39.9}, "weight_kg"),
        ({"weight_kg": None}, "weight_kg"),
        ({"site": "extrapulmonary"}, "site"),
        ({"susceptibility": "resistant"}, "susceptibility"),
        ({"susceptibility": "unknown"}, "susceptibility"),
        ({"pregnant": True}, "pregnant"),
        ({"pregnant": None}, "pregnant"),  # not recorded: not assumed
    ],
    ids=["eligible_at_the_limits", "under_12", "under_40kg", "no_weight", "extrapulmonary",
         "resistant", "susceptibility_unknown", "pregnant", "pregnancy_unknown"],
)  # fmt: skip
def test_each_4_month_eligibility_criterion_on_its_own(
    overrides: dict[str, object], field: str | None
) -> None:
    """BRIEF 6: the 4-month HPZM regimen is for age 12 or over, 40 kg or over, pulmonary,
    drug-susceptible TB, not in pregnancy [C S33a, S33b]; each criterion refuses on its own."""
    errors = ineligible(CATALOGUE["US"].regimens["HPZM"], _patient(**overrides))
    assert list(errors) == ([] if field is None else [field])
    if field == "regimen":
        assert "12 years or over" in errors["regimen"][0]


@pytest.mark.parametrize(
    ("weight", "tablets"),
    [(25.0, "2 tablets"), (39.9, "2 tablets"), (40.0, "3 tablets"), (54.9, "3 tablets"),
     (55.0, "4 tablets"), (70.9, "4 tablets"), (71.0, "5 tablets"), (24.9, None), (None, None)],
)  # fmt: skip
def test_the_nurse_sees_the_weight_band_dose(weight: float | None, tablets: str | None) -> None:
    """The 2HRZE/4HR fixed-dose weight bands of the rule file ([U]: not in the brief); no band,
    no dose shown (the page says "as prescribed")."""
    dose = CATALOGUE["US"].regimens["2HRZE/4HR"].dose_for(weight)
    assert (dose.split(" a day")[0] if dose else None) == tablets
