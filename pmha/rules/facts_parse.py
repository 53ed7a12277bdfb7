"""Facts from and to JSON-shaped data (the CLI's FACTS.json, the API's request bodies)."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Any

from pmha.rules.facts import FLAGS, Facts, Residence, Result

_REQUIRED = ("dob", "exam_date", "sex", "programme", "destination", "exam_country")
_DATES = ("dob", "exam_date", "departure_date")
_KNOWN = frozenset(
    (*_REQUIRED, *FLAGS, "gestation_weeks", "departure_date", "results", "waivers", "deferred")
) | {"residence"}
_RESULT_KEYS = frozenset({"value", "date", "treated"})


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_facts(data: Any) -> tuple[Facts | None, dict[str, list[str]]]:
    """The typed facts (None when a field cannot even be read) and the type errors found."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not isinstance(data, dict):
        return None, {"_schema": ["Facts must be a JSON object."]}
    for key in sorted(set(data) - _KNOWN):
        add(key, "Unknown field.")
    for key in _REQUIRED:
        if data.get(key) is None:
            add(key, "Missing data for required field.")
    values: dict[str, Any] = {}
    for key in _DATES:
        if data.get(key) is not None:
            values[key] = _date(data[key])
            if values[key] is None:
                add(key, "Not a valid date (use YYYY-MM-DD).")
    for key in ("sex", "programme", "destination", "exam_country"):
        if data.get(key) is not None:
            if isinstance(data[key], str):
                values[key] = data[key]
            else:
                add(key, "Not a valid string.")
    for key in FLAGS:
        if data.get(key) is not None:
            if isinstance(data[key], bool):
                values[key] = data[key]
            else:
                add(key, "Use true, false or null (not known yet).")
    weeks = data.get("gestation_weeks")
    if weeks is not None:
        if isinstance(weeks, int) and not isinstance(weeks, bool):
            values["gestation_weeks"] = weeks
        else:
            add("gestation_weeks", "Not a valid integer.")
    values["results"] = MappingProxyType(_results(data.get("results"), add))
    waivers = data.get("waivers") or {}
    if isinstance(waivers, dict) and all(isinstance(v, str) for v in waivers.values()):
        values["waivers"] = MappingProxyType(dict(waivers))
    else:
        add("waivers", "Give an object: requirement code -> waiver reason.")
    deferred = data.get("deferred") or []
    if isinstance(deferred, list) and all(isinstance(v, str) for v in deferred):
        values["deferred"] = frozenset(deferred)
    else:
        add("deferred", "Give a list of requirement codes.")
    values["residence"] = parse_residence(data.get("residence"), add)
    if errors:
        return None, errors
    return Facts(**values), errors


_RESIDENCE_KEYS = frozenset({"country", "from", "to"})


def parse_residence(raw: Any, add: Any) -> tuple[Residence, ...]:
    """`[{country, from, to?}, ...]` as Residence periods; type errors go to `add`."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        add("residence", "Give a list of {country, from, to}; leave out to while still there.")
        return ()
    out: list[Residence] = []
    for i, item in enumerate(raw):
        where = f"residence[{i}]"
        if not isinstance(item, dict):
            add(where, "Give an object with country, from and (unless still living there) to.")
            continue
        for key in sorted(set(item) - _RESIDENCE_KEYS):
            add(f"{where}.{key}", "Unknown field.")
        country, start = item.get("country"), _date(item.get("from"))
        end = _date(item.get("to")) if item.get("to") is not None else None
        if not isinstance(country, str):
            add(f"{where}.country", "Give the country as an ISO 3166-1 alpha-2 code (e.g. CD).")
        if start is None:
            add(f"{where}.from", "Missing or not a valid date (use YYYY-MM-DD).")
        if item.get("to") is not None and end is None:
            add(f"{where}.to", "Not a valid date (use YYYY-MM-DD).")
        if isinstance(country, str) and start is not None and (end or item.get("to") is None):
            out.append(Residence(country, start, end))
    return tuple(out)


def _results(raw: Any, add: Any) -> dict[str, Result]:
    results: dict[str, Result] = {}
    if raw is None:
        return results
    if not isinstance(raw, dict):
        add("results", "Give an object: requirement code -> {value, date}.")
        return results
    for code, item in raw.items():
        where = f"results.{code}"
        if not isinstance(item, dict):
            add(where, "Give an object with value and date.")
            continue
        for key in sorted(set(item) - _RESULT_KEYS):
            add(f"{where}.{key}", "Unknown field.")
        value, when = item.get("value"), _date(item.get("date"))
        if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
            add(f"{where}.value", "Give the result value (a code or a number).")
            continue
        if when is None:
            add(f"{where}.date", "Missing or not a valid date (use YYYY-MM-DD).")
            continue
        treated = item.get("treated", False)
        if not isinstance(treated, bool):
            add(f"{where}.treated", "Use true or false.")
            continue
        results[code] = Result(value=value, date=when, treated=treated)
    return results


def facts_to_dict(facts: Facts) -> dict[str, Any]:
    """The JSON shape that Facts.from_dict reads."""
    out: dict[str, Any] = {
        "dob": facts.dob.isoformat(),
        "exam_date": facts.exam_date.isoformat(),
        "sex": facts.sex,
        "programme": facts.programme,
        "destination": facts.destination,
        "exam_country": facts.exam_country,
    }
    for key in FLAGS:
        if getattr(facts, key) is not None:
            out[key] = getattr(facts, key)
    if facts.gestation_weeks is not None:
        out["gestation_weeks"] = facts.gestation_weeks
    if facts.departure_date is not None:
        out["departure_date"] = facts.departure_date.isoformat()
    if facts.results:
        out["results"] = {
            code: {"value": r.value, "date": r.date.isoformat(), "treated": r.treated}
            for code, r in facts.results.items()
        }
    if facts.waivers:
        out["waivers"] = dict(facts.waivers)
    if facts.deferred:
        out["deferred"] = sorted(facts.deferred)
    if facts.residence:
        out["residence"] = [
            {"country": r.country, "from": r.start.isoformat()}
            | ({"to": r.end.isoformat()} if r.end else {})
            for r in facts.residence
        ]
    return out
