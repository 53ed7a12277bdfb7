"""The vaccination part of `pmha rules evaluate FACTS.json`: the CDSi forecast, the destination's
requirements and the vaccination outcome for the applicant of a facts file (pure; no database).

The facts may carry an optional history:

    "vaccinations": {
      "doses": [{"cvx": "03", "date": "2020-05-01"}, {"vaccine": "Tdap", "date": "2019-01-10"}],
      "refused": {"Pneumococcal": "2025-11-20"},
      "waivers": {"Pneumococcal": "religious_or_moral_waiver"}
    }

A dose names its CVX code, or one of the common names in DOSE_NAMES. `refused` maps a rule-file
vaccine (pmha.rules.vocabulary.VACCINES) to the day the applicant refused it; `waivers` maps one to
a waiver granted by the authority (the destination's individual waiver). Blanket waivers are never
given: the engine derives them. A refusal is never a waiver.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pmha.rules import vocabulary as vocab
from pmha.rules.facts import Facts, FactsError
from pmha.rules.model import RuleSet
from pmha.rules.plan import Plan
from pmha.vaccines.cdsi.engine import forecast
from pmha.vaccines.cdsi.model import CdsiInputError, Dose, Observation, Patient
from pmha.vaccines.outcome import season_note, vaccination_outcome
from pmha.vaccines.requirements import RequirementsError, requirements

PREGNANT = "007"  # CDSi observation "Pregnant"
_SEX = {"female": "F", "male": "M"}
# Common names a facts file may give instead of a CVX code (CDC CVX [S36]).
DOSE_NAMES = {
    "MMR": "03",
    "MMRV": "94",
    "Varicella": "21",
    "Tdap": "115",
    "Td": "139",
    "DTaP": "20",
    "IPV": "10",
    "Hib": "17",
    "HepA": "85",
    "HepB": "45",
    "Influenza": "141",
    "PCV20": "216",
    "MenACWY": "114",
    "Rotavirus": "122",
}
_FIELDS = frozenset({"doses", "refused", "waivers"})


def parse_history(
    raw: Any,
) -> tuple[list[Dose], dict[str, date], dict[str, str]]:
    """The doses, refusals and waivers of a facts file's `vaccinations`; FactsError naming each
    bad field."""
    errors: dict[str, list[str]] = {}
    if raw is None:
        return [], {}, {}
    if not isinstance(raw, dict):
        raise FactsError({"vaccinations": ["Must be an object with doses, refused, waivers."]})
    for key in sorted(set(raw) - _FIELDS):
        errors.setdefault(f"vaccinations.{key}", []).append("Unknown field.")
    doses: list[Dose] = []
    for i, row in enumerate(raw.get("doses") or []):
        where = f"vaccinations.doses[{i}]"
        if not isinstance(row, dict):
            errors.setdefault(where, []).append("Must be an object with cvx (or vaccine), date.")
            continue
        cvx = row.get("cvx") or DOSE_NAMES.get(str(row.get("vaccine")))
        if not cvx:
            errors.setdefault(where, []).append(
                f"Give cvx, or vaccine as one of {', '.join(sorted(DOSE_NAMES))}."
            )
        day = _day(row.get("date"), f"{where}.date", errors)
        if cvx and day:
            doses.append(Dose(day, str(cvx)))
    refused: dict[str, date] = {}
    for name, value in (raw.get("refused") or {}).items():
        where = f"vaccinations.refused.{name}"
        if name not in vocab.VACCINES:
            errors.setdefault(where, []).append("Not a vaccine of the rule files.")
        day = _day(value, where, errors)
        if day:
            refused[name] = day
    waivers: dict[str, str] = {}
    for name, reason in (raw.get("waivers") or {}).items():
        where = f"vaccinations.waivers.{name}"
        if name not in vocab.VACCINES:
            errors.setdefault(where, []).append("Not a vaccine of the rule files.")
        elif reason not in vocab.VACCINE_WAIVER_REASONS:
            errors.setdefault(where, []).append(
                "Not a waiver (a refusal goes under refused; blanket waivers are derived)."
            )
        else:
            waivers[name] = reason
    if errors:
        raise FactsError(errors)
    return doses, refused, waivers


def _day(value: Any, where: str, errors: dict[str, list[str]]) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(where, []).append("Not a date (YYYY-MM-DD).")
        return None


def vaccination_report(
    plan: Plan, facts: Facts, ruleset: RuleSet, history: Any
) -> dict[str, Any] | None:
    """The vaccination outcome of the plan's applicant as JSON-ready data (None when the
    destination lists no vaccine and no history is given); FactsError for a bad history. The
    forecast and the requirements are judged on the exam date."""
    doses, refused, waivers = parse_history(history)
    if not plan.vaccines and history is None:
        return None
    observations: list[str | Observation] = []
    if facts.pregnant:
        # Dated from its estimated onset when the gestation is known (pertussis and RSV in
        # pregnancy count from it); the plain code otherwise, never lost.
        weeks = facts.gestation_weeks
        onset = None if weeks is None else facts.exam_date - timedelta(weeks=weeks)
        dated = onset is not None and onset >= facts.dob
        observations.append(Observation(PREGNANT, begin=onset) if dated else PREGNANT)
    try:
        found = forecast(
            Patient(facts.dob, _SEX.get(facts.sex, "U")), doses, observations, facts.exam_date
        )
        reqs = requirements(
            plan.vaccines,
            found,
            facts.exam_country,
            facts.exam_date,
            waivers=waivers,
            refusals=refused,
            season=ruleset.flu_season(facts.exam_country),
            past_forecast_age=ruleset.vaccination.past_forecast_age if ruleset.vaccination else (),
        )
    except (CdsiInputError, RequirementsError) as exc:
        raise FactsError({"vaccinations": [str(exc)]}) from None
    result = vaccination_outcome(reqs, ruleset.vaccination)
    out = result.to_dict()
    for row, req in zip(out["vaccines"], reqs, strict=True):  # type: ignore[call-overload]
        row["why"] = req.reason.detail
        row["sources"] = list(req.reason.source)
        note = season_note(req)
        if note:
            row["note"] = note
    rows: list[dict[str, Any]] = out["vaccines"]  # type: ignore[assignment]
    out["blanket_waivers"] = [
        {key: row[key] for key in ("vaccine", "waiver", "words", "why")}
        for row in rows
        if row["state"] == "blanket_waiver"
    ]
    return out
