"""Clearance from a plan and the state of its steps: pure, so it can be tested from a table.

The rule file says which outcome values hold travel and which clear it with conditions
(`[clearance]`); what is left to do, or still awaited, keeps the applicant pending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmha.rules import Plan
from pmha.rules.model import Clearance

NOT_CLEARED = "not_cleared"
TRAVEL_HOLD = "travel_hold"
EXPIRED = "expired"
PENDING = "pending"
WITH_CONDITIONS = "cleared_with_conditions"
CLEARED = "cleared"
# Worst first: a case or an applicant takes the worst status any of its parts gives.
ORDER = (NOT_CLEARED, TRAVEL_HOLD, EXPIRED, PENDING, WITH_CONDITIONS, CLEARED)

# Checks made days or hours before the flight (departures): they do not hold medical clearance.
TRAVEL_PHASE = frozenset({"pdms", "pec", "dhc", "medical_escort", "clearance", "export"})
FINISHED = frozenset({"done", "waived"})
# What settles a step, from the plan (the engine judged the evidence): a valid result of its own,
# an alternative route its rule declares, or a waiver its rule allows (and the step is waived).
# A step not done, a disallowed waiver or an expired result is none of these.
SETTLED_BY_PLAN = frozenset({"done", "alternative"})


@dataclass(frozen=True)
class Blocker:
    kind: str  # "step", "outcome", "plan" or "member"
    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Decision:
    status: str
    blockers: tuple[Blocker, ...] = ()
    conditions: tuple[str, ...] = ()
    ready: tuple[str, ...] = field(default=())  # cases: the travellers who may travel

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "blockers": [b.to_dict() for b in self.blockers],
            "conditions": list(self.conditions),
        }


def worst(statuses: Sequence[str]) -> str:
    return min(statuses, key=ORDER.index) if statuses else CLEARED


def applicant_clearance(
    plan: Plan | None,
    problems: Mapping[str, list[str]] | None,
    steps: Mapping[str, tuple[str, str]],
    rules: Clearance | None,
) -> Decision:
    """`steps` maps a requirement code to (state, planned status)."""
    if plan is None or rules is None:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (problems or {}).items())
        return Decision(PENDING, (Blocker("plan", "plan", detail or "no plan yet"),))
    found: list[tuple[str, Blocker]] = []
    conditions: list[str] = []
    for outcome in plan.outcomes:
        for value in outcome.values:
            tag = f"{outcome.kind}:{value}"
            if tag in rules.hold:
                status = NOT_CLEARED if outcome.status == "final" else TRAVEL_HOLD
                found.append((status, Blocker("outcome", outcome.kind, value.replace("_", " "))))
            elif tag in rules.conditions and outcome.status == "final":
                conditions.append(tag)
        if outcome.expired:
            found.append((EXPIRED, Blocker("outcome", outcome.kind, "expired")))
        elif outcome.status == "pending":
            awaited = ", ".join(outcome.awaiting) or "results"
            found.append((PENDING, Blocker("outcome", outcome.kind, f"awaiting {awaited}")))
    for code, (state, planned) in sorted(steps.items()):
        if code in TRAVEL_PHASE or state == "not_applicable" or planned in SETTLED_BY_PLAN:
            continue
        if planned == "waived" and state == "waived":
            continue
        if state == "not_done":
            found.append((PENDING, Blocker("step", code, "not done")))
        elif planned in {"required", "waived"}:
            detail = {"blocked": "blocked", "done": "result no longer valid"}.get(
                state, "not done yet"
            )
            found.append((PENDING, Blocker("step", code, detail)))
        elif planned in {"conditional", "blocked"}:
            found.append((PENDING, Blocker("step", code, f"{planned}: to be settled")))
    if found:
        status = worst([s for s, _ in found])
        return Decision(status, tuple(b for _, b in found), tuple(conditions))
    return Decision(WITH_CONDITIONS if conditions else CLEARED, (), tuple(conditions))


def case_clearance(members: Mapping[str, Decision], family: str) -> Decision:
    """The family's decision. With `all_travellers`, one member's hold holds everyone."""
    if not members:
        return Decision(PENDING, (Blocker("plan", "case", "no family members"),))
    statuses = [d.status for d in members.values()]
    blockers = tuple(
        Blocker("member", name, d.status.replace("_", " "))
        for name, d in members.items()
        if d.status not in {CLEARED, WITH_CONDITIONS}
    )
    conditions = tuple(c for d in members.values() for c in d.conditions)
    status = worst(statuses)
    if family == "all_travellers" and status == NOT_CLEARED:
        status = TRAVEL_HOLD  # the family waits for the member who cannot travel yet
    if family == "all_travellers":
        ready = tuple(members) if not blockers else ()
    else:
        ready = tuple(n for n, d in members.items() if d.status in {CLEARED, WITH_CONDITIONS})
    return Decision(status, blockers, conditions, ready)
