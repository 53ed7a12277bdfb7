"""What the engine returns: a plan of requirements, vaccines and outcomes, each with its reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date
from typing import Any


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass(frozen=True, slots=True)
class Reason:
    """The rule that decided (None when no rule is in force), its sources and why."""

    rule: str | None
    source: tuple[str, ...]
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "source": list(self.source), "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(data.get("rule"), tuple(data.get("source") or ()), data.get("detail", ""))


@dataclass(frozen=True, slots=True)
class PlanItem:
    code: str
    status: str
    reason: Reason
    due_by: date | None = None
    not_before: date | None = None
    valid_until: date | None = None
    count: int | None = None
    note: str | None = None
    awaiting: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "status": self.status,
            "reason": self.reason.to_dict(),
        }
        for name in ("due_by", "not_before", "valid_until"):
            if getattr(self, name) is not None:
                out[name] = _iso(getattr(self, name))
        if self.count is not None:
            out["count"] = self.count
        if self.awaiting:
            out["awaiting"] = list(self.awaiting)
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanItem:
        """The item as kept with a plan record (the inverse of to_dict)."""
        days = {
            name: date.fromisoformat(data[name])
            for name in ("due_by", "not_before", "valid_until")
            if data.get(name)
        }
        return cls(
            data["code"],
            data["status"],
            Reason.from_dict(data.get("reason") or {}),
            count=data.get("count"),
            note=data.get("note"),
            awaiting=tuple(data.get("awaiting") or ()),
            **days,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """A derived classification. `trace` lists the rule ids that fired, in order; `pending` means
    a result or fact it depends on is still awaited (listed in `awaiting`)."""

    kind: str
    values: tuple[str, ...]
    status: str  # "final" or "pending"
    trace: tuple[str, ...]
    source: tuple[str, ...]
    awaiting: tuple[str, ...] = ()
    reason: str | None = None
    date: dt.date | None = None
    valid_until: dt.date | None = None
    expired: bool | None = None
    report_within_days: int | None = None
    # What dates it (issue 15): the anchor (`exam_date`, `result:<code>`) and the period from it.
    anchor: str | None = None
    valid_for: str | None = None  # e.g. "6m"
    # The reporting tier that set report_within_days (None: the general deadline), and the
    # facts not known yet that made the shorter deadline apply.
    report_tier: str | None = None
    report_awaiting: tuple[str, ...] = ()

    @property
    def value(self) -> str | None:
        return self.values[0] if self.values else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "values": list(self.values),
            "status": self.status,
            "trace": list(self.trace),
            "source": list(self.source),
        }
        if self.awaiting:
            out["awaiting"] = list(self.awaiting)
        if self.reason is not None:
            out["reason"] = self.reason
        if self.date is not None:
            out["date"] = _iso(self.date)
        if self.valid_until is not None:
            out["valid_until"] = _iso(self.valid_until)
            out["expired"] = self.expired
        if self.report_within_days is not None:
            out["report_within_days"] = self.report_within_days
        if self.anchor is not None:
            out["anchor"] = self.anchor
        if self.valid_for is not None:
            out["valid_for"] = self.valid_for
        if self.report_tier is not None:
            out["report_tier"] = self.report_tier
        if self.report_awaiting:
            out["report_awaiting"] = list(self.report_awaiting)
        return out


@dataclass(frozen=True, slots=True)
class Burden:
    category: str | None  # "high", "low", or None when the exam country is not in the table
    per_100k: float | None
    year: int | None
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    destination: str
    programme: str
    rules_version: str
    rules_sha256: str
    exam_date: date
    as_of: date
    age_years: int
    age_months: int
    burden: Burden
    requirements: tuple[PlanItem, ...]
    vaccines: tuple[PlanItem, ...]
    outcomes: tuple[Outcome, ...]
    warnings: tuple[str, ...] = ()
    # What stops the plan being made in full, in words for the physician (e.g. an exam country
    # with no TB incidence estimate: the steps that depend on its burden are blocked).
    problems: tuple[str, ...] = ()

    def requirement(self, code: str) -> PlanItem:
        for item in self.requirements:
            if item.code == code:
                return item
        raise KeyError(code)

    def outcome(self, kind: str) -> Outcome:
        for found in self.outcomes:
            if found.kind == kind:
                return found
        raise KeyError(kind)

    def status(self, code: str) -> str:
        """The requirement's status; not_required when the rule file does not mention it."""
        try:
            return self.requirement(code).status
        except KeyError:
            return "not_required"

    def to_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "programme": self.programme,
            "rules_version": self.rules_version,
            "rules_sha256": self.rules_sha256,
            "exam_date": _iso(self.exam_date),
            "as_of": _iso(self.as_of),
            "age": {"years": self.age_years, "total_months": self.age_months},
            "tb_burden": {
                "category": self.burden.category,
                "per_100k": self.burden.per_100k,
                "year": self.burden.year,
                "source": list(self.burden.source),
            },
            "requirements": [item.to_dict() for item in self.requirements],
            "vaccines": [item.to_dict() for item in self.vaccines],
            "outcomes": [found.to_dict() for found in self.outcomes],
            "warnings": list(self.warnings),
            "problems": list(self.problems),
        }
