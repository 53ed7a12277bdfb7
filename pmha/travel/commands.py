"""What the travel write verbs take (issue 21): frozen commands built by the schemas'
post_load at the edge, so the services read typed fields and mypy sees a renamed one."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pmha.travel.models import CheckKind


@dataclass(frozen=True, kw_only=True)
class NewDeparture:
    """A flight or movement to a destination (the site when the actor works at several)."""

    carrier: str
    flight_number: str
    departs_at: dt.datetime
    route: str
    destination: str
    site_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class NewCheck:
    """A pre-departure check (PDMS, PEC or DHC): what was found, and the physician's outcome
    (none: the suggested one; a different one needs the reason)."""

    kind: CheckKind
    checked_at: dt.datetime
    temperature_c: float | None = None
    pulse: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    spo2: int | None = None
    symptoms: Sequence[str] = ()
    pregnancy_weeks: int | None = None
    pregnancy_multiple: bool = False
    mobility: str = "none"
    oxygen: bool = False
    mental_state: str = "stable"
    journey_medications: str | None = None
    outcome: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetEscort:
    """The traveller's escort on their departure; `version` is the escort's version the caller
    saw (none when arranging the first)."""

    escort_type: str
    medif_status: str = "not_needed"
    plan: str | None = None
    equipment: Sequence[str] = ()
    handover_note: str | None = None
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class NewTreatment:
    """A pre-departure treatment given (e.g. presumptive albendazole)."""

    drug: str
    dose: str
    given_on: dt.date


@dataclass(frozen=True, kw_only=True)
class FollowUpDone:
    """A follow-up the receiving side completed, with its note."""

    completed_on: dt.date
    note: str | None = None
