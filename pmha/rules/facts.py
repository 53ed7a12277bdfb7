"""An applicant's facts as the engine sees them, their validation (field -> messages), and their
JSON shape (the CLI's FACTS.json, the API's request bodies): read and written here, beside the
dataclass they fill."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

import pycountry

from pmha.rules import vocabulary as vocab

MAX_AGE_YEARS = 130
MAX_GESTATION_WEEKS = 45
_EMPTY: Mapping[str, Any] = MappingProxyType({})
FLAGS = (
    "pregnant",
    "tb_history",
    "tb_contact",
    "tb_symptoms",
    "known_hiv",
    "extrapulmonary_tb",
    "complex_condition",
    "urgent_surveillance",
)


class FactsError(ValueError):
    """Facts that cannot be planned; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        lines = [f"{name}: {' '.join(messages)}" for name, messages in sorted(errors.items())]
        super().__init__("invalid facts: " + "; ".join(lines))


@dataclass(frozen=True, slots=True)
class Result:
    """A result so far: a value from the code's vocabulary (or a number, e.g. TST mm) and a date."""

    value: str | float
    date: date
    treated: bool = False


@dataclass(frozen=True, slots=True)
class Residence:
    """A country the applicant lived in (ISO alpha-2), from `start` to `end` (None: still there).
    Presumptive treatment depends on where someone lived (BRIEF 1.6 [S16, S17, S18])."""

    country: str
    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Flags left as None are not known yet: what depends on them is planned as conditional."""

    dob: date
    exam_date: date
    sex: str
    programme: str
    destination: str
    exam_country: str
    pregnant: bool | None = None
    gestation_weeks: int | None = None
    tb_history: bool | None = None
    tb_contact: bool | None = None
    tb_symptoms: bool | None = None
    known_hiv: bool | None = None
    extrapulmonary_tb: bool | None = None
    # a significant complex medical condition, in the physician's judgement (US PDMS [S19])
    complex_condition: bool | None = None
    # urgent or complex non-infectious TB: Canadian surveillance within 7 days, not 30 [S28h, S28i]
    urgent_surveillance: bool | None = None
    departure_date: date | None = None
    results: Mapping[str, Result] = field(default_factory=lambda: _EMPTY)
    waivers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    deferred: frozenset[str] = frozenset()
    # countries lived in, with dates; the exam country counts as where the applicant is at the exam
    residence: tuple[Residence, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> Facts:
        """Parse and validate JSON-shaped facts; raise FactsError listing every bad field."""
        facts, errors = parse_facts(data)
        if facts is not None:
            errors.update(facts.errors())
        if errors or facts is None:
            raise FactsError(errors)
        return facts

    def errors(self) -> dict[str, list[str]]:
        """Impossible or unknown values, by field. Empty when the facts can be planned."""
        errors: dict[str, list[str]] = {}

        def add(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        if self.exam_date < self.dob:
            add("exam_date", "The exam date is before the date of birth.")
        elif (self.exam_date.year - self.dob.year) > MAX_AGE_YEARS:
            add("dob", f"The applicant would be over {MAX_AGE_YEARS} years old.")
        if self.sex not in vocab.SEXES:
            add("sex", f"Use one of {', '.join(sorted(vocab.SEXES))}.")
        if self.programme not in vocab.PROGRAMMES:
            add("programme", f"Use one of {', '.join(sorted(vocab.PROGRAMMES))}.")
        if self.destination not in vocab.DESTINATIONS:
            add("destination", f"Use one of {', '.join(sorted(vocab.DESTINATIONS))}.")
        if not (len(self.exam_country) == 2 and self.exam_country.isalpha()):
            add("exam_country", "Use an ISO 3166-1 alpha-2 code in capitals (e.g. TR).")
        elif not self.exam_country.isupper():
            add("exam_country", "Write the country code in capitals (e.g. TR).")
        elif pycountry.countries.get(alpha_2=self.exam_country) is None:
            add("exam_country", f"{self.exam_country} is not a country code (ISO 3166-1, e.g. TR).")
        if self.sex == "male" and self.pregnant:
            add("pregnant", "A male applicant cannot be pregnant.")
        if self.gestation_weeks is not None:
            if self.sex == "male":
                add("gestation_weeks", "A male applicant has no gestation.")
            elif not self.pregnant:
                add("gestation_weeks", "Gestation is given but the applicant is not pregnant.")
            if not 0 <= self.gestation_weeks <= MAX_GESTATION_WEEKS:
                add("gestation_weeks", f"Use 0 to {MAX_GESTATION_WEEKS} weeks.")
        if self.departure_date is not None and self.departure_date < self.exam_date:
            add("departure_date", "The departure date is before the exam date.")
        for code, result in self.results.items():
            _check_result(code, result, self.dob, add)
        for code, reason in self.waivers.items():
            if code not in vocab.REQUIREMENT_CODES:
                add(f"waivers.{code}", "Unknown requirement code.")
            if reason not in vocab.WAIVER_REASONS:
                add(f"waivers.{code}", f"Use one of {', '.join(sorted(vocab.WAIVER_REASONS))}.")
        for i, period in enumerate(self.residence):
            for name, message in residence_errors(period, self.dob, self.exam_date).items():
                add(f"residence[{i}].{name}", message)
        for code in sorted(self.deferred):
            if code not in vocab.REQUIREMENT_CODES:
                add("deferred", f"Unknown requirement code {code!r}.")
        return errors


def _check_result(code: str, result: Result, dob: date, add: Any) -> None:
    if code not in vocab.RESULT_VALUES:
        add(f"results.{code}", "Unknown requirement code.")
        return
    allowed = vocab.RESULT_VALUES[code]
    if allowed is None:
        if isinstance(result.value, bool) or not isinstance(result.value, int | float):
            add(f"results.{code}.value", "Give a number (e.g. induration in mm).")
        elif not 0 <= result.value <= 100:
            add(f"results.{code}.value", "Use a number from 0 to 100.")
    elif result.value not in allowed:
        add(f"results.{code}.value", f"Use one of {', '.join(allowed)}.")
    if result.date < dob:
        add(f"results.{code}.date", "The result is dated before the date of birth.")


def residence_errors(period: Residence, dob: date, exam_date: date | None) -> dict[str, str]:
    """What is wrong with one residence period, by field (from/to/country), in words."""
    found: dict[str, str] = {}
    code = period.country
    if not (len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()):
        found["country"] = "Use an ISO 3166-1 alpha-2 code in capitals (e.g. CD)."
    if period.end is not None and period.end < period.start:
        found["to"] = "The end date is before the start date."
    if period.start < dob:
        found["from"] = "The start date is before the date of birth."
    elif exam_date is not None and period.start > exam_date:
        found["from"] = "The start date is after the exam date."
    late = period.end is not None and exam_date is not None and period.end > exam_date
    if late and "to" not in found:
        found["to"] = "The end date is after the exam date."
    return found


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
