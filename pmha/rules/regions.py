"""Regions of countries the rules may name (`lived_in = "loa_loa_endemic"`), from
country_rules/regions/regions.toml. Pure: reads one file, no Flask, no database.

A region is the union of its rows (countries, and other regions it includes); every row cites
its sources. Rule conditions and presumptive treatment entries resolve region names to country
codes when the rule files are loaded, so a misspelt region is a load-time problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pycountry

REGIONS_FILE = Path(__file__).resolve().parents[2] / "country_rules" / "regions" / "regions.toml"
CONFIDENCE = ("C", "S", "U")
_CODE = re.compile(r"^[A-Z]{2}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegionError(ValueError):
    """The regions file is broken; `problems` lists every fault as 'where: what'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("regions.toml: " + "; ".join(problems))


@dataclass(frozen=True)
class Region:
    name: str
    label: str
    countries: frozenset[str]
    sources: tuple[str, ...]


def country_name(code: str) -> str:
    """A country's name in words (ISO 3166), e.g. CD -> Democratic Republic of the Congo."""
    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return code
    name = getattr(found, "common_name", None) or found.name
    if ", " in name:  # "Congo, The Democratic Republic of the" -> "... of the Congo"
        head, tail = name.split(", ", 1)
        name = f"{tail} {head}".removeprefix("The ")
    return str(name)


def _check_row(i: int, row: Any, sources: Mapping[str, Any], problems: list[str]) -> None:
    where = f"region[{i}]"
    if not isinstance(row, dict):
        problems.append(f"{where}: a region row is a table")
        return
    known = {"name", "label", "countries", "includes", "source", "confidence", "note"}
    problems += [f"{where}.{k}: unknown field" for k in sorted(set(row) - known)]
    if not isinstance(row.get("name"), str) or not _NAME.match(row["name"]):
        problems.append(f"{where}.name: a lower-case name like 'loa_loa_endemic'")
    if not isinstance(row.get("label"), str) or not row["label"]:
        problems.append(f"{where}.label: the region in words")
    codes = row.get("countries", [])
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        problems.append(f"{where}.countries: a list of ISO 3166-1 alpha-2 codes")
    else:
        for code in codes:
            if not _CODE.match(code) or pycountry.countries.get(alpha_2=code) is None:
                problems.append(f"{where}.countries: {code!r} is not an ISO 3166-1 alpha-2 code")
    if not codes and not row.get("includes"):
        problems.append(f"{where}: give countries or includes")
    cited = row.get("source")
    if not isinstance(cited, list) or not cited:
        problems.append(f"{where}.source: cite at least one source of [sources]")
    else:
        missing = [s for s in cited if s not in sources]
        problems += [f"{where}.source: {s!r} is not in [sources]" for s in missing]
    if row.get("confidence") not in CONFIDENCE:
        problems.append(f"{where}.confidence: use C, S or U")


def parse_regions(raw: Mapping[str, Any]) -> Mapping[str, Region]:
    """Validated regions by name; RegionError listing every fault otherwise."""
    problems: list[str] = []
    sources = raw.get("sources") or {}
    rows = raw.get("region") or []
    problems += [f"{k}: unknown section" for k in sorted(set(raw) - {"sources", "region"})]
    for i, row in enumerate(rows):
        _check_row(i, row, sources, problems)
    if problems:
        raise RegionError(problems)
    labels: dict[str, str] = {}
    direct: dict[str, set[str]] = {}
    includes: dict[str, set[str]] = {}
    cited: dict[str, list[str]] = {}
    for i, row in enumerate(rows):
        name = row["name"]
        if labels.setdefault(name, row["label"]) != row["label"]:
            problems.append(f"region[{i}].label: the rows of {name!r} give different labels")
        direct.setdefault(name, set()).update(row.get("countries", []))
        includes.setdefault(name, set()).update(row.get("includes", []))
        cited.setdefault(name, []).extend(s for s in row["source"] if s not in cited[name])
    for name, names in includes.items():
        problems += [f"{name}: includes unknown region {n!r}" for n in sorted(names - set(labels))]
    if problems:
        raise RegionError(problems)

    def members(name: str, seen: tuple[str, ...]) -> set[str]:
        if name in seen:
            raise RegionError([f"{name}: includes itself ({' -> '.join((*seen, name))})"])
        found = set(direct[name])
        for other in includes[name]:
            found |= members(other, (*seen, name))
        return found

    return MappingProxyType(
        {
            name: Region(name, labels[name], frozenset(members(name, ())), tuple(cited[name]))
            for name in labels
        }
    )


@cache
def load_regions(path: Path = REGIONS_FILE) -> Mapping[str, Region]:
    """The regions file (read once per process)."""
    return parse_regions(tomllib.loads(path.read_text(encoding="utf-8")))


def resolve(value: Any, what: str = "region or country code") -> frozenset[str]:
    """Region names and ISO codes (one or a list) as the set of country codes they name."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise ValueError(f"give a {what} or a non-empty list of them")
    regions = load_regions()
    codes: set[str] = set()
    for item in items:
        if item in regions:
            codes |= regions[item].countries
        elif _CODE.match(item):
            codes.add(item)
        else:
            known = ", ".join(sorted(regions))
            raise ValueError(f"unknown region {item!r} (known: {known}; or an ISO country code)")
    return frozenset(codes)


def label_of(value: Iterable[str] | str) -> str:
    """How a condition's regions read in a reason ('Loa loa-endemic', or country names)."""
    items = [value] if isinstance(value, str) else list(value)
    regions = load_regions()
    return " or ".join(regions[i].label if i in regions else country_name(i) for i in items)
