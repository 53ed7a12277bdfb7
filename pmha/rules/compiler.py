"""Condition tables compiled once, at load time, into closures (the language: conditions.py;
its words: predicates.py)."""

from __future__ import annotations

from typing import Any

from pmha.rules.conditions import (
    Compiled,
    Cond,
    all_of,
    always,
    any_of,
    negate,
    negate_definite,
)
from pmha.rules.predicates import PREDICATES

# Predicates that never answer "not known yet"; combinators test them first, which changes no
# answer (conditions have no side effects) but settles most conditions without the others.
DEFINITE = frozenset(
    {"age", "sex", "programme", "exam_country", "exam_month", "status", "lived_in", "living_in"}
)

# A condition before it becomes a closure: (combinator, children) or ("test", cond, definite).
Tree = tuple[str, Any, bool]


def compile_condition(raw: Any, path: str, problems: list[tuple[str, str]]) -> Compiled:
    """Compile a condition table; each fault is appended to `problems` as (key path, message)."""
    compiled = Compiled(always)
    compiled.test = _emit(_tree(raw, path, problems, compiled))[0]
    return compiled


def _tree(raw: Any, path: str, problems: list[tuple[str, str]], compiled: Compiled) -> Tree:
    if not isinstance(raw, dict):
        problems.append((path, 'a condition must be a table, e.g. { age = { from = "15y" } }'))
        return ("test", always, True)
    parts: list[Tree] = []
    for key, value in raw.items():
        where = f"{path}.{key}"
        if key in ("all_of", "any_of"):
            if not isinstance(value, list) or not value:
                problems.append((where, f"{key} takes a non-empty list of conditions"))
                continue
            children = [_tree(v, f"{where}[{i}]", problems, compiled) for i, v in enumerate(value)]
            parts.append((key, children, False))
        elif key == "not":
            parts.append(("not", _tree(value, where, problems, compiled), False))
        elif key in PREDICATES:
            compiled.names.add(key)
            try:
                parts.append(("test", PREDICATES[key](value, compiled), key in DEFINITE))
            except ValueError as exc:
                problems.append((where, str(exc)))
        else:
            known = ", ".join(sorted([*PREDICATES, "all_of", "any_of", "not"]))
            problems.append((where, f"unknown condition {key!r} (known: {known})"))
    return ("all_of", parts, False) if parts else ("test", always, True)


def _emit(tree: Tree) -> tuple[Cond, bool]:
    """The closure for `tree` and whether it always answers True or False."""
    op, arg, definite = tree
    if op == "test":
        return arg, definite
    if op == "not":
        cond, definite = _emit(arg)
        return (negate_definite(cond) if definite else negate(cond)), definite
    # all_of inside all_of (any_of inside any_of) is one list: both are associative.
    children: list[Tree] = []
    for child in arg:
        children += child[1] if child[0] == op else [child]
    emitted = [_emit(child) for child in children]
    sure = [cond for cond, definite in emitted if definite]
    unsure = [cond for cond, definite in emitted if not definite]
    if op == "all_of":
        return all_of(sure + unsure, len(sure)), not unsure
    return any_of(sure + unsure, len(sure)), not unsure
