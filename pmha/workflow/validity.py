"""A plan outcome's validity and reporting deadline in words, for the pages (issue 15).

The engine records what dated an outcome (`anchor`: `exam_date` or `result:<code>`) and the period
(`valid_for`, e.g. "3m"), and which reporting tier set its deadline; this says them as a nurse
reads them: "valid until 12 March 2027: 3 months from the final TB evaluation on 12 December
2026". A plan kept before issue 15 has no anchor: only the date is said.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pmha.workflow.labels import awaited, label

# What each anchor is, in words (a result not listed: "the <label> result").
ANCHORS = {
    "exam_date": "the exam",
    "result:tb_treatment_dot": "the final TB evaluation",
    "result:chest_xray": "the chest X-ray",
    "result:physical_exam": "the physical examination",
    "result:medical_history": "the medical history",
    "result:sputum_culture": "the sputum culture result",
}
# What the duty is, by outcome kind (Australia: the health undertaking, Form 815 [S29f2]).
DUTIES = {"tb_undertaking": "contact the health undertaking service"}
# Reporting tiers (rule files' `tiers[].name`) in words.
TIERS = {"urgent": "urgent or complex case"}
_UNITS = {"y": "year", "m": "month", "w": "week", "d": "day"}


def long_date(day: date | str) -> str:
    """2027-03-12 -> '12 March 2027'."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return f"{day.day} {day:%B %Y}"


def anchor_words(anchor: str) -> str:
    found = ANCHORS.get(anchor)
    if found:
        return found
    return f"the {label(anchor.removeprefix('result:')).lower()} result"


def period_words(text: str) -> str:
    """'6m' -> '6 months', '1m' -> '1 month', '10d' -> '10 days'."""
    number, unit = text[:-1], text[-1]
    if not number.isdigit() or unit not in _UNITS:
        return text
    word = _UNITS[unit]
    return f"{int(number)} {word}{'' if int(number) == 1 else 's'}"


def anchor_date(outcome: Mapping[str, Any]) -> str | None:
    return outcome.get("date") if isinstance(outcome.get("date"), str) else None


def validity_words(outcome: Mapping[str, Any]) -> str | None:
    """'valid until 12 March 2027: 3 months from the final TB evaluation on 12 December 2026';
    None when the outcome has no validity."""
    until = outcome.get("valid_until")
    if not until:
        return None
    text = f"valid until {long_date(until)}"
    anchor, since, period = outcome.get("anchor"), anchor_date(outcome), outcome.get("valid_for")
    if anchor and since and period:
        text += f": {period_words(period)} from {anchor_words(anchor)} on {long_date(since)}"
    return text


def report_words(outcome: Mapping[str, Any]) -> str | None:
    """'report to public health within 7 days of arrival (urgent or complex case)'; while the
    tier's flag is not recorded, says that the shorter deadline applies until it is."""
    days = outcome.get("report_within_days")
    if not days:
        return None
    duty = DUTIES.get(outcome.get("kind") or "", "report to public health")
    text = f"{duty} within {days} days of arrival"
    tier = outcome.get("report_tier")
    waiting = list(outcome.get("report_awaiting") or ())
    if tier and waiting:
        text += f" (the shorter deadline until {awaited(waiting)} is answered)"
    elif tier:
        text += f" ({TIERS.get(tier, tier.replace('_', ' '))})"
    return text
