"""The condition language of the rule files, compiled once at load time into closures.

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

    __slots__ = ("age", "burden", "facts", "flags", "outcomes", "pending_kinds", "status")

    def __init__(self, facts: Facts, age: Age, burden: str | None) -> None:
        self.facts = facts
        self.age = age
        self.burden = burden
        self.flags: dict[str, bool | None] = {
            "pregnant": False if facts.sex == "male" else facts.pregnant,
            "tb_history": facts.tb_history,
            "tb_contact": facts.tb_contact,
            "tb_symptoms": facts.tb_symptoms,
            "known_hiv": facts.known_hiv,
            "extrapulmonary_tb": facts.extrapulmonary_tb,
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


def all_of(conds: list[Cond]) -> Cond:
    if len(conds) == 1:
        return conds[0]

    def test(ctx: Context) -> bool | None:
        unknown = False
        for cond in conds:
            value = cond(ctx)
            if value is False:
                return False
            if value is None:
                unknown = True
        return None if unknown else True

    return test


def any_of(conds: list[Cond]) -> Cond:
    def test(ctx: Context) -> bool | None:
        unknown = False
        for cond in conds:
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


def awaited(code: str) -> Cond:
    """False when no result for `code` will come, None while one may still come."""

    def test(ctx: Context) -> bool | None:
        return None if ctx.status.get(code) in _PENDING else False

    return test


def compile_condition(raw: Any, path: str, problems: list[tuple[str, str]]) -> Compiled:
    """Compile a condition table; each fault is appended to `problems` as (key path, message)."""
    from pmha.rules.predicates import PREDICATES

    compiled = Compiled(always)
    if not isinstance(raw, dict):
        problems.append((path, 'a condition must be a table, e.g. { age = { from = "15y" } }'))
        return compiled
    conds: list[Cond] = []
    for key, value in raw.items():
        where = f"{path}.{key}"
        if key in ("all_of", "any_of"):
            if not isinstance(value, list) or not value:
                problems.append((where, f"{key} takes a non-empty list of conditions"))
                continue
            parts = [compile_condition(v, f"{where}[{i}]", problems) for i, v in enumerate(value)]
            for part in parts:
                compiled.merge(part)
            tests = [part.test for part in parts]
            conds.append(all_of(tests) if key == "all_of" else any_of(tests))
        elif key == "not":
            part = compile_condition(value, where, problems)
            compiled.merge(part)
            conds.append(negate(part.test))
        elif key in PREDICATES:
            compiled.names.add(key)
            try:
                conds.append(PREDICATES[key](value, compiled))
            except ValueError as exc:
                problems.append((where, str(exc)))
        else:
            known = ", ".join(sorted([*PREDICATES, "all_of", "any_of", "not"]))
            problems.append((where, f"unknown condition {key!r} (known: {known})"))
    compiled.test = all_of(conds) if conds else always
    return compiled


def flag_predicate(name: str) -> Callable[[Any, Compiled], Cond]:
    def build(value: Any, compiled: Compiled) -> Cond:
        if not isinstance(value, bool):
            raise ValueError("use true or false")

        def test(ctx: Context) -> bool | None:
            fact = ctx.flags[name]
            return None if fact is None else fact is value

        return test

    return build


def period_range(value: Any, unit: str) -> tuple[Period | None, Period | None]:
    if not isinstance(value, dict) or not value or set(value) - {"from", "below"}:
        raise ValueError(f'give {{ from = "..", below = ".." }} ({unit}), one or both')
    start = Period.parse(value["from"]) if "from" in value else None
    end = Period.parse(value["below"]) if "below" in value else None
    return start, end
