"""What the TB treatment write verbs take (issue 21): frozen commands built by the schemas'
post_load at the edge, so the services read typed fields and mypy sees a renamed one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class PhaseSpec:
    """One phase of a physician's custom regimen (drug-resistant TB)."""

    name: str  # intensive | continuation
    drugs: str
    doses: int


@dataclass(frozen=True, kw_only=True)
class StartEpisode:
    """Start directly observed treatment: the diagnosis, the regimen (a catalogue code, or
    `custom` with its phases) and where the doses are observed."""

    diagnosed_on: dt.date
    site: str
    susceptibility: str
    regimen: str
    start_date: dt.date
    resistance: str | None = None
    cavitation: bool = False
    weight_kg: float | None = None
    phases: tuple[PhaseSpec, ...] = ()
    dot_site: str = "centre"
    referral_centre: str | None = None


@dataclass(frozen=True, kw_only=True)
class NewDose:
    """What happened to one scheduled dose."""

    date: dt.date
    status: str
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class NewSputum:
    """A monthly sputum check: the smear or the culture result, or both."""

    collected_on: dt.date
    smear: str | None = None
    culture: str | None = None


@dataclass(frozen=True, kw_only=True)
class CloseEpisode:
    """Close the episode with its WHO outcome."""

    outcome: str
    version: int
    note: str | None = None
