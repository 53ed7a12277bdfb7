"""What the workflow's write verbs take (issue 21): frozen commands, built by the schemas'
post_load at the edge, so a service reads typed fields and mypy sees a renamed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
