"""Each traveller's readiness for a departure: the workflow's kept clearance, plus what the flight
decides (the exam's validity on the departure date, checks inside their window, the latest
fitness outcome, the escort). Pure: the caller loads the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pmha.travel.policy import NEEDS_ESCORT, TRAVELS, TravelPolicy
from pmha.workflow import clearance as cl
from pmha.workflow.labels import awaited

CHECK_CODES = ("pdms", "pec", "dhc")
CHECK_NAMES = {
    "pdms": "Pre-departure medical screening",
    "pec": "Pre-embarkation check",
    "dhc": "Departure health check",
}


@dataclass(frozen=True)
class CheckView:
    """The latest check of a kind, as the status needs it."""

    kind: str
    checked_at: datetime
    outcome: str
    in_window: bool


@dataclass(frozen=True)
class EscortView:
    escort_type: str
    medif_status: str


@dataclass
class Traveller:
    applicant_id: uuid.UUID
    medical: cl.Decision  # the workflow's kept clearance
    decision: cl.Decision  # with the flight's blockers added
    valid_until: date | None
    due: list[str] = field(default_factory=list)  # checks still to do, with their window
    fitness: str | None = None  # latest check's confirmed outcome
    escort_needed: str | None = None  # "non_medical" or "medical"
    escort: EscortView | None = None
    conditions: list[str] = field(default_factory=list)

    @property
    def cleared(self) -> bool:
        return self.decision.status in {cl.CLEARED, cl.WITH_CONDITIONS}


def window_opens(departs_at: datetime, hours: int) -> datetime:
    return departs_at - timedelta(hours=hours)


def in_window(checked_at: datetime, departs_at: datetime, hours: int | None) -> bool:
    """A check counts from `hours` before departure until departure (no window: until then)."""
    if checked_at > departs_at:
        return False
    return hours is None or checked_at >= window_opens(departs_at, hours)


def exam_valid_until(plan: Mapping[str, Any] | None) -> date | None:
    for outcome in (plan or {}).get("outcomes", []):
        if outcome.get("kind") == "exam_validity" and outcome.get("valid_until"):
            return date.fromisoformat(outcome["valid_until"])
    return None


def required_checks(plan: Mapping[str, Any] | None) -> list[str]:
    return [
        r["code"]
        for r in (plan or {}).get("requirements", [])
        if r.get("code") in CHECK_CODES and r.get("status") in {"required", "done"}
    ]


def unsettled_checks(plan: Mapping[str, Any] | None) -> list[tuple[str, list[str]]]:
    """Checks the plan may still ask for, with what they wait for (e.g. US PDMS waits for the
    physician's answer on a complex medical condition)."""
    return [
        (r["code"], list(r.get("awaiting") or ()))
        for r in (plan or {}).get("requirements", [])
        if r.get("code") in CHECK_CODES and r.get("status") == "conditional"
    ]


def traveller(
    applicant_id: uuid.UUID,
    medical: cl.Decision,
    plan: Mapping[str, Any] | None,
    departs_at: datetime,
    policy: TravelPolicy,
    checks: Mapping[str, CheckView],
    escort: EscortView | None,
    now: datetime | None = None,
) -> Traveller:
    """One traveller's readiness for the flight (see the module docstring)."""
    found: list[tuple[str, cl.Blocker]] = [(medical.status, b) for b in medical.blockers]
    if medical.status == cl.EXPIRED:
        found = [(s, b) for s, b in found if b.detail != "expired"]  # judged on the flight below
    valid_until = exam_valid_until(plan)
    day = departs_at.date()
    if valid_until is not None and valid_until < day:
        found.append((cl.EXPIRED, cl.Blocker("outcome", "exam_validity", f"expires {valid_until}")))
    out = Traveller(applicant_id, medical, medical, valid_until)
    counted = {k: c for k, c in checks.items() if c.in_window}
    latest = max(counted.values(), key=lambda c: c.checked_at, default=None)
    if latest is not None:
        out.fitness = latest.outcome
        if latest.outcome not in TRAVELS:
            found.append((cl.TRAVEL_HOLD, cl.Blocker("fitness", latest.kind, latest.outcome)))
        out.escort_needed = NEEDS_ESCORT.get(latest.outcome)
    for code in required_checks(plan):
        if code not in counted:
            hours = policy.windows.get(code)
            opens = window_opens(departs_at, hours) if hours else None
            if opens is None:
                when = "before departure"
            elif now is not None and opens <= now:
                when = "now (its window is open until the flight)"
            else:
                when = f"from {opens:%d %b %H:%M} UTC"
            out.due.append(f"{CHECK_NAMES[code]} {when}")
    for code, waiting in unsettled_checks(plan):
        if code not in counted:
            out.due.append(f"{CHECK_NAMES[code]}? The plan waits for {awaited(waiting)}")
    out.escort = escort
    if out.escort_needed:
        medical_ok = escort is not None and (
            out.escort_needed == "non_medical" or escort.escort_type in {"nurse", "doctor"}
        )
        if not medical_ok:
            found.append((cl.PENDING, cl.Blocker("escort", out.escort_needed, "no escort yet")))
        elif escort is not None and escort.medif_status in {"to_send", "sent", "refused"}:
            found.append((cl.PENDING, cl.Blocker("escort", "medif", escort.medif_status)))
    if out.fitness == "fit_with_conditions":
        out.conditions.append("fit with conditions")
    if found:
        status = cl.worst([s for s, _ in found])
        if status in {cl.CLEARED, cl.WITH_CONDITIONS}:
            status = cl.PENDING
        out.decision = cl.Decision(status, tuple(b for _, b in found), medical.conditions)
    return out


@dataclass
class CaseReadiness:
    decision: cl.Decision
    certifiable: frozenset[uuid.UUID]  # travellers a certificate may be issued for
    ready: frozenset[uuid.UUID]  # ... who also have no check due


def case_readiness(travellers: Sequence[Traveller], family: str) -> CaseReadiness:
    """The family rule over the travellers' flight decisions (workflow.clearance)."""
    decision = cl.case_clearance({str(t.applicant_id): t.decision for t in travellers}, family)
    certifiable = frozenset(uuid.UUID(n) for n in decision.ready)
    ready = frozenset(
        t.applicant_id for t in travellers if t.applicant_id in certifiable and not t.due
    )
    return CaseReadiness(decision, certifiable, ready)
