"""The conformance harness scores strictly (issue 16): it tells apart what must differ.

`tests/vaccines/workbook.py` compares each dose's status, reason and series type, the
forecast's status, dose number and dates and series type, and flags any date before birth.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import combinations

import pytest

from pmha.vaccines.cdsi import model
from pmha.vaccines.cdsi.data import supporting_data
from tests.vaccines.workbook import (
    Case,
    ExpectedDose,
    dates_before_birth,
    mismatches,
    normalise,
    run_case,
    series_type,
)

REASONS = [
    model.TOO_YOUNG,
    model.TOO_OLD,
    model.INTERVAL_TOO_SOON,
    model.INADVERTENT,
    model.LIVE_VIRUS_CONFLICT,
    model.SERIES_COMPLETE,
    model.NOT_PREFERABLE_OR_ALLOWABLE,
]

# The reasons exactly as CDC's workbook writes them (v4.45, Evaluation_Reason_n columns).
CDC_WORDING = {
    "Age: Too Young": model.TOO_YOUNG,
    "Age: Too Old": model.TOO_OLD,
    "Interval: too Soon": model.INTERVAL_TOO_SOON,
    "Inadvertent Vaccine": model.INADVERTENT,
    "Live Virus Conflict": model.LIVE_VIRUS_CONFLICT,
    "Series Already Complete": model.SERIES_COMPLETE,
    "Not a preferable or allowable vaccine": model.NOT_PREFERABLE_OR_ALLOWABLE,
}


@pytest.mark.parametrize(("cdc", "ours"), CDC_WORDING.items())
def test_cdc_wording_matches_ours(cdc: str, ours: str) -> None:
    assert normalise(cdc) == normalise(ours)
    assert cdc.casefold() == ours.casefold()  # the same words, only CDC's capitals differ


def test_wording_variants_are_the_same_reason() -> None:
    assert normalise("Interval too soon") == normalise("Interval: too Soon")
    assert normalise(" interval:  TOO soon. ") == normalise(model.INTERVAL_TOO_SOON)


@pytest.mark.parametrize(("a", "b"), list(combinations(REASONS, 2)))
def test_different_reasons_stay_different(a: str, b: str) -> None:
    assert normalise(a) != normalise(b)


DOB = date(2024, 1, 10)
# DTaP dose 1 at 8 weeks (valid), dose 2 three weeks later: old enough, but under the
# absolute minimum interval of 4 weeks - 4 days (DTaP data, dose 2; CDSi 6.5).
CASE = Case(
    case_id="T-1",
    name="harness self-test",
    dob=DOB,
    gender="F",
    doses=(
        ExpectedDose(date(2024, 3, 6), "20", "", "Valid", None),
        ExpectedDose(date(2024, 3, 27), "20", "", "Not Valid", "Interval too soon"),
    ),
    assessment_date=date(2024, 4, 1),
    vaccine_group="DTaP/Tdap/Td",
    series_status="Not complete",
    dose_number=2,
    earliest=None,
    recommended=None,
    past_due=None,
)


def _passing_case() -> Case:
    result = run_case(CASE)
    group = result.groups[CASE.vaccine_group]
    return replace(
        CASE, earliest=group.earliest, recommended=group.recommended, past_due=group.past_due
    )


def test_a_matching_case_passes_with_other_wording() -> None:
    assert mismatches(_passing_case()) == []


def test_another_reason_fails() -> None:
    case = _passing_case()
    wrong = replace(case.doses[1], reason="Age: too young")
    problems = mismatches(replace(case, doses=(case.doses[0], wrong)))
    assert len(problems) == 1 and "expected Not Valid/Age: too young" in problems[0]
    wrong = replace(case.doses[1], status="Extraneous", reason="Interval: too soon")
    assert len(mismatches(replace(case, doses=(case.doses[0], wrong)))) == 1


def test_a_dose_from_a_risk_series_fails_a_standard_expectation() -> None:
    case = _passing_case()
    result = run_case(case)
    risk = next(
        s.name for s in supporting_data().antigens["Pertussis"].series if s.series_type == "Risk"
    )
    assert series_type("Pertussis", risk) == "Risk"
    # Only the pertussis rows are left, so they speak for the doses.
    evaluations = tuple(
        replace(e, series=risk) for e in result.evaluations if e.antigen == "Pertussis"
    )
    problems = mismatches(case, replace(result, evaluations=evaluations))
    assert any("expected a Standard series" in p for p in problems)
    # A case that names no series type is not scored on it.
    untyped = replace(case, doses=tuple(replace(d, series_type=None) for d in case.doses))
    assert mismatches(untyped, replace(result, evaluations=evaluations)) == []


def test_a_forecast_from_a_risk_series_fails_a_standard_expectation() -> None:
    case = _passing_case()
    result = run_case(case)
    group = result.groups[case.vaccine_group]
    risk = next(
        s.name for s in supporting_data().antigens["Pertussis"].series if s.series_type == "Risk"
    )
    antigens = tuple(
        replace(a, series=risk) if a.antigen == "Pertussis" else a for a in group.antigens
    )
    groups = {**result.groups, case.vaccine_group: replace(group, antigens=antigens)}
    problems = mismatches(case, replace(result, groups=groups))
    assert problems == [f"Pertussis forecast: expected a Standard series, got {risk} (Risk)"]


def test_a_date_before_birth_fails() -> None:
    case = _passing_case()
    result = run_case(case)
    group = result.groups["HepB"]
    groups = {**result.groups, "HepB": replace(group, earliest=date(1900, 1, 1))}
    problems = dates_before_birth(replace(result, groups=groups), DOB)
    assert problems == ["HepB earliest 1900-01-01, before birth"]
    assert mismatches(case, replace(result, groups=groups)) == problems


def test_a_case_with_a_medical_history_runs_with_its_observations() -> None:
    # Observation 007 (pregnant) contraindicates MMR (ScheduleSupportingData, MMR group).
    adult = replace(
        CASE,
        dob=date(1995, 6, 1),
        doses=(),
        assessment_date=date(2025, 6, 1),
        vaccine_group="MMR",
        series_type=None,
        observations=("007",),
    )
    assert run_case(adult).groups["MMR"].status == "Contraindicated"
    assert run_case(replace(adult, observations=())).groups["MMR"].status == "Not complete"
