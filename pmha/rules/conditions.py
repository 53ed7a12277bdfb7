"""The condition language of the rule files: the context a condition reads and the closures it
compiles into (compiler.py turns a table into them once, at load time).

A condition is a table whose keys must all hold (`{age = {from = "15y"}, programme = "refugee"}`).
Evaluation is three-valued: True, False, or None when it depends on something not known yet (a
fact left null, a result still awaited). A result that will never come (its requirement is not
required) counts as False, so a follow-up of a test that is not needed is not needed either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pmha.rules import vocabulary as vocab
from pmha.rules.dates import Age, Period
from pmha.rules.facts import Facts

_PENDING = frozenset({vocab.REQUIRED, vocab.CONDITIONAL, vocab.BLOCKED})
_NEEDED = frozenset({vocab.REQUIRED, vocab.BLOCKED, vocab.DONE})
_SETTLED = frozenset({vocab.DONE, vocab.NOT_REQUIRED, vocab.WAIVED})


class Context:
    """What conditions read while one applicant is planned."""

    __slots__ = (
        "age",
        "burden",
        "days",
        "facts",
        "flags",
        "months",
        "outcomes",
        "pending_kinds",
        "results",
        "status",
    )

    def __init__(self, facts: Facts, age: Age, burden: str | None) -> None:
        self.facts = facts
        self.results = facts.results
        self.age = age
        self.months = age.months  # read by every age condition: plain attributes are cheapest
        self.days = age.days
        self.burden = burden
        self.flags: dict[str, bool | None] = {
            "pregnant": False if facts.sex == "male" else facts.pregnant,
            "tb_history": facts.tb_history,
            "tb_contact": facts.tb_contact,
            "tb_symptoms": facts.tb_symptoms,
            "known_hiv": facts.known_hiv,
            "extrapulmonary_tb": facts.extrapulmonary_tb,
            "complex_condition": facts.complex_condition,
            "urgent_surveillance": facts.urgent_surveillance,
        }
        self.status: dict[str, str] = {}
        self.outcomes: dict[str, tuple[str, ...]] = {}
        self.pending_kinds: set[str] = set()


Cond = Callable[[Context], bool | None]


@dataclass
class Compiled:
    test: Cond
    codes: set[str] = field(default_factory=set)  # requirement codes whose status/result it reads
    kinds: set[str] = field(default_factory=set)  # outcome kinds it reads
    names: set[str] = field(default_factory=set)  # predicates it uses

    def merge(self, other: Compiled) -> None:
        self.codes |= other.codes
        self.kinds |= other.kinds
        self.names |= other.names


def always(ctx: Context) -> bool | None:
    return True


def all_of(conds: list[Cond], definite: int = 0) -> Cond:
    """Three-valued AND; the first `definite` conditions never answer None."""
    if len(conds) == 1:
        return conds[0]
    if definite == len(conds):
        if definite == 2:
            first, second = conds

            def both(ctx: Context) -> bool | None:
                return first(ctx) and second(ctx)

            return both

        def every(ctx: Context) -> bool | None:
            for cond in conds:  # noqa: SIM110 (a generator costs more on this hot path)
                if not cond(ctx):
                    return False
            return True

        return every
    sure, unsure = conds[:definite], conds[definite:]

    def test(ctx: Context) -> bool | None:
        for cond in sure:
            if not cond(ctx):
                return False
        unknown = False
        for cond in unsure:
            value = cond(ctx)
            if value is False:
                return False
            if value is None:
                unknown = True
        return None if unknown else True

    return test


def any_of(conds: list[Cond], definite: int = 0) -> Cond:
    """Three-valued OR; the first `definite` conditions never answer None."""
    if len(conds) == 1:
        return conds[0]
    sure, unsure = conds[:definite], conds[definite:]

    def test(ctx: Context) -> bool | None:
        for cond in sure:
            if cond(ctx):
                return True
        unknown = False
        for cond in unsure:
            value = cond(ctx)
            if value is True:
                return True
            if value is None:
                unknown = True
        return None if unknown else False

    return test


def negate(cond: Cond) -> Cond:
    def test(ctx: Context) -> bool | None:
        value = cond(ctx)
        return None if value is None else not value

    return test


def negate_definite(cond: Cond) -> Cond:
    def test(ctx: Context) -> bool | None:
        return not cond(ctx)

    return test


def flag_predicate(name: str) -> Callable[[Any, Compiled], Cond]:
    def build(value: Any, compiled: Compiled) -> Cond:
        if not isinstance(value, bool):
            raise ValueError("use true or false")

        def test(ctx: Context) -> bool | None:
            fact = ctx.flags[name]
            return None if fact is None else fact is value

        def holds(ctx: Context) -> bool | None:
            return ctx.flags[name]  # True, False or None: the answer itself

        return holds if value else test

    return build


def period_range(value: Any, unit: str) -> tuple[Period | None, Period | None]:
    if not isinstance(value, dict) or not value or set(value) - {"from", "below"}:
        raise ValueError(f'give {{ from = "..", below = ".." }} ({unit}), one or both')
    start = Period.parse(value["from"]) if "from" in value else None
    end = Period.parse(value["below"]) if "below" in value else None
    return start, end
