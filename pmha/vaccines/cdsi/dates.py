"""Date arithmetic as the CDSi Logic Specification defines it (chapter 3, CALCDT rules).

Offsets are written in the supporting data as "12 months - 4 days", "16 months + 4 weeks".
Years and months are added first; a day that does not exist in the resulting month moves to
the first day of the next month (31 March + 6 months = 1 October); weeks and days follow.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

# Stand-ins for "no limit", as the specification uses them (01/01/1900 and 12/31/2999).
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)

_TERM = re.compile(r"([+-]?)\s*(\d+)\s*(year|month|week|day)s?\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Offset:
    """A calendar offset: years and months, then days (weeks are 7 days)."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __str__(self) -> str:
        parts = [(self.years, "year"), (self.months, "month"), (self.days, "day")]
        text = " ".join(f"{n:+d} {unit}{'s' if abs(n) != 1 else ''}" for n, unit in parts if n)
        return text or "0 days"


@lru_cache(maxsize=4096)
def parse_offset(text: str) -> Offset:
    """Parse an offset such as "4 years - 4 days"; raise ValueError if it is not one."""
    cleaned = text.strip()
    years = months = days = 0
    position = 0
    for match in _TERM.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            raise ValueError(f"not a CDSi offset: {text!r}")
        position = match.end()
        value = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
        unit = match.group(3).lower()
        if unit == "year":
            years += value
        elif unit == "month":
            months += value
        elif unit == "week":
            days += 7 * value
        else:
            days += value
    if position == 0 or cleaned[position:].strip():
        raise ValueError(f"not a CDSi offset: {text!r}")
    return Offset(years, months, days)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_offset(start: date, offset: Offset) -> date:
    """Add an offset to a date per CALCDT-1..5 (month-end rolls to the 1st of the next month)."""
    months = offset.months + 12 * offset.years
    if months:
        month_index = start.month - 1 + months
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = start.day
        # Only days 29 to 31 can be missing from a month (the engine is called a lot).
        if day > 28 and day > (
            29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month - 1]
        ):
            year, month, day = (year + 1, 1, 1) if month == 12 else (year, month + 1, 1)
        start = date(year, month, day)
    return start + timedelta(days=offset.days) if offset.days else start


def shift(start: date, offset: Offset | None, default: date) -> date:
    """`start` plus `offset`, or `default` when the data leaves the offset blank."""
    return default if offset is None else add_offset(start, offset)


def parse_data_date(text: str) -> date:
    """Parse a date from the supporting data: YYYYMMDD or MM/DD/YYYY."""
    cleaned = text.strip()
    if "/" in cleaned:
        month, day, year = (int(part) for part in cleaned.split("/"))
        return date(year, month, day)
    if len(cleaned) == 8 and cleaned.isdigit():
        return date(int(cleaned[:4]), int(cleaned[4:6]), int(cleaned[6:]))
    return date.fromisoformat(cleaned)
