"""The working state of one patient series while it is evaluated and forecast."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol, TypeVar

from pmha.vaccines.cdsi.history import Administered, History
from pmha.vaccines.cdsi.model import NOT_COMPLETE, NOT_VALID, VALID
from pmha.vaccines.cdsi.schema import IntervalRule, Series, SupportingData

# Observations that are the date of another (ScheduleSupportingData.xml observation titles).
DATED_BY = {"170": "007", "171": "004"}
PREGNANT = "007"
LONGEST_PREGNANCY = timedelta(weeks=42)

SATISFIED = "satisfied"
SKIPPED = "skipped"
NOT_SATISFIED = "not satisfied"


class _Dated(Protocol):
    @property
    def effective(self) -> date | None: ...

    @property
    def cessation(self) -> date | None: ...


D = TypeVar("D", bound=_Dated)


def in_effect(rules: Sequence[D], on: date) -> list[D]:
    """The rules whose effective and cessation dates include `on`."""
    if not rules:
        return []
    return [
        r
        for r in rules
        if (r.effective is None or r.effective <= on) and (r.cessation is None or on <= r.cessation)
    ]


@dataclass(slots=True)
class Evaluated:
    """An administered dose as this patient series sees it."""

    dose: Administered
    status: str | None = None
    reason: str | None = None
    reasons: tuple[str, ...] = ()  # every failing check when Not Valid; reason is the first
    target: int | None = None  # 0-based target dose it satisfied
    inadvertent: bool = False

    @property
    def counts_as_previous(self) -> bool:
        """A reference dose for intervals: Valid or Not Valid, never inadvertent (CALCDTINT-1)."""
        return self.status in (VALID, NOT_VALID) and not self.inadvertent


@dataclass(slots=True)
class PatientSeries:
    series: Series
    history: History
    data: SupportingData
    doses: list[Evaluated] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    target: int = 0
    completed_groups: frozenset[str] = frozenset()
    # Forecast (chapter 7)
    status: str = NOT_COMPLETE
    reason: str = ""
    earliest: date | None = None
    recommended: date | None = None
    past_due: date | None = None
    latest: date | None = None
    interval_from_most_recent: str | None = None
    vaccine_types: tuple[str, ...] = ()
    score: int = 0

    @classmethod
    def start(cls, series: Series, history: History, data: SupportingData) -> PatientSeries:
        doses = [Evaluated(d) for d in history.by_antigen.get(series.target_disease, ())]
        return cls(series, history, data, doses, [NOT_SATISFIED] * len(series.doses))

    @property
    def dob(self) -> date:
        return self.history.patient.dob

    @property
    def valid_doses(self) -> list[Evaluated]:
        return [d for d in self.doses if d.status == VALID]

    @property
    def is_complete(self) -> bool:
        return NOT_SATISFIED not in self.targets and SATISFIED in self.targets

    def forecast_dose_number(self) -> int:
        """The number of the dose to give next, as CDC's forecasts count it.

        Valid doses are counted (each satisfied one target dose, or the recurring one again:
        a second decennial Td booster is dose 8 after seven), skipped target doses are not.
        A seasonal target dose
        (influenza, COVID-19) is counted within its season: only valid doses given on or
        after the season's start date count, so a child who finished last season's doses
        is due dose 1 of this season, and one who had one of two doses this season, dose 2.
        """
        target = self.series.doses[self.target] if self.target < len(self.series.doses) else None
        if target is not None and target.season_start is not None:
            start = target.season_start
            return 1 + sum(1 for d in self.valid_doses if d.dose.date >= start)
        return len(self.valid_doses) + 1

    def previous(self, before: int | None) -> Evaluated | None:
        """The most recent reference dose before position `before` (all doses when None)."""
        stop = len(self.doses) if before is None else before
        for candidate in reversed(self.doses[:stop]):
            if candidate.counts_as_previous:
                return candidate
        return None

    def reference_date(self, rule: IntervalRule, before: int | None) -> date | None:
        """The date an interval counts from (CALCDTINT-1 to -4); None when it does not apply."""
        if rule.from_previous:
            found = self.previous(before)
            return None if found is None else found.dose.date
        if rule.from_target_dose is not None:
            for candidate in self.doses:
                if candidate.target == rule.from_target_dose - 1 and candidate.status == VALID:
                    return candidate.dose.date
            return None
        if rule.from_most_recent:
            # Any dose of the listed vaccines counts, whatever antigen it was recorded for.
            limit = None if before is None else self.doses[before].dose
            found_date = None
            for given in self.history.doses:
                if limit is not None and (given.date, given.index) >= (limit.date, limit.index):
                    break
                if given.cvx in rule.from_most_recent:
                    found_date = given.date
            return found_date
        if rule.from_observation is not None:
            return self.observed_on(rule.from_observation, evaluating=before is not None)
        return None

    def observed_on(self, code: str, *, evaluating: bool = False) -> date | None:
        """The date an interval "from an observation" counts from: the begin date of that
        observation, else of the observation it dates (ScheduleSupportingData: 170 "Onset of
        pregnancy" is the begin of 007 "Pregnant"; 171 "Date of hematopoietic stem cell
        transplant", the begin of 004 "Recipient of a hematopoietic stem cell transplant").
        None when no date is known: the interval does not apply, as before dates were given.

        Except when a dose is evaluated against a pregnancy whose onset is not known: the
        current pregnancy began at most 42 weeks before the assessment date (WHO: post-term
        from 42 completed weeks), so a Tdap given before then was not given in it and does not
        count for it; one given since counts (the onset could be before it)."""
        history = self.history
        found = history.observed_on(code) if history.dated else None
        if found is None and code in DATED_BY and history.dated:
            # The observation active on the assessment date: the current pregnancy.
            found = history.observed_on(DATED_BY[code], active=True)
        pregnant = DATED_BY.get(code) == PREGNANT and PREGNANT in history.observations
        if found is None and evaluating and pregnant:
            found = history.assessment_date - LONGEST_PREGNANCY
        return found
