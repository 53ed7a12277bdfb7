"""Adherence, phases, interruptions, sputum monitoring and the WHO outcome, from the doses
recorded: pure, so it can be tested from tables and recomputed fast (benchmarks/dot.py).

A phase ends by doses taken (the Nth dose taken under observation ends an N-dose phase), not
by the calendar; its window (`within_days`) says by when that must happen.

Sputum is counted by treatment month, as the regimens and the WHO definitions count it
(BRIEF 6: "positive at month 5 or later" [S33g], the month-2 culture [S33c, S33d]): month m
runs from `add_months(start, m - 1)` to the day before `add_months(start, m)`, each computed
from the start date itself (never chained from the month before), so the months of a start on
31 January end on 28/29 February, 31 March, 30 April... and no two share a day. Month m's check
is due when month m ends; one collected within the grace days after belongs to month m if that
month has none yet (the end-of-month check, collected a little late).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pmha.rules.dates import add_months, completed_months
from pmha.tb_dot.regimens import MONTHLY, Phase, SputumSchedule, TreatmentRules

STATUSES = ("observed", "missed", "self_administered", "refused", "adverse_event")
OUTCOMES = (
    "cured",
    "treatment_completed",
    "treatment_failed",
    "lost_to_follow_up",
    "died",
    "not_evaluated",
)


@dataclass(frozen=True, slots=True)
class Sputum:
    month: int
    collected_on: date
    smear: str | None  # positive, negative, inconclusive
    culture: str | None

    @property
    def positive(self) -> bool:
        return "positive" in (self.smear, self.culture)

    @property
    def negative(self) -> bool:
        found = [r for r in (self.smear, self.culture) if r is not None]
        return bool(found) and all(r == "negative" for r in found)


@dataclass
class PhaseProgress:
    name: str
    drugs: str
    doses: int
    within_days: int
    start: date | None = None
    window_ends: date | None = None
    end: date | None = None  # the day its last dose was taken
    taken: int = 0
    due: int = 0
    late: bool = False  # completed after its window, or still open after it

    @property
    def complete(self) -> bool:
        return self.taken >= self.doses

    @property
    def adherence(self) -> float | None:
        return None if not self.due else self.taken / self.due

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "drugs": self.drugs,
            "doses": self.doses,
            "within_days": self.within_days,
            "start": self.start.isoformat() if self.start else None,
            "window_ends": self.window_ends.isoformat() if self.window_ends else None,
            "end": self.end.isoformat() if self.end else None,
            "taken": self.taken,
            "due": self.due,
            "adherence": None if self.adherence is None else round(self.adherence, 4),
            "complete": self.complete,
            "late": self.late,
        }


@dataclass
class Progress:
    phases: list[PhaseProgress]
    through: date  # the last day counted (today once today's dose is recorded)
    taken: int = 0
    due: int = 0
    missed_run: int = 0  # consecutive scheduled doses not taken, up to `through`
    interruption: bool = False
    lost_to_follow_up: bool = False
    conversion: date | None = None
    sputum_overdue: list[int] = field(default_factory=list)  # months whose check is overdue
    failure: bool = False
    cure_evidence: bool = False

    @property
    def total(self) -> int:
        return sum(p.doses for p in self.phases)

    @property
    def outstanding(self) -> int:
        return max(0, self.total - self.taken)

    @property
    def complete(self) -> bool:
        return all(p.complete for p in self.phases)

    @property
    def current(self) -> PhaseProgress | None:
        return next((p for p in self.phases if not p.complete), None)

    @property
    def adherence(self) -> float | None:
        return None if not self.due else self.taken / self.due

    @property
    def end(self) -> date | None:
        return self.phases[-1].end if self.complete else None

    def suggested_outcome(self) -> str | None:
        """The WHO outcome the record supports so far (None: still on treatment)."""
        if self.failure:
            return "treatment_failed"
        if self.lost_to_follow_up:
            return "lost_to_follow_up"
        if self.complete:
            return "cured" if self.cure_evidence else "treatment_completed"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phases": [p.to_dict() for p in self.phases],
            "through": self.through.isoformat(),
            "doses_total": self.total,
            "doses_taken": self.taken,
            "doses_due": self.due,
            "doses_outstanding": self.outstanding,
            "adherence": None if self.adherence is None else round(self.adherence, 4),
            "missed_run": self.missed_run,
            "interruption": self.interruption,
            "lost_to_follow_up": self.lost_to_follow_up,
            "culture_conversion": self.conversion.isoformat() if self.conversion else None,
            "sputum_overdue_months": list(self.sputum_overdue),
            "suggested_outcome": self.suggested_outcome(),
        }


def compute(
    phases: Sequence[Phase],
    start: date,
    doses: Sequence[tuple[date, str]],
    sputum: Sequence[Sputum],
    rules: TreatmentRules,
    as_of: date,
    schedule: SputumSchedule = MONTHLY,
) -> Progress:
    """Progress of a treatment started on `start`, from its doses (date, status) in date order;
    `schedule` says which treatment months need sputum (the regimen's)."""
    recorded_today = bool(doses) and doses[-1][0] == as_of
    through = as_of if recorded_today else as_of - timedelta(days=1)
    taken_days = [d for d, status in doses if status in rules.taken and d <= through]
    progress = Progress([PhaseProgress(p.name, p.drugs, p.doses, p.within_days) for p in phases],
                        through)  # fmt: skip
    # Walk the phases over the taken doses: each phase starts the day after the last ended.
    i = 0
    phase_start: date | None = start
    for phase in progress.phases:
        if phase_start is None:
            break
        phase.start = phase_start
        phase.window_ends = phase_start + timedelta(days=phase.within_days - 1)
        while i < len(taken_days) and phase.taken < phase.doses:
            phase.taken += 1
            i += 1
        if phase.complete:
            phase.end = taken_days[i - 1]
            phase.due = (phase.end - phase_start).days + 1
            phase_start = phase.end + timedelta(days=1)
        else:
            phase.due = max(0, (through - phase_start).days + 1)
            phase_start = None
        phase.late = (phase.end or through) > phase.window_ends
    progress.taken = sum(p.taken for p in progress.phases)
    progress.due = sum(p.due for p in progress.phases)
    if not progress.complete:
        last = taken_days[-1] if taken_days else start - timedelta(days=1)
        progress.missed_run = max(0, (through - last).days)
        progress.interruption = progress.missed_run >= rules.interruption_alert_after
        gap_start = last + timedelta(days=1)
        progress.lost_to_follow_up = (
            progress.missed_run > 0
            and rules.lost_to_follow_up_after.after(gap_start) <= through + timedelta(days=1)
        )
    _sputum(progress, start, sputum, rules, as_of, schedule)
    return progress


def _sputum(
    progress: Progress,
    start: date,
    checks: Sequence[Sputum],
    rules: TreatmentRules,
    as_of: date,
    schedule: SputumSchedule,
) -> None:
    ordered = sorted(checks, key=lambda s: (s.collected_on, s.month))
    cultures = [s for s in ordered if s.culture in ("positive", "negative")]
    converted_in: int | None = None
    # Conversion: the first negative culture after which no culture was positive again.
    for n, check in enumerate(cultures):
        if check.culture == "negative" and all(c.culture == "negative" for c in cultures[n:]):
            if any(c.culture == "positive" for c in cultures[:n]) or n == 0:
                progress.conversion = check.collected_on
                converted_in = check.month
            break
    # Both count treatment months (the checks' labels): WHO failure is "at month 5 or later".
    progress.failure = any(
        s.positive and s.month >= rules.failure_positive_from_month for s in ordered
    )
    end = progress.end
    if end is not None and ordered:
        last = ordered[-1]
        final_month_from = add_months(end, -1)
        earlier_negative = any(s.negative for s in ordered[:-1])
        progress.cure_evidence = (
            last.negative and last.collected_on >= final_month_from and earlier_negative
        )
    progress.sputum_overdue = overdue_months(
        start, {s.month for s in ordered}, schedule, converted_in, rules.sputum_grace_days,
        as_of, end,
    )  # fmt: skip


def month_due(start: date, month: int) -> date:
    """The day treatment month `month` is over (its check is due): `month` months after the
    start, clamped to the end of a shorter month (31 January + 1 month = 28/29 February)."""
    return add_months(start, month)


def treatment_month(start: date, day: date) -> int:
    """The treatment month `day` falls in (1 = the first month of treatment)."""
    return completed_months(start, day) + 1


def check_month(start: date, day: date, grace_days: int, recorded: set[int]) -> int:
    """The treatment month a sputum check collected on `day` belongs to: the month it falls
    in, or the month just ended when collected within its grace days and that month has no
    check yet (its end-of-month check, a little late)."""
    month = treatment_month(start, day)
    ended = month - 1
    if (
        ended >= 1
        and ended not in recorded
        and day <= month_due(start, ended) + timedelta(days=grace_days)
    ):
        return ended
    return month


def overdue_months(
    start: date,
    recorded: set[int],
    schedule: SputumSchedule,
    converted_in: int | None,
    grace_days: int,
    as_of: date,
    end: date | None = None,
) -> list[int]:
    """The treatment months that need a check, have none, and whose grace days are over
    before `as_of`; once treatment has ended (`end`), no month after the one it ended in."""
    last = treatment_month(start, end) if end is not None else None
    found: list[int] = []
    month = 1
    while month_due(start, month) + timedelta(days=grace_days) < as_of:
        if last is not None and month > last:
            break
        if month not in recorded and schedule.needs(month, converted_in):
            found.append(month)
        month += 1
    return found
