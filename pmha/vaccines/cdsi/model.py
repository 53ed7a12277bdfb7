"""Inputs and outputs of the CDSi engine: plain frozen dataclasses, no behaviour beyond JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Evaluation statuses and reasons (CDSi Logic Specification, chapter 6).
VALID = "Valid"
NOT_VALID = "Not Valid"
EXTRANEOUS = "Extraneous"
SUB_STANDARD = "Sub-standard"

# Worded as CDC's test cases word them ("Interval: too Soon" there; Too Soon here, as Too Young).
TOO_YOUNG = "Age: Too Young"
TOO_OLD = "Age: Too Old"
INTERVAL_TOO_SOON = "Interval: Too Soon"
INADVERTENT = "Inadvertent Vaccine"
LIVE_VIRUS_CONFLICT = "Live Virus Conflict"
SERIES_COMPLETE = "Series Already Complete"
NOT_PREFERABLE_OR_ALLOWABLE = "Not a preferable or allowable vaccine"

# Series statuses (chapter 7 and 9).
NOT_COMPLETE = "Not complete"
COMPLETE = "Complete"
IMMUNE = "Immune"
CONTRAINDICATED = "Contraindicated"
AGED_OUT = "Aged out"
NOT_RECOMMENDED = "Not recommended"

GENDERS = {"F": "Female", "M": "Male", "U": "Unknown", "X": "Unknown"}


class CdsiInputError(ValueError):
    """The input cannot be evaluated; `problems` names every bad item."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Patient:
    dob: date
    gender: str = "U"  # F, M or U (Female, Male, Unknown are accepted too)
    birth_country: str | None = None  # only used for evidence of immunity by birth date


@dataclass(frozen=True, slots=True)
class Dose:
    date: date | None
    cvx: str
    mvx: str | None = None
    sub_standard: bool = False  # expired, recalled or a partial dose: never valid


@dataclass(frozen=True, slots=True)
class Observation:
    """A patient observation (a CDSi observation code, e.g. "007" pregnant) with the dates it
    holds: from `begin` to `end`, both days included; None is open (a plain code is an
    observation known on every date, as the engine took observations before they had dates).

    An observation applies where it is active: risk series and contraindications on the
    assessment date; an interval "from an observation" counts from its begin date."""

    code: str
    begin: date | None = None
    end: date | None = None

    def active_on(self, day: date) -> bool:
        return (self.begin is None or self.begin <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class DoseEvaluation:
    """How one administered dose counted for one antigen, in that antigen's best series."""

    dose_index: int  # position of the dose in the input list
    date: date
    cvx: str
    antigen: str
    status: str
    reason: str | None
    series: str | None
    target_dose: int | None  # the target dose it satisfied (1-based), when valid
    reasons: tuple[str, ...] = ()  # every reason it is not valid; `reason` is the first


@dataclass(frozen=True, slots=True)
class AntigenForecast:
    antigen: str
    series: str | None
    status: str
    reason: str
    dose_number: int | None
    earliest: date | None
    recommended: date | None
    past_due: date | None
    latest: date | None
    interval_from_most_recent: str | None = None
    vaccine_types: tuple[str, ...] = ()
    # FORECASTPRIORITY-1: every preferable interval of the target dose has the priority flag.
    priority: bool = False
    # The chosen series' type (Standard, Risk, Evaluation Only) and, in words, why it was chosen.
    series_type: str = ""
    why: str = ""


@dataclass(frozen=True, slots=True)
class GroupForecast:
    vaccine_group: str
    status: str
    reason: str
    dose_number: int | None
    earliest: date | None
    recommended: date | None
    past_due: date | None
    latest: date | None
    vaccine_types: tuple[str, ...]
    antigens: tuple[AntigenForecast, ...]


@dataclass(frozen=True, slots=True)
class Forecast:
    assessment_date: date
    evaluations: tuple[DoseEvaluation, ...]
    groups: Mapping[str, GroupForecast]
    notes: tuple[str, ...] = field(default=())

    def group_evaluation(
        self, dose_index: int, antigens: tuple[str, ...]
    ) -> tuple[str, str | None]:
        """One status and reason for a dose across the given antigens (see `group_dose`)."""
        found = self.group_dose(dose_index, antigens)
        return ("Not evaluated", None) if found is None else (found.status, found.reason)

    def group_dose(self, dose_index: int, antigens: tuple[str, ...]) -> DoseEvaluation | None:
        """The evaluation that speaks for a dose across the given antigens: Not Valid, else
        Valid, else the first one.

        A dose that counts for one antigen and is extraneous for another (a decennial Tdap
        after the pertussis series is complete) is Valid for the group.
        """
        found = [e for e in self.evaluations if e.dose_index == dose_index]
        relevant = [e for e in found if e.antigen in antigens] or found
        for wanted in (NOT_VALID, VALID):
            for evaluation in relevant:
                if evaluation.status == wanted:
                    return evaluation
        return relevant[0] if relevant else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (dates as ISO strings)."""

        def day(value: date | None) -> str | None:
            return None if value is None else value.isoformat()

        def antigen(a: AntigenForecast) -> dict[str, Any]:
            return {
                "antigen": a.antigen,
                "series": a.series,
                "series_type": a.series_type or None,
                "why": a.why or None,
                "status": a.status,
                "reason": a.reason,
                "dose_number": a.dose_number,
                "earliest": day(a.earliest),
                "recommended": day(a.recommended),
                "past_due": day(a.past_due),
                "latest": day(a.latest),
                "interval_from_most_recent": a.interval_from_most_recent,
                "vaccine_types": list(a.vaccine_types),
            }

        return {
            "assessment_date": day(self.assessment_date),
            "evaluations": [
                {
                    "dose": e.dose_index + 1,
                    "date": day(e.date),
                    "cvx": e.cvx,
                    "antigen": e.antigen,
                    "status": e.status,
                    "reason": e.reason,
                    "reasons": list(e.reasons),
                    "series": e.series,
                    "target_dose": e.target_dose,
                }
                for e in self.evaluations
            ],
            "vaccine_groups": [
                {
                    "vaccine_group": g.vaccine_group,
                    "status": g.status,
                    "reason": g.reason,
                    "dose_number": g.dose_number,
                    "earliest": day(g.earliest),
                    "recommended": day(g.recommended),
                    "past_due": day(g.past_due),
                    "latest": day(g.latest),
                    "vaccine_types": list(g.vaccine_types),
                    "antigens": [antigen(a) for a in g.antigens],
                }
                for g in self.groups.values()
            ],
            "notes": list(self.notes),
        }
