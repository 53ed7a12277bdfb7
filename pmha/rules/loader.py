"""Reading rule files: load all, validate all, then return an immutable RuleBook or raise."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from types import MappingProxyType

from marshmallow import ValidationError

from pmha.rules.build import build_ruleset, raw_problems
from pmha.rules.errors import Problem, RuleFileError
from pmha.rules.model import RuleBook, RuleSet
from pmha.rules.schema import RuleFileSchema, flatten


def load_file(path: Path) -> tuple[RuleSet | None, list[Problem]]:
    """One file compiled, or None and every problem found in it."""
    name = path.name
    raw_bytes = path.read_bytes()
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [Problem(name, "", f"not valid TOML: {exc}")]
    try:
        data = RuleFileSchema().load(raw)
    except ValidationError as exc:
        found = flatten(exc.messages, raw)
        return None, [Problem(name, p, m) for p, m in found + raw_problems(raw, found)]
    problems = []
    if data["meta"]["destination"] != path.stem:
        problems.append(
            Problem(
                name,
                "meta.destination",
                f"is {data['meta']['destination']!r}; the file name says {path.stem!r}",
            )
        )
    ruleset, found = build_ruleset(data, name, hashlib.sha256(raw_bytes).hexdigest())
    problems += [Problem(name, p, m) for p, m in found]
    return (None if problems else ruleset), problems


def check_rules(directory: Path | str) -> tuple[dict[str, RuleSet], list[Problem]]:
    """Every *.toml in `directory`, compiled, with every problem across all files."""
    folder = Path(directory)
    files = sorted(folder.glob("*.toml"))
    if not files:
        return {}, [Problem(str(folder), "", "no rule files (*.toml) found")]
    rulesets: dict[str, RuleSet] = {}
    problems: list[Problem] = []
    for path in files:
        ruleset, found = load_file(path)
        problems += found
        if ruleset is not None:
            rulesets[ruleset.destination] = ruleset
    return rulesets, problems


def load_rules(directory: Path | str) -> RuleBook:
    """All destinations' rules; RuleFileError listing every problem if any file is broken."""
    rulesets, problems = check_rules(directory)
    if problems:
        raise RuleFileError(problems)
    return RuleBook(MappingProxyType(rulesets))
