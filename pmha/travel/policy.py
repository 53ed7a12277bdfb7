"""The travel rules of the destination files (`[travel]`): check windows, carriers, presumptive
treatment and arrival follow-up, and the fitness-to-travel suggestion. Pure: no Flask, no database.

`pmha rules check` validates the section (pmha/rules/schema.py TravelSchema); this module reads
the validated tables into small frozen dataclasses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pmha.rules.dates import Age, Period
from pmha.rules.facts import Residence
from pmha.rules.regions import country_name, label_of, resolve
from pmha.rules.schema import RuleFileSchema

# Best first: a check takes the worst outcome any finding gives.
FITNESS_ORDER = (
    "fit",
    "fit_with_conditions",
    "fit_with_escort",
    "fit_with_medical_escort",
    "deferred",
    "unfit",
)
TRAVELS = frozenset(FITNESS_ORDER[:4])
NEEDS_ESCORT = {"fit_with_escort": "non_medical", "fit_with_medical_escort": "medical"}
# Symptoms of a communicable disease a PEC asks about (airline: "infectious disease: unfit").
COMMUNICABLE = {
    "fever": "Fever",
    "cough": "Cough of 2 weeks or more",
    "rash": "Rash (e.g. chickenpox, measles)",
    "diarrhoea": "Diarrhoea or vomiting",
    "jaundice": "Jaundice",
    "conjunctivitis": "Red, discharging eyes",
}
MENTAL_STATES = {
    "stable": "Stable",
    "anxious": "Anxious, cooperative",
    "needs_support": "Needs support (significant mental illness or developmental condition)",
    "acute": "Acute psychosis or violent behaviour",
}


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    pregnancy_single_max_weeks: int
    pregnancy_multiple_max_weeks: int
    pregnancy_certificate_from_weeks: int
    infectious_unfit: bool
    fever_celsius: float
    newborn_min_days: int
    oxygen_needs_medif: bool

    @property
    def rule_id(self) -> str:
        return f"carrier.{self.code}"


@dataclass(frozen=True)
class Places:
    """Regions or country codes as the file names them, and the codes they stand for."""

    names: tuple[str, ...]
    codes: frozenset[str]

    @classmethod
    def of(cls, value: str | Sequence[str] | None) -> Places | None:
        if value is None:
            return None
        names = (value,) if isinstance(value, str) else tuple(value)
        return cls(names, resolve(list(names)))

    @property
    def words(self) -> str:
        return label_of(self.names)


@dataclass(frozen=True)
class Exposure:
    """Where a traveller lived (residence periods) and where they are examined."""

    exam_country: str
    exam_date: date | None = None
    residence: tuple[Residence, ...] = ()

    def lived(self, places: Places) -> list[str]:
        """Each stay in `places`, in words ('Democratic Republic of the Congo, 2015-2020')."""
        found = [
            f"{country_name(r.country)}, {r.start.year}-{r.end.year if r.end else 'now'}"
            for r in self.residence
            if r.country in places.codes
        ]
        if self.exam_country in places.codes:
            found.append(f"{country_name(self.exam_country)}, the exam country")
        return found

    def living(self, places: Places) -> list[str]:
        """The stays in `places` not ended before the exam date (and the exam country)."""
        day = self.exam_date
        ongoing = tuple(r for r in self.residence if r.end is None or day is None or r.end >= day)
        return Exposure(self.exam_country, day, ongoing).lived(places)


@dataclass(frozen=True)
class Drug:
    drug: str
    dose: str
    in_pregnancy: str = "physician"
    lived_in: Places | None = None
    not_lived_in: Places | None = None
    living_in: Places | None = None
    min_age: str | None = None  # as the file writes it ('4y')
    min_weight_kg: float | None = None
    note: str | None = None

    def decide(
        self, exposure: Exposure, age: Age, pregnant: bool | None, weeks: int | None
    ) -> tuple[str, str]:
        """("give" | "omit" | "hold", why) for this traveller; each precaution from the file."""
        name = self.drug
        if self.not_lived_in is not None and (stays := exposure.lived(self.not_lived_in)):
            where = "; ".join(stays)
            return (
                "omit",
                f"{name} not given: lived in a {self.not_lived_in.words} country ({where})",
            )
        if self.lived_in is not None and not exposure.lived(self.lived_in):
            return "omit", f"{name} not given: never lived in {self.lived_in.words}"
        if self.living_in is not None and not exposure.living(self.living_in):
            return "omit", f"{name} not given: not living in {self.living_in.words} at the exam"
        if self.min_age is not None and not age.at_least(Period.parse(self.min_age)):
            return "omit", f"{name} not given: under {self.min_age}"
        rule = self.in_pregnancy
        if rule != "given" and pregnant is None:
            return "hold", f"{name} held: pregnancy not recorded (ask before giving)"
        if pregnant and rule == "omit":
            return "omit", f"{name} not given in pregnancy (any trimester)"
        if pregnant and rule == "not_first_trimester":
            if weeks is None:
                return (
                    "hold",
                    f"{name} held: pregnant, gestation not recorded (not in the first trimester)",
                )
            if weeks < 14:
                return "omit", f"{name} not given in the first trimester (week {weeks})"
        if pregnant and rule == "physician":
            return "hold", f"{name} held in pregnancy: the physician decides (no rule retrieved)"
        return "give", ""


@dataclass(frozen=True)
class TreatmentPlan:
    """What the entry that applies gives this traveller: the drugs to give, each drug left out
    with its reason, each held for the physician with its reason, and cautions to check."""

    id: str
    kind: str
    drugs: tuple[Drug, ...]
    omitted: tuple[tuple[Drug, str], ...] = ()
    held: tuple[tuple[Drug, str], ...] = ()
    cautions: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Presumptive:
    id: str
    kind: str
    drugs: tuple[Drug, ...]
    exam_country: frozenset[str] | None = None
    origin: frozenset[str] | None = None
    age_from: Period | None = None
    age_below: Period | None = None
    pregnant: bool | None = None
    note: str | None = None
    lived_in: Places | None = None
    living_in: Places | None = None

    def matches(
        self,
        *,
        exam_country: str,
        origin: str,
        age: Age,
        pregnant: bool | None,
        exposure: Exposure | None = None,
    ) -> bool:
        if self.exam_country is not None and exam_country not in self.exam_country:
            return False
        if self.origin is not None and origin not in self.origin:
            return False
        where = exposure or Exposure(exam_country)
        if self.lived_in is not None and not where.lived(self.lived_in):
            return False
        if self.living_in is not None and not where.living(self.living_in):
            return False
        if self.age_from is not None and not age.at_least(self.age_from):
            return False
        if self.age_below is not None and age.at_least(self.age_below):
            return False
        # Unknown pregnancy matches only the entries that do not ask.
        return self.pregnant is None or bool(pregnant) is self.pregnant


@dataclass(frozen=True)
class FollowUpRule:
    id: str
    outcomes: frozenset[str]  # kind:value
    what: str
    within_days: int | None


@dataclass(frozen=True)
class TravelPolicy:
    destination: str
    languages: tuple[str, ...]
    windows: Mapping[str, int]  # check code -> hours before departure it may start
    carriers: Mapping[str, Carrier]
    presumptive: tuple[Presumptive, ...] = ()
    follow_ups: tuple[FollowUpRule, ...] = ()

    def carrier(self, code: str) -> Carrier | None:
        return self.carriers.get(code)

    def treatment_for(
        self,
        *,
        exam_country: str,
        origin: str,
        age: Age,
        pregnant: bool | None,
        exposure: Exposure | None = None,
    ) -> Presumptive | None:
        """The first entry that matches; None when the file has no rule for this applicant."""
        return next(
            (
                p
                for p in self.presumptive
                if p.matches(
                    exam_country=exam_country,
                    origin=origin,
                    age=age,
                    pregnant=pregnant,
                    exposure=exposure,
                )
            ),
            None,
        )

    def plan_for(
        self,
        *,
        exposure: Exposure,
        origin: str,
        age: Age,
        pregnant: bool | None,
        gestation_weeks: int | None = None,
    ) -> TreatmentPlan | None:
        """The drugs of the first entry that matches, each decided by its precautions (residence,
        pregnancy, age): BRIEF 1.6 [S16, S17, S18]. None when no entry applies."""
        entry = self.treatment_for(
            exam_country=exposure.exam_country,
            origin=origin,
            age=age,
            pregnant=pregnant,
            exposure=exposure,
        )
        if entry is None:
            return None
        give: list[Drug] = []
        omitted: list[tuple[Drug, str]] = []
        held: list[tuple[Drug, str]] = []
        cautions: list[str] = []
        for drug in entry.drugs:
            verdict, why = drug.decide(exposure, age, pregnant, gestation_weeks)
            if verdict == "give":
                give.append(drug)
                if drug.min_weight_kg:
                    cautions.append(
                        f"{drug.drug}: only from {drug.min_weight_kg:g} kg (weigh first)"
                    )
            else:
                (omitted if verdict == "omit" else held).append((drug, why))
        return TreatmentPlan(
            entry.id, entry.kind, tuple(give), tuple(omitted), tuple(held), tuple(cautions),
            entry.note,
        )  # fmt: skip


EMPTY = TravelPolicy("", ("en",), {}, {})


def _codes(values: Sequence[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _drug(d: Mapping[str, Any]) -> Drug:
    return Drug(
        d["drug"],
        d["dose"],
        in_pregnancy=d.get("in_pregnancy", "physician"),
        lived_in=Places.of(d.get("lived_in")),
        not_lived_in=Places.of(d.get("not_lived_in")),
        living_in=Places.of(d.get("living_in")),
        min_age=d.get("min_age"),
        min_weight_kg=d.get("min_weight_kg"),
        note=d.get("note"),
    )


def policy_from(destination: str, section: Mapping[str, Any] | None) -> TravelPolicy:
    """A validated `[travel]` table (as RuleFileSchema loads it) as a TravelPolicy."""
    if not section:
        return TravelPolicy(destination, ("en",), {}, {})
    carriers = {
        c["code"]: Carrier(**{k: v for k, v in c.items() if k in Carrier.__dataclass_fields__})
        for c in section["carrier"]
    }
    presumptive = tuple(
        Presumptive(
            id=p["id"],
            kind=p["kind"],
            drugs=tuple(_drug(d) for d in p["drugs"]),
            exam_country=_codes(p.get("exam_country")),
            origin=_codes(p.get("origin")),
            age_from=Period.parse(p["age_from"]) if p.get("age_from") else None,
            age_below=Period.parse(p["age_below"]) if p.get("age_below") else None,
            pregnant=p.get("pregnant"),
            note=p.get("note"),
            lived_in=Places.of(p.get("lived_in")),
            living_in=Places.of(p.get("living_in")),
        )
        for p in section["presumptive"]
    )
    follow_ups = tuple(
        FollowUpRule(f["id"], frozenset(f["outcome"]), f["what"], f["within_days"])
        for f in section["follow_up"]
    )
    return TravelPolicy(
        destination,
        tuple(section["languages"]),
        {c["code"]: c["within_hours"] for c in section["check"]},
        carriers,
        presumptive,
        follow_ups,
    )


def load_policies(directory: Path | str) -> dict[str, TravelPolicy]:
    """Every destination file's `[travel]` table (the files are checked at start-up)."""
    out: dict[str, TravelPolicy] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        if "destination" not in raw.get("meta", {}):
            continue  # a shared table (e.g. tb_incidence.toml), not a destination's file
        data = RuleFileSchema().load(raw)
        destination = data["meta"]["destination"]
        out[destination] = policy_from(destination, data.get("travel"))
    return out


# --- the fitness-to-travel suggestion ------------------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """What a PDMS, PEC or DHC found (None: not measured)."""

    temperature_c: float | None = None
    spo2: int | None = None
    symptoms: tuple[str, ...] = ()
    pregnancy_weeks: int | None = None
    pregnancy_multiple: bool = False
    mobility: str = "none"
    oxygen: bool = False
    mental_state: str = "stable"
    age_days: int | None = None  # on the day of departure


@dataclass(frozen=True)
class Suggestion:
    outcome: str
    reasons: tuple[str, ...] = field(default=())


def worst_fitness(outcomes: Sequence[str]) -> str:
    return max(outcomes, key=FITNESS_ORDER.index) if outcomes else "fit"


def suggest(findings: Findings, carrier: Carrier) -> Suggestion:
    """The outcome the carrier's rules and the findings suggest, with every reason, worst first.

    Sources: BRIEF 5.1 (outcome vocabulary, IOM practice [U]), 5.2 (pregnancy), 5.3 (infectious
    disease, fever, oxygen pre-arranged); the thresholds are the carrier's, from the rule file.
    """
    found: list[tuple[str, str]] = []
    infectious = [s for s in findings.symptoms if s in COMMUNICABLE and s != "fever"]
    if infectious and carrier.infectious_unfit:
        found.append(("unfit", "symptoms of a communicable disease: infectious disease is unfit"))
    if findings.temperature_c is not None and findings.temperature_c >= carrier.fever_celsius:
        found.append(("deferred", f"temperature {carrier.fever_celsius:g} °C or more: re-check"))
    elif "fever" in findings.symptoms:
        found.append(("deferred", "reported fever: re-check before travel"))
    weeks = findings.pregnancy_weeks
    if weeks is not None:
        limit = (
            carrier.pregnancy_multiple_max_weeks
            if findings.pregnancy_multiple
            else carrier.pregnancy_single_max_weeks
        )
        kind = "multiple" if findings.pregnancy_multiple else "single"
        if weeks > limit:
            found.append(("unfit", f"{kind} pregnancy past week {limit}: {carrier.name} refuses"))
        elif weeks >= carrier.pregnancy_certificate_from_weeks:
            found.append(
                (
                    "fit_with_conditions",
                    f"pregnancy of {carrier.pregnancy_certificate_from_weeks} weeks or more: "
                    "fit-to-fly certificate for the carrier",
                )
            )
    if findings.age_days is not None and findings.age_days < carrier.newborn_min_days:
        found.append(("unfit", f"newborn under {carrier.newborn_min_days} days"))
    if findings.mental_state == "acute":
        found.append(("unfit", "acute psychosis or violent behaviour"))
    elif findings.mental_state == "needs_support":
        found.append(("fit_with_medical_escort", "mental state needs a medical escort"))
    if findings.mobility == "stretcher":
        found.append(("fit_with_medical_escort", "stretcher: medical escort and MEDIF"))
    elif findings.mobility == "WCHC":
        found.append(("fit_with_escort", "WCHC: carried to the seat, needs an escort"))
    elif findings.mobility in {"WCHR", "WCHS"}:
        found.append(("fit_with_conditions", f"{findings.mobility} wheelchair"))
    if findings.oxygen:
        medif = " (MEDIF to the carrier)" if carrier.oxygen_needs_medif else ""
        found.append(("fit_with_conditions", f"oxygen pre-arranged{medif}"))
    if not found:
        return Suggestion("fit")
    found.sort(key=lambda f: FITNESS_ORDER.index(f[0]), reverse=True)
    return Suggestion(found[0][0], tuple(r for _, r in found))
