"""Calendar arithmetic: months clamp to the month's last day (31 Aug + 6 months = 28 Feb)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_PERIOD = re.compile(r"^(\d{1,4})([ymwd])$")


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    # calendar.monthrange also works out the weekday; planning only needs the length.
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]


def add_months(start: date, months: int) -> date:
    """The same day of the month `months` later (or earlier), clamped to the month's last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(start.day, days_in_month(year, month)))


@dataclass(frozen=True, slots=True)
class Period:
    """A length of time written '15y', '6m', '6w' or '10d' in the rule files."""

    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"{text!r} is not a period like '15y', '6m', '6w' or '10d'")
        number, unit = int(match.group(1)), match.group(2)
        if unit == "y":
            return cls(months=12 * number)
        if unit == "m":
            return cls(months=number)
        return cls(days=number * (7 if unit == "w" else 1))

    def after(self, start: date, sign: int = 1) -> date:
        if not self.days:
            return add_months(start, sign * self.months)
        if not self.months:
            return start + timedelta(days=sign * self.days)
        return add_months(start, sign * self.months) + timedelta(days=sign * self.days)


def completed_months(born: date, on: date) -> int:
    """Whole months from `born` to `on`: add_months(born, n) <= on exactly when n <= this."""
    months = (on.year - born.year) * 12 + on.month - born.month
    if on.day < min(born.day, days_in_month(on.year, on.month)):
        months -= 1
    return months


@dataclass(frozen=True, slots=True)
class Age:
    """An age on a date, kept as whole months and days so that birthdays are exact."""

    months: int
    days: int

    @classmethod
    def between(cls, born: date, on: date) -> Age:
        return cls(completed_months(born, on), (on - born).days)

    @property
    def years(self) -> int:
        return self.months // 12

    def at_least(self, period: Period) -> bool:
        # Periods are either whole months or whole days (Period.parse never mixes them).
        if period.months:
            return self.months >= period.months
        return self.days >= period.days
