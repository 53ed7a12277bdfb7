"""Month arithmetic, ages at birthdays, and the day before / day of an effective date."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from pmha.rules.dates import Age, Period, add_months, completed_months, days_in_month
from tests.rules.conftest import plan_for


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 8, 31), 6, date(2026, 2, 28)),  # S25 / VOCABULARY example
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 12, 15), 3, date(2026, 3, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 5, 12), 0, date(2025, 5, 12)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_month_lengths_match_the_calendar():
    # Leap years by the Gregorian rules: 1900 is not one, 2000 is.
    for year in (1900, 1999, 2000, 2023, 2024, 2100):
        for month in range(1, 13):
            assert days_in_month(year, month) == calendar.monthrange(year, month)[1]


def test_periods():
    assert Period.parse("15y") == Period(months=180)
    assert Period.parse("6w") == Period(days=42)
    assert Period.parse("3d").after(date(2025, 7, 1), -1) == date(2025, 6, 28)
    with pytest.raises(ValueError):
        Period.parse("15 years")


@pytest.mark.parametrize(
    ("born", "on", "months"),
    [
        (date(2010, 5, 12), date(2025, 5, 11), 179),
        (date(2010, 5, 12), date(2025, 5, 12), 180),
        (date(2008, 2, 29), date(2023, 2, 28), 180),  # leap-day birthday clamps to 28 Feb
        (date(2008, 2, 29), date(2023, 2, 27), 179),
        (date(2025, 1, 31), date(2025, 2, 28), 1),
        (date(2025, 1, 31), date(2025, 2, 27), 0),
    ],
)
def test_completed_months_agree_with_add_months(born, on, months):
    assert completed_months(born, on) == months
    assert add_months(born, months) <= on < add_months(born, months + 1)


@pytest.mark.parametrize(
    ("destination", "threshold", "code"),
    [
        ("US", 15, "chest_xray"),  # S1: 15 and over
        ("GB", 11, "chest_xray"),  # S25: 11 and over
        ("CA", 11, "chest_xray"),  # S28c
        ("CA", 5, "urinalysis"),  # S28c
        ("AU", 11, "chest_xray"),  # S29b
        ("AU", 15, "hiv_test"),  # S29a
        ("NZ", 11, "chest_xray"),  # S30c
    ],
)
def test_birthday_boundary(book, destination, threshold, code):
    """The day before the birthday: not yet; the day of it: required."""
    exam = date(2025, 5, 12)
    born = date(exam.year - threshold, exam.month, exam.day)
    day_before = plan_for(book, destination, dob=born.isoformat(), exam_date="2025-05-11")
    day_of = plan_for(book, destination, dob=born.isoformat(), exam_date="2025-05-12")
    assert day_before.status(code) == "not_required"
    assert day_of.status(code) == "required"


def test_us_gonorrhea_upper_bound_is_the_25th_birthday(book):
    """S11: ages 18-24 means up to the day before the 25th birthday."""
    assert plan_for(book, "US", dob="2000-05-13").status("gonorrhea_naat") == "required"
    assert plan_for(book, "US", dob="2000-05-12").status("gonorrhea_naat") == "not_required"


def test_age_of_an_infant_in_weeks():
    assert Age.between(date(2025, 1, 1), date(2025, 2, 12)).at_least(Period.parse("6w"))
    assert not Age.between(date(2025, 1, 1), date(2025, 2, 11)).at_least(Period.parse("6w"))


@pytest.mark.parametrize(
    ("destination", "facts", "code", "day_before", "day_of", "statuses"),
    [
        ("US", {"dob": "1995-01-01"}, "gonorrhea_naat", "2021-09-02", "2021-09-03", "RN"),  # S11
        ("US", {"dob": "2000-01-01"}, "syphilis_serology", "2018-06-30", "2018-07-01", "NR"),
        ("GB", {"programme": "refugee"}, "hbv_test", "2025-03-26", "2025-03-27", "NR"),  # S27
        ("GB", {"programme": "refugee"}, "urinalysis", "2025-03-26", "2025-03-27", "RN"),  # S27
        ("CA", {}, "serum_creatinine", "2019-12-31", "2020-01-01", "CR"),  # S28d, S28c
        ("AU", {}, "serum_creatinine", "2023-06-30", "2023-07-01", "NR"),  # S29g
        (
            "AU",
            {"dob": "2010-01-01", "programme": "refugee"},
            "igra",
            "2015-11-19",
            "2015-11-20",
            "NR",
        ),
        ("NZ", {}, "chest_xray", "2009-12-31", "2010-01-01", "NR"),  # S30c
    ],
)
def test_effective_date_boundaries(book, destination, facts, code, day_before, day_of, statuses):
    """R required, N not required, C conditional: on the day before and the day of the change."""
    names = {"R": "required", "N": "not_required", "C": "conditional"}
    before = plan_for(book, destination, exam_date=day_before, **facts).status(code)
    on = plan_for(book, destination, exam_date=day_of, **facts).status(code)
    assert (before, on) == (names[statuses[0]], names[statuses[1]])
