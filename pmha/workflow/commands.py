"""What the workflow's write verbs take (issue 21): frozen commands, built by the schemas'
post_load at the edge, so a service reads typed fields and mypy sees a renamed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pmha.core.commands import UNSET, Unset
from pmha.workflow.models import StepState


@dataclass(frozen=True)
class Move:
    """Move a step: to a state, with the reason or note that state asks for."""

    to: StepState
    version: int  # the step's version the caller saw (optimistic locking)
    waiver_reason: str | None = None
    not_done_reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class NewResult:
    """A result for a step of the plan: a value of the code's vocabulary (or a number, e.g. a
    TST's induration in mm), dated; `treated` for a result of a treated condition."""

    code: str
    value: str
    date: date
    treated: bool = False


@dataclass(frozen=True, kw_only=True)
class NewResidence:
    """A country the applicant lived in (ISO 3166-1 alpha-2), from a day until a day (none:
    still there)."""

    country: str
    started_on: date
    ended_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class FactsUpdate:
    """Clinical facts the rules ask about: only the fields sent change (None clears one).
    `version`: the facts' version the caller read, once they exist."""

    exam_date: date | Unset | None = UNSET
    pregnant: bool | Unset | None = UNSET
    gestation_weeks: int | Unset | None = UNSET
    tb_history: bool | Unset | None = UNSET
    tb_contact: bool | Unset | None = UNSET  # close contact in the past year
    tb_symptoms: bool | Unset | None = UNSET
    known_hiv: bool | Unset | None = UNSET
    extrapulmonary_tb: bool | Unset | None = UNSET
    complex_condition: bool | Unset | None = UNSET
    urgent_surveillance: bool | Unset | None = UNSET
    version: int | None = None
