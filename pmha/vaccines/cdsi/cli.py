"""`vaccines forecast INPUT.json`: evaluate a history and print the forecast as JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from pmha.vaccines.cdsi.engine import forecast
from pmha.vaccines.cdsi.model import CdsiInputError, Dose, Observation, Patient


def _date(value: Any, where: str, problems: list[str]) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date (use YYYY-MM-DD)")
        return None


def _observation(raw: Any, where: str, problems: list[str]) -> str | Observation | None:
    """A code ("007"), or {"code", "begin", "end"} with optional ISO dates."""
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return str(raw)
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a code or an object with code, begin and end")
        return None
    code = raw.get("code")
    if not isinstance(code, (str, int)) or isinstance(code, bool) or not str(code).strip():
        problems.append(f"{where}.code: required, a CDSi observation code")
        return None
    unknown = sorted(set(raw) - {"code", "begin", "end"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    begin = _date(raw.get("begin"), f"{where}.begin", problems)
    end = _date(raw.get("end"), f"{where}.end", problems)
    if begin is not None and end is not None and end < begin:
        problems.append(f"{where}.end: {end} is before its begin date {begin}")
        return None
    return Observation(str(code), begin, end)


def parse_input(
    payload: Any,
) -> tuple[Patient, list[Dose], list[str | Observation], date | None]:
    """Read the documented input format; raise CdsiInputError naming every bad field."""
    problems: list[str] = []
    if not isinstance(payload, dict):
        raise CdsiInputError(["the input must be a JSON object"])
    patient = payload.get("patient")
    if not isinstance(patient, dict):
        raise CdsiInputError(["patient: required, an object with dob and gender"])
    dob = _date(patient.get("dob"), "patient.dob", problems)
    if dob is None and "patient.dob" not in " ".join(problems):
        problems.append("patient.dob: required")
    doses: list[Dose] = []
    raw_doses = payload.get("doses", [])
    if not isinstance(raw_doses, list):
        problems.append("doses: must be a list")
        raw_doses = []
    for n, raw in enumerate(raw_doses, start=1):
        if not isinstance(raw, dict):
            problems.append(f"doses[{n}]: must be an object with date and cvx")
            continue
        given = _date(raw.get("date"), f"doses[{n}].date", problems)
        doses.append(
            Dose(
                date=given,
                cvx=str(raw.get("cvx") or ""),
                mvx=None if raw.get("mvx") in (None, "") else str(raw["mvx"]),
                sub_standard=bool(raw.get("sub_standard", False)),
            )
        )
    raw_observations = payload.get("observations", [])
    if not isinstance(raw_observations, list):
        problems.append("observations: must be a list of codes or {code, begin, end} objects")
        raw_observations = []
    observations: list[str | Observation] = []
    for n, raw in enumerate(raw_observations, start=1):
        found = _observation(raw, f"observations[{n}]", problems)
        if found is None:
            continue
        begin = found.begin if isinstance(found, Observation) else None
        if begin is not None and dob is not None and begin < dob:
            problems.append(f"observations[{n}].begin: {begin} is before the date of birth {dob}")
        observations.append(found)
    assessed = _date(payload.get("assessment_date"), "assessment_date", problems)
    if problems or dob is None:
        raise CdsiInputError(problems)
    gender = str(patient.get("gender") or "U")
    country = patient.get("birth_country")
    return (
        Patient(dob, gender, None if country is None else str(country)),
        doses,
        observations,
        assessed,
    )


@click.group()
def vaccines() -> None:
    """Immunization evaluation and forecasting (CDC CDSi)."""


@vaccines.command("forecast")
@click.argument("input_file", metavar="INPUT.json", type=click.File("r", encoding="utf-8"))
def forecast_command(input_file: Any) -> None:
    """Evaluate the doses in INPUT.json and print the evaluation and forecast as JSON."""
    try:
        payload = json.load(input_file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"INPUT.json is not valid JSON: {exc}") from None
    try:
        result = forecast(*parse_input(payload))
    except CdsiInputError as exc:
        raise click.ClickException("bad input:\n  " + "\n  ".join(exc.problems)) from None
    click.echo(json.dumps(result.to_json(), indent=2))
