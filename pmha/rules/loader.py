"""Reading rule files: load all, validate all, then return an immutable RuleBook or raise."""

from __future__ import annotations

import hashlib
import stat
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, ValidationError

from pmha.rules.build import build_incidence_table, build_ruleset, raw_problems
from pmha.rules.errors import Problem, RuleFileError
from pmha.rules.model import IncidenceTable, RuleBook, RuleSet
from pmha.rules.schema import IncidenceFileSchema, RuleFileSchema, flatten

# The TB incidence table every destination reads: not a destination's file.
INCIDENCE_FILE = "tb_incidence.toml"


MAX_FILE_BYTES = 1024 * 1024
"""A rule file is tens of kilobytes (the largest shipped, US.toml, about 50 KB)."""
MAX_DEPTH = 32
"""Tables and arrays nest a few levels in a rule file; deeper is a broken or hostile file."""


def _read(path: Path, schema: Schema) -> tuple[bytes, dict[str, Any] | None, list[Problem]]:
    """The file's bytes and what `schema` loads from its TOML; the data is None and the
    problems say why when it cannot be read, is not valid TOML or does not follow the schema."""
    name = path.name
    refused = _unreadable(path)
    if refused:
        return b"", None, [Problem(name, "", refused)]
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        return b"", None, [Problem(name, "", f"cannot be read: {exc.strerror or 'I/O error'}")]
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return raw_bytes, None, [Problem(name, "", f"not valid TOML: {exc}")]
    except RecursionError:
        return raw_bytes, None, [Problem(name, "", f"nested more than {MAX_DEPTH} levels deep")]
    if _depth(raw) > MAX_DEPTH:
        return raw_bytes, None, [Problem(name, "", f"nested more than {MAX_DEPTH} levels deep")]
    try:
        data: dict[str, Any] = schema.load(raw)
    except ValidationError as exc:
        found = flatten(exc.messages, raw)
        problems = [Problem(name, p, m) for p, m in found + raw_problems(raw, found)]
        return raw_bytes, None, problems
    return raw_bytes, data, []


def _unreadable(path: Path) -> str | None:
    """Why the path is not a rule file to read (a directory, a device, too large), or None."""
    try:
        info = path.stat()
    except OSError as exc:
        return f"cannot be read: {exc.strerror or 'I/O error'}"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a rule file"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return (
            f"is {info.st_size / 1048576:.1f} MiB; a rule file may be at most "
            f"{MAX_FILE_BYTES // 1048576} MiB"
        )
    return None


def _depth(value: object) -> int:
    """How deep tables and arrays nest, counted without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _compile_failed(name: str, exc: Exception) -> list[Problem]:
    """A schema-valid file the compiler could not build: named, never a traceback."""
    return [Problem(name, "", f"could not be compiled ({type(exc).__name__}); report this file")]


def load_incidence(path: Path) -> tuple[IncidenceTable | None, list[Problem]]:
    """The shared TB incidence table, or None and every problem found in it."""
    name = path.name
    raw_bytes, data, problems = _read(path, IncidenceFileSchema())
    if data is None:
        return None, problems
    try:
        table, found = build_incidence_table(data, name, hashlib.sha256(raw_bytes).hexdigest())
    except Exception as exc:  # the compiler's bug or a case it missed: named, not a traceback
        return None, _compile_failed(name, exc)
    return (None if found else table), [Problem(name, p, m) for p, m in found]


def load_file(
    path: Path, shared: IncidenceTable | None = None
) -> tuple[RuleSet | None, list[Problem]]:
    """One file compiled, or None and every problem found in it. `shared`: the TB incidence
    table its burden rules read (the file's own rows override it)."""
    name = path.name
    raw_bytes, data, problems = _read(path, RuleFileSchema())
    if data is None:
        return None, problems
    if data["meta"]["destination"] != path.stem:
        problems.append(
            Problem(
                name,
                "meta.destination",
                f"is {data['meta']['destination']!r}; the file name says {path.stem!r}",
            )
        )
    # The plan's rules_sha256 covers the shared table too: a refreshed table re-plans.
    digest = hashlib.sha256(raw_bytes + (shared.sha256.encode() if shared else b""))
    try:
        ruleset, found = build_ruleset(data, name, digest.hexdigest(), shared)
    except Exception as exc:  # the compiler's bug or a case it missed: named, not a traceback
        return None, problems + _compile_failed(name, exc)
    problems += [Problem(name, p, m) for p, m in found]
    return (None if problems else ruleset), problems


def check_all(
    directory: Path | str,
) -> tuple[IncidenceTable | None, dict[str, RuleSet], list[Problem]]:
    """The shared TB incidence table (when the folder has one) and every destination's *.toml,
    compiled, with every problem across all files."""
    folder = Path(directory)
    files = sorted(p for p in folder.glob("*.toml") if p.name != INCIDENCE_FILE)
    if not files:
        return None, {}, [Problem(str(folder), "", "no rule files (*.toml) found")]
    table: IncidenceTable | None = None
    problems: list[Problem] = []
    incidence = folder / INCIDENCE_FILE
    if incidence.is_file() or incidence.is_dir():
        table, problems = load_incidence(incidence)
    rulesets: dict[str, RuleSet] = {}
    for path in files:
        ruleset, found = load_file(path, table)
        problems += found
        if ruleset is not None:
            rulesets[ruleset.destination] = ruleset
    return table, rulesets, problems


def check_rules(directory: Path | str) -> tuple[dict[str, RuleSet], list[Problem]]:
    """Every *.toml in `directory`, compiled, with every problem across all files."""
    _, rulesets, problems = check_all(directory)
    return rulesets, problems


def load_rules(directory: Path | str) -> RuleBook:
    """All destinations' rules; RuleFileError listing every problem if any file is broken."""
    table, rulesets, problems = check_all(directory)
    if problems:
        raise RuleFileError(problems)
    return RuleBook(MappingProxyType(rulesets), table)
