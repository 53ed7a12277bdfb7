"""The predicates a condition table may use; each builder validates its value at load time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pmha.rules import vocabulary as vocab
from pmha.rules.conditions import (
    _NEEDED,
    _PENDING,
    _SETTLED,
    Compiled,
    Cond,
    Context,
    all_of,
    flag_predicate,
    period_range,
)
from pmha.rules.facts import FLAGS, Result


def _names(value: Any, allowed: frozenset[str] | None, what: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise ValueError(f"give a {what} or a non-empty list of them")
    if allowed is not None:
        bad = [v for v in items if v not in allowed]
        if bad:
            raise ValueError(f"unknown {what} {', '.join(map(repr, bad))}")
    return frozenset(items)


def _code(value: Any) -> str:
    if not isinstance(value, str) or value not in vocab.REQUIREMENT_CODES:
        raise ValueError(f"unknown requirement code {value!r}")
    return value


def age(value: Any, compiled: Compiled) -> Cond:
    start, end = period_range(value, "ages like '15y', '6m', '6w'")
    # A period is whole months or whole days (Period.parse never mixes them), so each bound
    # compares one of the context's two age figures, as Age.at_least does.
    if start is not None and end is not None and bool(start.months) == bool(end.months):
        low, high = (start.months, end.months) if start.months else (start.days, end.days)
        if start.months:

            def in_months(ctx: Context) -> bool | None:
                return low <= ctx.months < high

            return in_months

        def in_days(ctx: Context) -> bool | None:
            return low <= ctx.days < high

        return in_days
    if start is not None and end is None:
        low = start.months or start.days
        if start.months:

            def from_months(ctx: Context) -> bool | None:
                return ctx.months >= low

            return from_months

        def from_days(ctx: Context) -> bool | None:
            return ctx.days >= low

        return from_days
    if start is None and end is not None:
        high = end.months or end.days
        if end.months:

            def below_months(ctx: Context) -> bool | None:
                return ctx.months < high

            return below_months

        def below_days(ctx: Context) -> bool | None:
            return ctx.days < high

        return below_days

    def test(ctx: Context) -> bool | None:
        if start is not None and not ctx.age.at_least(start):
            return False
        return not (end is not None and ctx.age.at_least(end))

    return test


def gestation_weeks(value: Any, compiled: Compiled) -> Cond:
    if not isinstance(value, dict) or not value or set(value) - {"from", "below"}:
        raise ValueError("give { from = N, below = N } in whole weeks, one or both")
    start, end = value.get("from", 0), value.get("below", 10**6)
    if not (isinstance(start, int) and isinstance(end, int)):
        raise ValueError("weeks must be whole numbers")

    def test(ctx: Context) -> bool | None:
        if ctx.flags["pregnant"] is not True:
            return ctx.flags["pregnant"]
        weeks = ctx.facts.gestation_weeks
        return None if weeks is None else start <= weeks < end

    return test


def _choice(attribute: str, allowed: frozenset[str] | None, what: str) -> Any:
    def build(value: Any, compiled: Compiled) -> Cond:
        names = _names(value, allowed, what)

        def test(ctx: Context) -> bool | None:
            return getattr(ctx.facts, attribute) in names

        return test

    return build


def tb_burden(value: Any, compiled: Compiled) -> Cond:
    if value not in ("high", "low"):
        raise ValueError("use 'high' or 'low'")

    def test(ctx: Context) -> bool | None:
        return None if ctx.burden is None else ctx.burden == value

    return test


def exam_month(value: Any, compiled: Compiled) -> Cond:
    if not isinstance(value, list) or not value or not all(v in range(1, 13) for v in value):
        raise ValueError("give a non-empty list of month numbers 1 to 12")
    months = frozenset(value)

    def test(ctx: Context) -> bool | None:
        return ctx.facts.exam_date.month in months

    return test


def _result_test(code: str, spec: Any) -> Callable[[Result], bool] | frozenset[str]:
    """How a result must match: its set of values when the spec is only that, else a test."""
    allowed = vocab.RESULT_VALUES[code]
    if not isinstance(spec, dict):
        spec = {"in": spec}
    unknown = set(spec) - {"in", "at_least", "below", "treated"}
    if unknown or not spec:
        raise ValueError(f"{code}: use in, at_least, below or treated, not {sorted(unknown)}")
    values = None
    if "in" in spec:
        if allowed is None:
            raise ValueError(f"{code} is a number: compare it with at_least / below")
        values = _names(spec["in"], frozenset(allowed), f"{code} result")
    low, high = spec.get("at_least"), spec.get("below")
    for bound in (low, high):
        if bound is not None and (allowed is not None or not isinstance(bound, int | float)):
            raise ValueError(f"{code}: at_least / below need a numeric result and a number")
    treated = spec.get("treated")
    if treated is not None and not isinstance(treated, bool):
        raise ValueError(f"{code}: treated takes true or false")
    if values is not None and set(spec) == {"in"}:
        return values

    def matches(result: Result) -> bool:
        if values is not None and result.value not in values:
            return False
        if low is not None and not result.value >= low:
            return False
        if high is not None and not result.value < high:
            return False
        return treated is None or result.treated is treated

    return matches


def result(value: Any, compiled: Compiled) -> Cond:
    if not isinstance(value, dict) or not value:
        raise ValueError('give { code = value }, e.g. { igra = "positive" }')
    tests: list[Cond] = []
    for code, spec in value.items():
        matches = _result_test(_code(code), spec)
        compiled.codes.add(code)
        tests.append(_result(code, matches))
    return all_of(tests)


def _result(code: str, matches: Callable[[Result], bool] | frozenset[str]) -> Cond:
    # A missing result is False when none will come, None while one may (conditions.awaited).
    if isinstance(matches, frozenset):
        values = matches

        def value_in(ctx: Context) -> bool | None:
            found = ctx.results.get(code)
            if found is None:
                return None if ctx.status.get(code) in _PENDING else False
            return found.value in values

        return value_in

    def test(ctx: Context) -> bool | None:
        found = ctx.results.get(code)
        if found is None:
            return None if ctx.status.get(code) in _PENDING else False
        return matches(found)

    return test


def done(value: Any, compiled: Compiled) -> Cond:
    codes = [_code(c) for c in _names(value, None, "requirement code")]
    compiled.codes.update(codes)
    return all_of([_result(code, lambda r: True) for code in sorted(codes)])


def _status_in(code: str, yes: frozenset[str], unknown: frozenset[str]) -> Cond:
    def test(ctx: Context) -> bool | None:
        status = ctx.status.get(code)
        return True if status in yes else None if status in unknown else False

    return test


def needed(value: Any, compiled: Compiled) -> Cond:
    codes = sorted(_code(c) for c in _names(value, None, "requirement code"))
    compiled.codes.update(codes)
    cond = frozenset({vocab.CONDITIONAL})
    return all_of([_status_in(code, _NEEDED, cond) for code in codes])


def settled(value: Any, compiled: Compiled) -> Cond:
    codes = sorted(_code(c) for c in _names(value, None, "requirement code"))
    compiled.codes.update(codes)
    open_ = frozenset({vocab.REQUIRED, vocab.CONDITIONAL})
    return all_of([_status_in(code, _SETTLED, open_) for code in codes])


def status(value: Any, compiled: Compiled) -> Cond:
    if not isinstance(value, dict) or not value:
        raise ValueError('give { code = status }, e.g. { chest_xray = "blocked" }')
    tests = []
    for code, wanted in value.items():
        compiled.codes.add(_code(code))
        tests.append(
            _status_in(code, _names(wanted, frozenset(vocab.STATUSES), "status"), frozenset())
        )
    return all_of(tests)


def outcome(value: Any, compiled: Compiled) -> Cond:
    if not isinstance(value, dict) or not value:
        raise ValueError('give { kind = value }, e.g. { tb_class = "class_a" }')
    tests = []
    for kind, wanted in value.items():
        if kind not in vocab.OUTCOME_KINDS:
            raise ValueError(f"unknown outcome kind {kind!r}")
        names = _names(wanted, vocab.OUTCOME_KINDS[kind].values, f"{kind} value")
        compiled.kinds.add(kind)
        tests.append(_outcome(kind, names))
    return all_of(tests)


def _outcome(kind: str, names: frozenset[str]) -> Cond:
    def test(ctx: Context) -> bool | None:
        if not names.isdisjoint(ctx.outcomes.get(kind, ())):
            return True
        return None if kind in ctx.pending_kinds else False

    return test


def lived_in(value: Any, compiled: Compiled) -> Cond:
    """Lived in (or is at the exam in) a country of the regions or codes named, at any time:
    e.g. Loa loa exposure, 'resided or traveled in' (BRIEF 1.6 [S16])."""
    from pmha.rules.regions import resolve

    codes = resolve(value)

    def test(ctx: Context) -> bool | None:
        facts = ctx.facts
        return facts.exam_country in codes or any(r.country in codes for r in facts.residence)

    return test


def living_in(value: Any, compiled: Compiled) -> Cond:
    """Living there at the exam: a residence not ended before the exam date, or the exam country
    (e.g. malaria: refugees 'living in' P. falciparum-endemic sub-Saharan Africa [S18])."""
    from pmha.rules.regions import resolve

    codes = resolve(value)

    def test(ctx: Context) -> bool | None:
        facts, day = ctx.facts, ctx.facts.exam_date
        return facts.exam_country in codes or any(
            r.country in codes and (r.end is None or r.end >= day) for r in facts.residence
        )

    return test


PREDICATES: dict[str, Callable[[Any, Compiled], Cond]] = {
    "age": age,
    "gestation_weeks": gestation_weeks,
    "sex": _choice("sex", vocab.SEXES, "sex"),
    "programme": _choice("programme", vocab.PROGRAMMES, "programme"),
    "exam_country": _choice("exam_country", None, "country code"),
    "tb_burden": tb_burden,
    "exam_month": exam_month,
    "result": result,
    "done": done,
    "needed": needed,
    "settled": settled,
    "status": status,
    "outcome": outcome,
    "lived_in": lived_in,
    "living_in": living_in,
    **{name: flag_predicate(name) for name in FLAGS},
}
