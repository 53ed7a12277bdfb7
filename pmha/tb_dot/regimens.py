"""The TB regimen catalogue and adherence rules, read from each destination's rule file
(`[tb_treatment]`, checked by `pmha rules check`), and the eligibility checks of a regimen.

Pure: no Flask, no database. Nothing clinical is a constant here: it all comes from the files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pmha.rules.dates import Age, Period
from pmha.rules.schema import TbRegimenSchema, TbTreatmentSchema
from pmha.tb_dot.commands import PhaseSpec

CUSTOM = "custom"  # a regimen the physician writes (drug-resistant TB)
SITES = ("pulmonary", "extrapulmonary")
SUSCEPTIBILITY = ("susceptible", "resistant", "unknown")


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    drugs: str
    doses: int
    within_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "drugs": self.drugs,
            "doses": self.doses,
            "within_days": self.within_days,
        }


@dataclass(frozen=True, slots=True)
class WeightBand:
    from_kg: float
    below_kg: float | None
    dose: str

    def fits(self, weight_kg: float) -> bool:
        return self.from_kg <= weight_kg and (self.below_kg is None or weight_kg < self.below_kg)


@dataclass(frozen=True, slots=True)
class Eligibility:
    min_age: Period | None = None
    min_weight_kg: float | None = None
    sites: tuple[str, ...] | None = None
    susceptibility: tuple[str, ...] | None = None
    pregnant: bool | None = None


@dataclass(frozen=True, slots=True)
class SputumSchedule:
    """Which treatment months need a sputum check (month 1 = the first month of treatment):
    the regimen's fixed months, and every month until the culture converts if it says so."""

    months: tuple[int, ...] = ()
    until_conversion: bool = False

    def needs(self, month: int, converted_in: int | None) -> bool:
        """Whether month `month` needs a check, the culture having converted in month
        `converted_in` (None: not yet)."""
        if month in self.months:
            return True
        return self.until_conversion and (converted_in is None or month <= converted_in)

    def to_dict(self) -> dict[str, Any]:
        return {"months": list(self.months), "until_conversion": self.until_conversion}


MONTHLY = SputumSchedule(until_conversion=True)


@dataclass(frozen=True, slots=True)
class Extension:
    continuation_doses: int
    within_days: int
    cavitation: bool
    positive_culture_month: int
    sputum_months: tuple[int, ...] | None = None  # the fixed months once extended


@dataclass(frozen=True, slots=True)
class Regimen:
    code: str
    title: str
    phases: tuple[Phase, ...]
    eligibility: Eligibility = Eligibility()
    weight_bands: tuple[WeightBand, ...] = ()
    extension: Extension | None = None
    source: tuple[str, ...] = ()
    confidence: str | None = None
    sputum: SputumSchedule = MONTHLY

    def sputum_schedule(self, extended: bool) -> SputumSchedule:
        """The months that need sputum, with the extension's fixed months once extended."""
        ext = self.extension
        if extended and ext is not None and ext.sputum_months is not None:
            return SputumSchedule(ext.sputum_months, self.sputum.until_conversion)
        return self.sputum

    def dose_for(self, weight_kg: float | None) -> str | None:
        """The weight-band dose to show the nurse (None: no band fits, or no weight)."""
        if weight_kg is None:
            return None
        return next((b.dose for b in self.weight_bands if b.fits(weight_kg)), None)


@dataclass(frozen=True, slots=True)
class TreatmentRules:
    destination: str
    taken: frozenset[str]
    interruption_alert_after: int
    lost_to_follow_up_after: Period
    custom_sputum: SputumSchedule  # physician-written regimens
    sputum_grace_days: int
    failure_positive_from_month: int
    custom_within_factor: float
    regimens: Mapping[str, Regimen] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Patient:
    """What a regimen's eligibility is checked against, on the start date."""

    dob: date
    start: date
    weight_kg: float | None
    site: str
    susceptibility: str
    pregnant: bool | None


def _schedule(raw: dict[str, Any]) -> SputumSchedule:
    return SputumSchedule(tuple(raw["months"]), raw["until_conversion"])


def _extension(raw: dict[str, Any] | None) -> Extension | None:
    if raw is None:
        return None
    months = raw.get("sputum_months")
    return Extension(
        raw["continuation_doses"],
        raw["within_days"],
        raw["cavitation"],
        raw["positive_culture_month"],
        None if months is None else tuple(months),
    )


def _regimen(raw: dict[str, Any]) -> Regimen:
    elig = raw["eligibility"] or {}
    source = raw["source"]
    return Regimen(
        code=raw["code"],
        title=raw["title"],
        phases=tuple(Phase(**p) for p in raw["phases"]),
        eligibility=Eligibility(
            min_age=Period.parse(elig["min_age"]) if elig.get("min_age") else None,
            min_weight_kg=elig.get("min_weight_kg"),
            sites=tuple(elig["sites"]) if elig.get("sites") else None,
            susceptibility=tuple(elig["susceptibility"]) if elig.get("susceptibility") else None,
            pregnant=elig.get("pregnant"),
        ),
        weight_bands=tuple(WeightBand(**b) for b in raw["weight_bands"]),
        extension=_extension(raw["extension"]),
        source=(source,) if isinstance(source, str) else tuple(source),
        confidence=raw["confidence"],
        sputum=_schedule(raw["sputum"]),
    )


def rules_from(destination: str, raw: dict[str, Any]) -> TreatmentRules:
    """A `[tb_treatment]` table (as loaded by the schema) compiled."""
    return TreatmentRules(
        destination=destination,
        taken=frozenset(raw["taken"]),
        interruption_alert_after=raw["interruption_alert_after"],
        lost_to_follow_up_after=Period.parse(raw["lost_to_follow_up_after"]),
        custom_sputum=_schedule(raw["custom_sputum"]),
        sputum_grace_days=raw["sputum_grace_days"],
        failure_positive_from_month=raw["failure_positive_from_month"],
        custom_within_factor=raw["custom_within_factor"],
        regimens=MappingProxyType({r["code"]: _regimen(r) for r in raw["regimen"]}),
    )


_CACHE: dict[tuple[str, float, int], Mapping[str, TreatmentRules]] = {}


def load_catalogue(directory: Path | str) -> Mapping[str, TreatmentRules]:
    """Each destination's treatment rules, from the rule files that carry a `[tb_treatment]`
    table (the files were checked when the app started; this re-reads only that table)."""
    folder = Path(directory)
    files = sorted(folder.glob("*.toml"))
    key = (str(folder), max((f.stat().st_mtime for f in files), default=0.0), len(files))
    if key in _CACHE:
        return _CACHE[key]
    found: dict[str, TreatmentRules] = {}
    for path in files:
        raw = tomllib.loads(path.read_text("utf-8"))
        table = raw.get("tb_treatment")
        if table is None:
            continue
        loaded = TbTreatmentSchema().load(table)
        sources = raw.get("sources", {})
        cited_by = [table.get("custom_sputum", {})]
        for regimen in table.get("regimen", []):
            cited_by += [regimen, regimen.get("sputum", {})]
        for row in cited_by:
            cited = row.get("source", [])
            cites = [cited] if isinstance(cited, str) else cited
            missing = [s for s in cites if s not in sources]
            if missing:
                raise ValueError(f"{path.name}: tb_treatment cites unknown {missing}")
        found[path.stem] = rules_from(path.stem, loaded)
    result = MappingProxyType(found)
    _CACHE.clear()
    _CACHE[key] = result
    return result


def custom_regimen(phases: Sequence[PhaseSpec], factor: float) -> Regimen:
    """A physician's regimen (drug-resistant TB): each phase's window is its doses x factor."""
    built = tuple(
        Phase(p.name, p.drugs, p.doses, max(p.doses, round(p.doses * factor))) for p in phases
    )
    raw = {"code": CUSTOM, "title": "Custom regimen", "phases": [p.to_dict() for p in built]}
    TbRegimenSchema(only=("code", "title", "phases")).load(raw)
    return Regimen(CUSTOM, "Custom regimen (drug-resistant TB)", built)


def _age_words(age: Period) -> str:
    years, months = divmod(age.months, 12)
    parts = [f"{years} years" if years else "", f"{months} months" if months else "",
             f"{age.days} days" if age.days else ""]  # fmt: skip
    return " ".join(p for p in parts if p) or "0 days"


def ineligible(regimen: Regimen, who: Patient) -> dict[str, list[str]]:
    """Why the patient may not take this regimen, by field (empty: eligible)."""
    rule = regimen.eligibility
    errors: dict[str, list[str]] = {}
    if rule.min_age is not None and not Age.between(who.dob, who.start).at_least(rule.min_age):
        words = _age_words(rule.min_age)
        errors["regimen"] = [f"{regimen.code} is for applicants aged {words} or over at the start."]
    floor = rule.min_weight_kg
    if floor is not None and (who.weight_kg is None or who.weight_kg < floor):
        errors["weight_kg"] = [f"{regimen.code} needs a weight of {floor:g} kg or more."]
    if rule.sites is not None and who.site not in rule.sites:
        errors["site"] = [f"{regimen.code} is for {' or '.join(rule.sites)} TB only."]
    if rule.susceptibility is not None and who.susceptibility not in rule.susceptibility:
        errors["susceptibility"] = [f"{regimen.code} is for drug-susceptible TB only."]
    if rule.pregnant is False and who.pregnant is not False:
        errors["pregnant"] = [
            f"{regimen.code} is not given in pregnancy: record that the applicant is not pregnant."
        ]
    return errors
