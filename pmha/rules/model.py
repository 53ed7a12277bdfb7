"""Loaded, compiled, immutable rules: RuleSet (one destination) and RuleBook (all of them)."""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from types import MappingProxyType
from typing import TypeVar

from pmha.rules import vocabulary as vocab
from pmha.rules.conditions import Cond
from pmha.rules.dates import Period
from pmha.rules.facts import FLAGS, Facts
from pmha.rules.plan import Burden, Outcome, PlanItem, Reason

Day = date  # `date` is also a field name below
MEMO_LIMIT = 4096  # entries per memo; a full memo starts again empty


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V) -> None:
    """Keep `value` for `key`. A memo only holds what its key fully decides, so it never goes
    stale; it is bounded, and shared by concurrent plans (each write is one dict operation)."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    """`[[open_question]]`: what the sources did not answer, kept beside the rules it concerns."""

    id: str
    about: str
    question: str
    asked: date


@dataclass(frozen=True, slots=True)
class DateRule:
    """A date relative to an anchor: `{ anchor = "departure_date", before = "3d" }`."""

    anchor: str
    offset: Period | None = None
    sign: int = 1

    def resolve(self, facts: Facts) -> date | None:
        start = anchor_date(self.anchor, facts)
        if start is None or self.offset is None:
            return start
        return self.offset.after(start, self.sign)


def dated_by(
    anchors: tuple[str, ...], facts: Facts, choice: str = "first"
) -> tuple[str, date] | None:
    """The anchor that dates an outcome and its date: the first of `anchors` known (`first`, in
    the order written), the latest or the earliest of those known (`latest`, `earliest`; the
    earlier-written one on a tie). None when none is known yet."""
    best: tuple[str, date] | None = None
    for anchor in anchors:
        day = anchor_date(anchor, facts)
        if day is None:
            continue
        if choice == "first":
            return anchor, day
        if best is None or (day > best[1] if choice == "latest" else day < best[1]):
            best = (anchor, day)
    return best


def anchor_date(anchor: str, facts: Facts) -> date | None:
    if anchor == "exam_date":
        return facts.exam_date
    if anchor == "departure_date":
        return facts.departure_date
    if anchor == "dob":
        return facts.dob
    found = facts.results.get(anchor.removeprefix("result:"))
    return None if found is None else found.date


@dataclass(frozen=True, slots=True)
class Reads:
    """What a rule's condition reads that may be not known yet, for `awaiting`."""

    flags: tuple[str, ...] = ()  # applicant flags
    codes: tuple[str, ...] = ()  # requirement codes (their status or result)
    burden: bool = False  # the exam country's TB burden

    @classmethod
    def of(cls, names: set[str]) -> Reads:
        return cls(
            tuple(sorted(n for n in names if n in FLAGS)),
            tuple(sorted(n for n in names if n in vocab.REQUIREMENT_CODES)),
            "tb_burden" in names,
        )


@dataclass(frozen=True, slots=True)
class Cite:
    id: str
    source: tuple[str, ...]
    confidence: str | None
    note: str | None
    effective_from: date
    effective_until: date | None

    def active_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day <= self.effective_until
        )


@dataclass(frozen=True, slots=True)
class Alternative:
    """Another route that settles a requirement: when `when` holds, results meeting `by` do."""

    when: Cond
    by: Cond
    source: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class NotDone:
    """The destination's words for why a test was not taken, by NOT_DONE_REASONS code, and the
    reason it gives when its rules do not ask for the test (`not_required`: (reason, condition),
    first that holds). Words only: nothing here settles the test."""

    words: Mapping[str, str]
    not_required: tuple[tuple[str, Cond], ...]
    source: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ItemRule:
    """Makes a requirement (or a vaccine) required or conditional when its condition holds."""

    cite: Cite
    section: str  # "requirement" or "vaccine"
    code: str
    status: str
    when: Cond
    blocked_when: Cond | None = None
    count: int | None = None
    due_by: DateRule | None = None
    not_before: DateRule | None = None
    valid_for: Period | None = None
    reads: Reads = Reads()
    met: PlanItem | None = None  # the plan item when it applies plainly (pre-built: plans are hot)
    # How it may be settled besides its own result: the waiver reasons the destination allows
    # for it (cited in `waiver_source`) and an alternative route. Nothing else settles it.
    waivers: frozenset[str] = frozenset()
    waiver_source: tuple[str, ...] = ()
    alternative: Alternative | None = None
    not_done: NotDone | None = None  # the destination's words for a test not taken

    def with_met_item(self) -> ItemRule:
        if self.due_by or self.not_before or self.status != "required":
            return self
        reason = Reason(self.cite.id, self.cite.source, "condition met")
        item = PlanItem(self.code, self.status, reason, count=self.count, note=self.cite.note)
        return replace(self, met=item)


@dataclass(frozen=True, slots=True)
class Tier:
    """A reporting deadline that applies when `when` holds (e.g. 7 days for urgent cases)."""

    name: str
    when: Cond
    report_within_days: int
    source: tuple[str, ...]
    note: str | None = None
    reads: Reads = Reads()


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """Adds `value` to the outcome `kind` when its condition holds and no `unless` value is in."""

    cite: Cite
    kind: str
    value: str
    when: Cond
    unless: frozenset[str] = frozenset()
    reason: str | None = None
    date: tuple[str, ...] | None = None
    valid_for: Period | None = None
    report_within_days: int | None = None
    reads: Reads = Reads()
    date_choice: str = "first"  # "first" known anchor in the order written, or the "latest"
    tiers: tuple[Tier, ...] = ()  # reporting deadlines by a clinical flag (first that holds)
    alone: Outcome | None = None  # the outcome when it alone fires and none waits (pre-built)
    # When the outcome has a date: (anchor, date, as_of) -> the outcome when it alone fires.
    dated: dict[tuple[str, Day, Day], Outcome] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def with_alone_outcome(self) -> OutcomeRule:
        if self.date or self.tiers:  # the date or the deadline comes from the applicant's facts
            return self
        alone = Outcome(
            kind=self.kind,
            values=(self.value,),
            status="final",
            trace=(self.cite.id,),
            source=self.cite.source,
            reason=self.reason,
            report_within_days=self.report_within_days,
        )
        return replace(self, alone=alone)


@dataclass(frozen=True, slots=True)
class Node:
    """One thing the plan decides, in dependency order: a requirement, vaccine or outcome kind."""

    section: str  # "requirement", "vaccine" or "outcome"
    name: str
    items: tuple[ItemRule, ...] = ()
    outcomes: tuple[OutcomeRule, ...] = ()
    idle: PlanItem | None = None  # the plan item when no rule applies (pre-built)
    # Outcome kinds only (pre-built): the outcome when no rule fires and none waits, and
    # whether the kind holds several values.
    settled: Outcome | None = None
    multiple: bool = False
    keeper: ItemRule | None = None  # the first rule with a validity period
    # (id of the deciding rule, result value, result date) -> (valid_until, done item).
    done: dict[tuple[int, str, date], tuple[date | None, PlanItem]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )


@dataclass(frozen=True, slots=True)
class Incidence:
    country: str
    per_100k: float
    year: int
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IncidenceTable:
    """country_rules/tb_incidence.toml: WHO's estimate for every country, shared by every
    destination (a destination's own [[tb_incidence]] row overrides its country)."""

    file: str
    rows: Mapping[str, Incidence]
    sources: Mapping[str, Mapping[str, str | None]]
    open_questions: tuple[OpenQuestion, ...] = ()
    sha256: str = ""  # of the file: part of every destination's rules_sha256


@dataclass(frozen=True, slots=True)
class Clearance:
    """What the destination's outcomes mean for travel (`kind:value` strings)."""

    family: str  # "all_travellers": one traveller's hold holds the family; or "each_traveller"
    hold: frozenset[str]
    conditions: frozenset[str]
    source: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VaccinationPolicy:
    """`[vaccination]`: what a refused required vaccine leads to (`class_a` or `recorded`), the
    individual waiver route (a WAIVER_REASONS value, or None), and `doses` (`one`: one valid
    dose of each age-appropriate vaccine meets the requirement [S13a]; `series`)."""

    refusal_outcome: str
    individual_waiver: str | None
    doses: str
    source: tuple[str, ...]
    confidence: str | None = None
    note: str | None = None
    # Required at ages past the routine schedule's maximum (CDSi "aged out"): given, not waived.
    past_forecast_age: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FluSeason:
    """An influenza season of exam countries as (month, day) bounds, inclusive; it may wrap over
    the new year. `countries` empty: every exam country no other season of the file names."""

    name: str
    start: tuple[int, int]
    end: tuple[int, int]
    countries: frozenset[str]
    source: tuple[str, ...]

    def contains(self, day: date) -> bool:
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end


@dataclass(frozen=True)
class RuleSet:
    """The rules of one destination, compiled; `program(day)` gives the nodes in force that day."""

    destination: str
    version: str
    title: str
    file: str
    sha256: str
    programmes: frozenset[str]
    sources: Mapping[str, Mapping[str, str | None]]
    burden_threshold: float | None
    burden_source: tuple[str, ...]
    incidence: Mapping[str, Incidence]
    clearance: Clearance
    nodes: tuple[Node, ...]
    flu_seasons: tuple[FluSeason, ...] = ()
    vaccination: VaccinationPolicy | None = None  # None: the file sets no vaccination policy
    open_questions: tuple[OpenQuestion, ...] = ()
    _breaks: tuple[date, ...] = field(default=(), repr=False)
    _programs: tuple[tuple[Node, ...], ...] = field(default=(), repr=False)
    _burdens: Mapping[str, tuple[str | None, Burden]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, nodes: tuple[Node, ...], **attrs: object) -> RuleSet:
        """Pre-compute, for each span between effective dates, the nodes with the rules in force."""
        days: set[date] = set()
        for node in nodes:
            for cite in [r.cite for r in node.items] + [r.cite for r in node.outcomes]:
                days.add(cite.effective_from)
                if cite.effective_until is not None:
                    days.add(cite.effective_until + timedelta(days=1))
        breaks = tuple(sorted(days))
        programs = tuple(_in_force(nodes, day) for day in [date.min, *breaks])
        ruleset = cls(nodes=nodes, _breaks=breaks, _programs=programs, **attrs)  # type: ignore[arg-type]
        # Each exam country's plan record, built once (frozen: nothing here can change later).
        burdens = {}
        for country, found in ruleset.incidence.items():
            category = ruleset.burden(country)[0]
            burdens[country] = category, Burden(category, found.per_100k, found.year, found.source)
        object.__setattr__(ruleset, "_burdens", MappingProxyType(burdens))
        return ruleset

    def flu_season(self, exam_country: str) -> FluSeason | None:
        """The exam country's influenza season per this file; None when the file sets none."""
        country = exam_country.upper()
        named = [s for s in self.flu_seasons if country in s.countries]
        rest = [s for s in self.flu_seasons if not s.countries]
        found = named or rest
        return found[0] if found else None

    def program(self, day: date) -> tuple[Node, ...]:
        return self._programs[bisect.bisect_right(self._breaks, day)]

    def rules_for(self, code: str, day: date) -> tuple[ItemRule, ...]:
        """The requirement rules for `code` in force on the exam date `day`."""
        for node in self.program(day):
            if node.section == "requirement" and node.name == code:
                return node.items
        return ()

    def burden(self, country: str) -> tuple[str | None, Incidence | None]:
        found = self.incidence.get(country)
        if found is None or self.burden_threshold is None:
            return None, found
        return ("high" if found.per_100k >= self.burden_threshold else "low"), found

    def burden_record(self, country: str) -> tuple[str | None, Burden | None]:
        """The burden category and the plan's record of it; (None, None) outside the table."""
        return self._burdens.get(country, _NO_BURDEN)


_NO_BURDEN: tuple[str | None, Burden | None] = (None, None)


def _in_force(nodes: tuple[Node, ...], day: date) -> tuple[Node, ...]:
    return tuple(_node_on(node, day) for node in nodes)


def _node_on(node: Node, day: date) -> Node:
    items = tuple(r.with_met_item() for r in node.items if r.cite.active_on(day))
    outcomes = tuple(r.with_alone_outcome() for r in node.outcomes if r.cite.active_on(day))
    idle = settled = None
    multiple = False
    if node.section == "outcome":
        kind = vocab.OUTCOME_KINDS[node.name]
        multiple = kind.multiple
        values = () if kind.default is None else (kind.default,)
        settled = Outcome(node.name, values, "final", (), ())
    else:
        first = items[0] if items else None
        reason = (
            Reason(first.cite.id, first.cite.source, "condition not met")
            if first
            else Reason(None, (), "no rule in force on the exam date")
        )
        idle = PlanItem(node.name, "not_required", reason)
    keeper = next((r for r in items if r.valid_for), None)
    return Node(node.section, node.name, items, outcomes, idle, settled, multiple, keeper)


@dataclass(frozen=True)
class RuleBook:
    """Every destination's RuleSet, loaded and validated together."""

    rulesets: Mapping[str, RuleSet]
    incidence: IncidenceTable | None = None  # the shared table, when the folder has one

    def for_destination(self, destination: str) -> RuleSet:
        try:
            return self.rulesets[destination]
        except KeyError:
            raise KeyError(f"no rule file for destination {destination!r}") from None

    @property
    def destinations(self) -> tuple[str, ...]:
        return tuple(sorted(self.rulesets))

    @property
    def versions(self) -> dict[str, str]:
        return {d: r.version for d, r in sorted(self.rulesets.items())}
