"""Read CDC's CDSi healthy test cases (v4.45 workbook) and compare a case with the engine.

The comparison is strict: every dose's evaluation status, its reason and the type of the
series that evaluated it; the forecast's status, dose number, earliest, recommended and
past-due dates and the type of the series behind it; and no date before the patient's birth
anywhere in the output. Wording is compared after `normalise` (case, punctuation, spacing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from pmha.vaccines.cdsi import CdsiInputError, Dose, Patient, forecast

WORKBOOK = Path(__file__).parent / "data" / "cdsi-healthy-childhood-and-adult-test-cases-v4.45.xlsx"
SHEET = "FITS Exported TestCases"

# CDC's healthy cases give no medical history (the workbook's Med_History columns are "always
# empty"), so no risk series can be relevant: every dose and every forecast comes from a
# standard series. A case with a medical history (observation codes in Med_History_Code, as a
# workbook of cases with underlying conditions may give) is not scored on a series type it does
# not state.
HEALTHY_SERIES_TYPE = "Standard"

# The workbook's vaccine group codes -> the supporting data's vaccine group names.
GROUPS = {
    "DTAP": "DTaP/Tdap/Td",
    "POL": "Polio",
    "HPV": "HPV",
    "HIB": "Hib",
    "COVID-19": "COVID-19",
    "PCV": "Pneumococcal",
    "HepB": "HepB",
    "MMR": "MMR",
    "VAR": "Varicella",
    "ROTA": "Rotavirus",
    "MCV": "Meningococcal",
    "MENB": "Meningococcal B",
    "ZOSTER": "Zoster",
    "FLU": "Influenza",
    "HepA": "HepA",
    "RSV": "RSV",
}


@dataclass(frozen=True)
class ExpectedDose:
    date: date
    cvx: str
    mvx: str
    status: str
    reason: str | None
    series_type: str | None = HEALTHY_SERIES_TYPE  # None: the case does not say


@dataclass(frozen=True)
class Case:
    case_id: str
    name: str
    dob: date
    gender: str
    doses: tuple[ExpectedDose, ...]
    assessment_date: date
    vaccine_group: str
    series_status: str
    dose_number: int | None
    earliest: date | None
    recommended: date | None
    past_due: date | None
    series_type: str | None = HEALTHY_SERIES_TYPE  # of the forecast; None: not said
    observations: tuple[str, ...] = ()  # CDSi observation codes (the medical history)


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _required_day(value: Any) -> date:
    found = _day(value)
    assert found is not None, value
    return found


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def load_cases(path: Path = WORKBOOK) -> list[Case]:
    """Every case in the workbook, in workbook order."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(book[SHEET].iter_rows(values_only=True))
    finally:
        book.close()
    header = [_text(h) for h in rows[0]]
    cases = []
    for raw in rows[1:]:
        row = dict(zip(header, raw, strict=False))
        if not _text(row.get("CDC_Test_ID")):
            continue
        observations = tuple(re.split(r"[\s,;|]+", _text(row.get("Med_History_Code"))))
        observations = tuple(code for code in observations if code)
        kind = None if observations else HEALTHY_SERIES_TYPE
        doses = []
        for n in range(1, 8):
            given = _day(row.get(f"Date_Administered_{n}"))
            if given is None:
                continue
            doses.append(
                ExpectedDose(
                    date=given,
                    cvx=_text(row[f"CVX_{n}"]),
                    mvx=_text(row[f"MVX_{n}"]),
                    status=_text(row[f"Evaluation_Status_{n}"]),
                    reason=_text(row[f"Evaluation_Reason_{n}"]) or None,
                    series_type=kind,
                )
            )
        number = _text(row.get("Forecast_#"))
        cases.append(
            Case(
                case_id=_text(row["CDC_Test_ID"]),
                name=_text(row["Test_Case_Name"]),
                dob=_required_day(row["DOB"]),
                gender=_text(row["gender"]) or "U",
                doses=tuple(doses),
                assessment_date=_required_day(row["Assessment_Date"]),
                vaccine_group=GROUPS[_text(row["Vaccine_Group"])],
                series_status=_text(row["Series_Status"]),
                dose_number=int(number) if number.isdigit() else None,  # "-": none due
                earliest=_day(row.get("Earliest_Date")),
                recommended=_day(row.get("Recommended_Date")),
                past_due=_day(row.get("Past_Due_Date")),
                series_type=kind,
                observations=observations,
            )
        )
    return cases


def run_case(case: Case) -> Any:
    """The engine's answer for a case (a Forecast), or the CdsiInputError it raised."""
    try:
        return forecast(
            Patient(case.dob, case.gender),
            [Dose(d.date, d.cvx, d.mvx or None) for d in case.doses],
            case.observations,
            case.assessment_date,
        )
    except CdsiInputError as exc:
        return exc


_PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalise(text: str | None) -> str:
    """Wording without case, punctuation or extra spaces: CDC's "Interval: too Soon" and
    "Interval too soon" are the same reason; "Age: Too Old" and "Age: Too Young" stay apart."""
    return " ".join(_PUNCTUATION.sub(" ", (text or "").casefold()).split())


def _same(expected: str | None, actual: str | None) -> bool:
    return normalise(expected) == normalise(actual)


def series_type(antigen: str, series: str | None) -> str | None:
    """The type (Standard, Risk, Evaluation Only) of an antigen's series, by its name."""
    from pmha.vaccines.cdsi.data import supporting_data

    if series is None:
        return None
    found = (s for s in supporting_data().antigens[antigen].series if s.name == series)
    return next((s.series_type for s in found), None)


def dates_before_birth(result: Any, dob: date) -> list[str]:
    """Every date in the engine's output that precedes the date of birth, one line each."""
    problems = [
        f"dose {e.dose_index + 1} ({e.antigen}) dated {e.date}, before birth"
        for e in result.evaluations
        if e.date < dob
    ]
    fields = ("earliest", "recommended", "past_due", "latest")
    for group in result.groups.values():
        for row in (group, *group.antigens):
            label = getattr(row, "antigen", group.vaccine_group)
            for name in fields:
                value = getattr(row, name)
                if value is not None and value < dob:
                    problems.append(f"{label} {name.replace('_', ' ')} {value}, before birth")
    return problems


def mismatches(case: Case, result: Any | None = None) -> list[str]:
    """Differences between the expected and actual answers, one line each; [] when it passes."""
    result = run_case(case) if result is None else result
    if isinstance(result, CdsiInputError):
        return [f"input rejected: {result}"]
    from pmha.vaccines.cdsi.data import supporting_data

    antigens = supporting_data().vaccine_groups[case.vaccine_group].antigens
    problems = []
    for index, dose in enumerate(case.doses):
        found = result.group_dose(index, antigens)
        status = "Not evaluated" if found is None else found.status
        # A Not Valid dose may fail several checks at once (too young AND too soon): the
        # specification gives every reason, CDC's row names one of them, which must be ours.
        reasons = () if found is None else (found.reasons or (found.reason,))
        reason_ok = not dose.reason or any(_same(dose.reason, r) for r in reasons)
        if not _same(dose.status, status) or not reason_ok:
            got = "; ".join(r for r in reasons if r) or None
            problems.append(
                f"dose {index + 1} ({dose.date}, CVX {dose.cvx}): expected "
                f"{dose.status}/{dose.reason}, got {status}/{got}"
            )
        kind = None if found is None else series_type(found.antigen, found.series)
        if dose.series_type and found is not None and found.series and kind != dose.series_type:
            problems.append(
                f"dose {index + 1} ({dose.date}, CVX {dose.cvx}): expected a "
                f"{dose.series_type} series, got {found.series} ({kind})"
            )
    group = result.groups[case.vaccine_group]
    actual = {
        "series status": group.status,
        "forecast dose": group.dose_number,
        "earliest": group.earliest,
        "recommended": group.recommended,
        "past due": group.past_due,
    }
    expected = {
        "series status": case.series_status,
        "forecast dose": case.dose_number,
        "earliest": case.earliest,
        "recommended": case.recommended,
        "past due": case.past_due,
    }
    for key, want in expected.items():
        got = actual[key]
        same = _same(want, got) if isinstance(want, str) else want == got
        if not same:
            problems.append(f"{key}: expected {want}, got {got}")
    if case.series_type:
        for forecast in group.antigens:
            kind = series_type(forecast.antigen, forecast.series)
            if forecast.series and kind != case.series_type:
                problems.append(
                    f"{forecast.antigen} forecast: expected a {case.series_type} series, "
                    f"got {forecast.series} ({kind})"
                )
    problems += dates_before_birth(result, case.dob)
    return problems
