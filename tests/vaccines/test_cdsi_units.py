"""The CDSi engine's pieces: date arithmetic, the grace period, data, observations, bad input."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from pmha.vaccines.cdsi import CdsiInputError, Dose, Patient, forecast
from pmha.vaccines.cdsi.cli import vaccines
from pmha.vaccines.cdsi.data import supporting_data
from pmha.vaccines.cdsi.dates import Offset, add_offset, parse_data_date, parse_offset
from pmha.vaccines.cdsi.group import group_forecast
from pmha.vaccines.cdsi.model import AntigenForecast

# CDSi Logic Specification, chapter 3 (CALCDT): years/months first, then weeks/days; a day
# missing from the target month rolls to the 1st of the next month.
DATE_ROWS = [
    (date(2000, 1, 15), "6 weeks", date(2000, 2, 26)),
    (date(2000, 1, 15), "12 months - 4 days", date(2001, 1, 11)),
    (date(2000, 3, 31), "6 months", date(2000, 10, 1)),
    (date(2000, 1, 31), "1 month", date(2000, 3, 1)),
    (date(2000, 2, 29), "1 year", date(2001, 3, 1)),
    (date(2000, 2, 29), "4 years", date(2004, 2, 29)),
    (date(2000, 12, 31), "2 months", date(2001, 3, 1)),
    (date(2000, 1, 1), "16 months + 4 weeks", date(2001, 5, 29)),
    (date(2000, 1, 1), "4 years - 4 days", date(2003, 12, 28)),
    (date(2000, 5, 31), "5 years - 3 months", date(2005, 3, 1)),
    (date(2000, 1, 1), "0 days", date(2000, 1, 1)),
]


@pytest.mark.parametrize(("start", "text", "expected"), DATE_ROWS)
def test_add_offset(start: date, text: str, expected: date) -> None:
    assert add_offset(start, parse_offset(text)) == expected


def test_parse_offset() -> None:
    assert parse_offset(" 4 weeks - 4 days") == Offset(days=24)
    assert parse_offset("1 year") == Offset(years=1)
    with pytest.raises(ValueError, match="not a CDSi offset"):
        parse_offset("four weeks")
    assert parse_data_date("01/01/1957") == date(1957, 1, 1)
    assert parse_data_date("20250701") == date(2025, 7, 1)


def test_supporting_data_is_parsed_once_into_immutable_structures() -> None:
    data = supporting_data()
    assert supporting_data() is data
    assert data.cvx_codes["3"].description == "MMR"
    assert {a.antigen for a in data.cvx_codes["3"].associations} == {"Measles", "Mumps", "Rubella"}
    assert data.vaccine_groups["MMR"].administer_full_group
    first = data.antigens["Measles"].series[0].doses[0]
    assert first.ages[0].abs_min_age == Offset(months=12, days=-4)  # the 4-day grace period
    with pytest.raises(AttributeError):
        first.dose_number = 2  # type: ignore[misc]


def _mmr_dose_one(given: date) -> str:
    dob = date(2020, 1, 15)
    result = forecast(Patient(dob, "F"), [Dose(given, "03")], [], date(2022, 1, 1))
    return result.group_evaluation(0, ("Measles", "Mumps", "Rubella"))[0]


def test_four_day_grace_period_on_minimum_age() -> None:
    assert _mmr_dose_one(date(2021, 1, 11)) == "Valid"  # 12 months - 4 days
    assert _mmr_dose_one(date(2021, 1, 10)) == "Not Valid"  # 12 months - 5 days


def test_live_virus_conflict() -> None:
    dob = date(2020, 1, 15)
    doses = [Dose(date(2021, 2, 1), "03"), Dose(date(2021, 2, 10), "21")]
    result = forecast(Patient(dob, "M"), doses, [], date(2021, 6, 1))
    assert result.group_evaluation(1, ("Varicella",)) == ("Not Valid", "Live Virus Conflict")


def test_pregnancy_contraindicates_live_vaccines() -> None:
    adult = Patient(date(1995, 6, 1), "F")
    result = forecast(adult, [], ["007"], date(2025, 11, 10))
    assert result.groups["MMR"].status == "Contraindicated"
    assert result.groups["Varicella"].status == "Contraindicated"
    assert result.groups["HepB"].status != "Contraindicated"
    without = forecast(adult, [], [], date(2025, 11, 10))
    assert without.groups["MMR"].status == "Not complete"


def test_immunocompromised_patient_gets_the_risk_series() -> None:
    adult = Patient(date(1990, 6, 1), "M")
    result = forecast(adult, [], ["145"], date(2025, 11, 10))  # 145: HIV infection
    pneumococcal = result.groups["Pneumococcal"].antigens[0]
    assert pneumococcal.series is not None and "immunocompromised" in pneumococcal.series
    assert pneumococcal.status == "Not complete"
    healthy = forecast(adult, [], [], date(2025, 11, 10)).groups["Pneumococcal"].antigens[0]
    assert healthy.series is None or "risk" not in healthy.series.lower()


def test_evidence_of_immunity_by_birth_date_and_lab() -> None:
    old = forecast(Patient(date(1950, 1, 1), "F"), [], [], date(2025, 11, 10))
    assert old.groups["MMR"].status == "Immune"
    lab = forecast(Patient(date(2000, 1, 1), "F"), [], ["023"], date(2025, 11, 10))
    assert lab.groups["Varicella"].status == "Immune"


def test_bad_input_names_every_item() -> None:
    dob = date(2020, 1, 1)
    doses = [
        Dose(date(2019, 12, 1), "03"),
        Dose(None, "08"),
        Dose(date(2021, 1, 1), "nonsense"),
        Dose(date(2030, 1, 1), "08"),
    ]
    with pytest.raises(CdsiInputError) as caught:
        forecast(Patient(dob, "F"), doses, ["not-a-code"], date(2025, 1, 1))
    text = "\n".join(caught.value.problems)
    assert "dose 1" in text and "before the date of birth" in text
    assert "dose 2" in text and "no date" in text
    assert "dose 3" in text and "unknown CVX" in text
    assert "dose 4" in text and "after the assessment date" in text
    assert "'not-a-code'" in text


def test_non_vaccine_cvx_is_left_out_with_a_note() -> None:
    result = forecast(
        Patient(date(2020, 1, 1), "F"), [Dose(date(2021, 1, 1), "998")], [], date(2022, 1, 1)
    )
    assert not result.evaluations
    assert "no vaccine administered" in result.notes[0]


def test_cli_prints_json_and_reports_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    example = Path(__file__).parents[2] / "pmha" / "vaccines" / "cdsi" / "example.json"
    runner = CliRunner()
    ok = runner.invoke(vaccines, ["forecast", str(example)])
    assert ok.exit_code == 0, ok.output
    body = json.loads(ok.output)
    assert {g["vaccine_group"] for g in body["vaccine_groups"]} >= {"MMR", "DTaP/Tdap/Td"}
    conflict = [e for e in body["evaluations"] if e["cvx"] == "21"]
    assert conflict[0]["reason"] == "Live Virus Conflict"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patient": {"dob": "2020-01-01"}, "doses": [{"cvx": "03"}]}))
    failed = runner.invoke(vaccines, ["forecast", str(bad)])
    assert failed.exit_code == 1
    assert "doses" not in failed.output or "no date" in failed.output
    assert "Traceback" not in failed.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "not valid JSON" in runner.invoke(vaccines, ["forecast", str(broken)]).output


# Seasonal doses are numbered within the season (CDC cases 2013-0168, 2016-0012, 2025-0056):
# last season's doses do not count, this season's do.
SEASON_ROWS = [
    ([date(2024, 10, 1), date(2024, 11, 1)], date(2025, 9, 1), 1),  # both last season
    ([date(2024, 12, 1), date(2025, 9, 1)], date(2025, 9, 2), 2),  # one this season, two due
]


@pytest.mark.parametrize(("given", "today", "number"), SEASON_ROWS)
def test_influenza_doses_are_numbered_within_the_season(
    given: list[date], today: date, number: int
) -> None:
    doses = [Dose(day, "150") for day in given]
    result = forecast(Patient(date(2023, 6, 1), "F"), doses, [], today)
    assert result.groups["Influenza"].dose_number == number


def test_a_dose_failing_several_checks_gives_every_reason() -> None:
    # 12 months + 28 days (too young for dose 2) and 27 days after dose 1 (too soon).
    doses = [Dose(date(2025, 10, 14), "21"), Dose(date(2025, 11, 10), "21")]
    result = forecast(Patient(date(2024, 10, 13), "F"), doses, [], date(2025, 11, 10))
    found = result.group_dose(1, ("Varicella",))
    assert found is not None
    assert (found.status, found.reason) == ("Not Valid", "Age: Too Young")
    assert found.reasons == ("Age: Too Young", "Interval: Too Soon")


def test_a_single_antigen_measles_dose_leaves_mmr_dose_one_due() -> None:
    # MMR is given all at once: dose 1 is due for mumps and rubella now, no earlier than the
    # live-virus interval after the measles dose (CDC case 2013-0531).
    dob = date(2024, 11, 10)
    result = forecast(Patient(dob, "F"), [Dose(date(2025, 11, 10), "05")], [], date(2025, 11, 10))
    mmr = result.groups["MMR"]
    assert (mmr.dose_number, mmr.earliest, mmr.recommended) == (
        1,
        date(2025, 12, 10),
        date(2025, 12, 10),
    )


def _antigen_forecast(antigen: str, earliest: date, *, priority: bool) -> AntigenForecast:
    return AntigenForecast(
        antigen,
        f"{antigen} series",
        "Not complete",
        "",
        5,
        earliest,
        earliest,
        None,
        None,
        priority=priority,
    )


def test_multiple_antigen_group_earliest_date_follows_multiantvg_1() -> None:
    dtap = supporting_data().vaccine_groups["DTaP/Tdap/Td"]
    pertussis = date(2018, 6, 5)
    diphtheria = date(2025, 6, 5)
    last_dt = date(2019, 12, 26)
    # A priority forecast (every preferable interval flagged): the earliest of the earliest
    # dates, not before the last dose of a vaccine in the group (a DT counts).
    with_priority = group_forecast(
        dtap,
        [
            _antigen_forecast("Diphtheria", diphtheria, priority=False),
            _antigen_forecast("Pertussis", pertussis, priority=True),
        ],
        last_dt,
    )
    assert with_priority.earliest == last_dt
    assert with_priority.recommended == last_dt
    # No priority forecast: the latest of the earliest dates.
    without = group_forecast(
        dtap,
        [
            _antigen_forecast("Diphtheria", diphtheria, priority=False),
            _antigen_forecast("Pertussis", pertussis, priority=False),
        ],
        last_dt,
    )
    assert without.earliest == diphtheria
