"""Patient observations with dates in the CDSi engine (issue 16).

An observation is a CDSi observation code (ScheduleSupportingData.xml) with optional begin and
end dates, both days included (`Observation(code, begin, end)`); a plain code is known on every
date, as before. Three behaviours, each at its boundaries (the day before begin, on begin, on
end, the day after end), from CDC's supporting data v4.64 (pmha/vaccines/cdsi/data/):

- a risk series' indication applies only while its observation is active on the assessment
  date (CDSi Logic Specification, "select relevant patient series");
- a contraindication applies to the forecast only while its observation is active;
- an interval "from an observation" (`fromRelevantObs`) counts from the observation's begin
  date, in evaluation and in the forecast (170 "Onset of pregnancy" is the begin of 007
  "Pregnant"; 171 "Date of hematopoietic stem cell transplant", the begin of 004).

And the CLI's input: observations as codes or {"code", "begin", "end"}, bad dates named.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmha.vaccines.cdsi import CdsiInputError, Dose, Observation, Patient, forecast
from pmha.vaccines.cdsi.cli import parse_input, vaccines
from pmha.vaccines.cdsi.model import AntigenForecast, Forecast
from pmha.workflow.commands import FactsUpdate

WOMAN = Patient(date(1996, 6, 15), "F")
BEGIN, END = date(2026, 5, 1), date(2027, 1, 20)
PREGNANCY = Observation("007", BEGIN, END)
DAY_BEFORE, DAY_AFTER = date(2026, 4, 30), date(2027, 1, 21)
# A complete childhood pertussis history (DTaP at 2, 4, 6, 15 months and 5 years, Tdap at 11):
# the standard series is complete, so the pregnancy's risk series is the one followed.
CHILDHOOD = [
    Dose(date(1996, 8, 15), "20"),
    Dose(date(1996, 10, 15), "20"),
    Dose(date(1996, 12, 15), "20"),
    Dose(date(1997, 9, 15), "20"),
    Dose(date(2001, 6, 15), "20"),
    Dose(date(2007, 6, 15), "115"),
]


def _antigen(result: Forecast, name: str) -> AntigenForecast:
    return next(a for g in result.groups.values() for a in g.antigens if a.antigen == name)


# --- Indications that start and stop --------------------------------------------------------
# AntigenSupportingData-Pertussis-508.xml, 'Pertussis risk 1-dose series': indication 007
# (Pregnant), no begin or end age, required gender Female or Unknown.


@pytest.mark.parametrize(
    ("today", "risk"),
    [(DAY_BEFORE, False), (BEGIN, True), (END, True), (DAY_AFTER, False)],
    ids=["day-before-begin", "on-begin", "on-end", "day-after-end"],
)
def test_a_risk_series_applies_only_while_its_indication_is_active(today: date, risk: bool) -> None:
    """Pertussis risk 1-dose series (indication 007) is relevant on the assessment date only
    within the pregnancy's begin and end dates."""
    pertussis = _antigen(forecast(WOMAN, [], [PREGNANCY], today), "Pertussis")
    assert (pertussis.series == "Pertussis risk 1-dose series") is risk
    assert (pertussis.series_type == "Risk") is risk
    if risk:  # the why, in words, names the period
        assert pertussis.why.endswith("because of: Pregnant (from 2026-05-01 until 2027-01-20).")


def test_a_plain_code_is_known_on_every_date() -> None:
    """A code without dates applies on the assessment date, as before observations had dates."""
    for today in (DAY_BEFORE, DAY_AFTER):
        pertussis = _antigen(forecast(WOMAN, [], ["007"], today), "Pertussis")
        assert pertussis.series == "Pertussis risk 1-dose series"
        assert pertussis.why.endswith("because of: Pregnant.")


def test_an_open_ended_observation_holds_from_its_begin() -> None:
    """Recipient of a stem-cell transplant (004) from 10 March 2025, no end: 'Hib risk 3-dose
    series' (AntigenSupportingData-Hib-508.xml, indication 004 from 6 weeks) from that day."""
    transplant = Observation("004", date(2025, 3, 10))
    before = _antigen(forecast(WOMAN, [], [transplant], date(2025, 3, 9)), "Hib")
    assert before.series != "Hib risk 3-dose series"
    on = _antigen(forecast(WOMAN, [], [transplant], date(2025, 3, 10)), "Hib")
    assert on.series == "Hib risk 3-dose series"
    years_on = _antigen(forecast(WOMAN, [], [transplant], date(2030, 3, 10)), "Hib")
    assert years_on.series == "Hib risk 3-dose series"


# --- Contraindications for a period ---------------------------------------------------------
# AntigenSupportingData-Measles-508.xml (and Mumps, Rubella, Varicella): vaccine group
# contraindication 007 "Pregnant", "Do not vaccinate if the patient is pregnant", no begin or
# end age.


@pytest.mark.parametrize(
    ("today", "contraindicated"),
    [(DAY_BEFORE, False), (BEGIN, True), (END, True), (DAY_AFTER, False)],
    ids=["day-before-begin", "on-begin", "on-end", "day-after-end"],
)
def test_pregnancy_contraindicates_live_vaccines_only_while_pregnant(
    today: date, contraindicated: bool
) -> None:
    """MMR and varicella are contraindicated only within the pregnancy's dates, and the reason
    says until when."""
    result = forecast(WOMAN, [], [PREGNANCY], today)
    for group in ("MMR", "Varicella"):
        assert (result.groups[group].status == "Contraindicated") is contraindicated, group
        if contraindicated:
            assert result.groups[group].reason.endswith("until 2027-01-20"), group
    if not contraindicated:
        assert result.groups["MMR"].status == "Not complete"


def test_a_contraindication_without_an_end_says_no_end() -> None:
    """A plain code or an open pregnancy: contraindicated, with no 'until'."""
    for observation in ("007", Observation("007", BEGIN)):
        mmr = forecast(WOMAN, [], [observation], END).groups["MMR"]
        assert (mmr.status, mmr.reason) == ("Contraindicated", "Patient has a contraindication")


def test_a_past_pregnancy_does_not_contraindicate_and_a_current_one_does() -> None:
    """Two pregnancies of code 007: the one active on the assessment date decides."""
    past = Observation("007", date(2022, 1, 1), date(2022, 9, 30))
    assert forecast(WOMAN, [], [past], BEGIN).groups["MMR"].status == "Not complete"
    both = forecast(WOMAN, [], [past, PREGNANCY], BEGIN)
    assert both.groups["MMR"].status == "Contraindicated"


# --- Intervals from an observation ----------------------------------------------------------


def test_pertussis_in_pregnancy_counts_from_the_onset() -> None:
    """'Pertussis risk 1-dose series' dose 1: interval from 170 "Onset of pregnancy" (the begin
    of 007): minimum and earliest recommended 27 weeks (1 May 2026 + 189 days = 6 November
    2026), latest recommended 36 weeks (8 January 2027; past due the day before)."""
    pertussis = _antigen(forecast(WOMAN, CHILDHOOD, [PREGNANCY], date(2026, 12, 1)), "Pertussis")
    assert pertussis.series == "Pertussis risk 1-dose series"
    assert pertussis.dose_number == 1
    assert (pertussis.earliest, pertussis.recommended, pertussis.past_due) == (
        date(2026, 11, 6),
        date(2026, 11, 6),
        date(2027, 1, 7),
    )


def test_a_past_pregnancy_does_not_date_the_current_one() -> None:
    """A pregnancy that ended in 2022 and a current one given as a plain code: the 27 weeks
    do not count from the past onset (dose 1 is due now, dated by its age rows only); with
    the current pregnancy dated, they count from its onset."""
    past = Observation("007", date(2021, 10, 1), date(2022, 6, 30))
    today = date(2026, 12, 1)
    plain = _antigen(forecast(WOMAN, [], [past, "007"], today), "Pertussis")
    assert plain.series == "Pertussis risk 1-dose series"
    assert plain.earliest is not None and plain.earliest < date(2022, 4, 8)  # not past + 27 w
    dated = _antigen(forecast(WOMAN, CHILDHOOD, [past, PREGNANCY], today), "Pertussis")
    assert dated.earliest == date(2026, 11, 6)


def test_onset_of_pregnancy_may_be_given_as_its_own_observation() -> None:
    """170 "Onset of pregnancy" given with a plain 007 gives the same dates."""
    onset: list[str | Observation] = [Observation("170", BEGIN), "007"]
    pertussis = _antigen(forecast(WOMAN, CHILDHOOD, onset, date(2026, 12, 1)), "Pertussis")
    assert pertussis.earliest == date(2026, 11, 6)


def test_pertussis_dose_before_the_onset_is_too_soon_on_the_onset_it_counts() -> None:
    """Dose 1's absolute minimum interval from the onset is 0 days: Tdap the day before the
    pregnancy began is not valid for it (Interval: Too Soon) and dose 1 is still due; Tdap on
    the day it began completes the risk series (the group is complete)."""
    today = date(2026, 12, 1)
    before = forecast(WOMAN, [*CHILDHOOD, Dose(DAY_BEFORE, "115")], [PREGNANCY], today)
    pertussis = _antigen(before, "Pertussis")
    assert pertussis.series == "Pertussis risk 1-dose series"
    assert pertussis.dose_number == 1
    row = next(e for e in before.evaluations if e.date == DAY_BEFORE and e.antigen == "Pertussis")
    assert (row.status, row.reason) == ("Not Valid", "Interval: Too Soon")
    on = forecast(WOMAN, [*CHILDHOOD, Dose(BEGIN, "115")], [PREGNANCY], today)
    assert _antigen(on, "Pertussis").status == "Complete"


def test_hib_after_a_stem_cell_transplant_counts_from_the_transplant() -> None:
    """AntigenSupportingData-Hib-508.xml, 'Hib risk 3-dose series' dose 1: interval from 171
    "Date of hematopoietic stem cell transplant" (the begin of 004): absolute minimum 0 days,
    minimum and earliest recommended 6 months, latest recommended 12 months. Transplant on 10
    March 2025: dose 1 from 10 September 2025, past due from 9 March 2026."""
    transplant = Observation("004", date(2025, 3, 10))
    hib = _antigen(forecast(WOMAN, [], [transplant], date(2025, 6, 1)), "Hib")
    assert (hib.series, hib.dose_number) == ("Hib risk 3-dose series", 1)
    assert (hib.earliest, hib.recommended, hib.past_due) == (
        date(2025, 9, 10),
        date(2025, 9, 10),
        date(2026, 3, 9),
    )
    doses = [Dose(date(2025, 3, 9), "48"), Dose(date(2025, 3, 10), "48")]
    result = forecast(WOMAN, doses, [transplant], date(2025, 6, 1))
    rows = [e for e in result.evaluations if e.antigen == "Hib"]
    assert [(e.date, e.status, e.reason) for e in rows] == [
        (date(2025, 3, 9), "Not Valid", "Interval: Too Soon"),
        (date(2025, 3, 10), "Valid", None),
    ]


def test_rsv_in_pregnancy_counts_from_the_onset() -> None:
    """AntigenSupportingData-RSV-508.xml, 'RSV risk pregnant 1-dose series' dose 1: interval
    from 170 "Onset of pregnancy": minimum and earliest recommended 32 weeks, latest
    recommended 37 weeks; season from 1 October 2025. Onset 1 March 2025: earliest and
    recommended 11 October 2025, past due from 14 November 2025."""
    onset = Observation("007", date(2025, 3, 1))
    rsv = _antigen(forecast(WOMAN, [], [onset], date(2025, 11, 1)), "RSV")
    assert rsv.series == "RSV risk pregnant 1-dose series"
    assert (rsv.earliest, rsv.recommended, rsv.past_due) == (
        date(2025, 10, 11),
        date(2025, 10, 11),
        date(2025, 11, 14),
    )


def test_mmr_after_antiretroviral_therapy_counts_from_its_begin() -> None:
    """AntigenSupportingData-Measles-508.xml (and Mumps, Rubella), 'Measles risk 2-dose ART
    series': indication 026 (perinatal HIV, vaccinated with MMR before ART), dose 1 interval
    from 120 "Begin Date of antiviral therapy [ART]": absolute minimum 0 days, minimum and
    earliest recommended 6 months. A child with the routine two doses (the standard series
    complete), ART from 1 March 2018: MMR given before it does not count (Interval: Too
    Soon, the second dose the day before) and dose 1 is due from 1 September 2018; MMR on
    the day ART began counts (0 days) and dose 2 is due."""
    child, art = Patient(date(2015, 1, 1), "M"), date(2018, 3, 1)
    observations: list[str | Observation] = ["026", Observation("120", art)]
    today = date(2018, 6, 1)
    first = Dose(date(2016, 1, 1), "03")
    before = forecast(child, [first, Dose(date(2018, 2, 28), "03")], observations, today)
    measles = _antigen(before, "Measles")
    assert (measles.series, measles.dose_number) == ("Measles risk 2-dose ART series", 1)
    assert (measles.earliest, measles.recommended) == (date(2018, 9, 1), date(2018, 9, 1))
    rows = [(e.status, e.reason) for e in before.evaluations if e.antigen == "Measles"]
    assert rows == [("Not Valid", "Interval: Too Soon")] * 2
    on = forecast(child, [first, Dose(art, "03")], observations, today)
    rows = [(e.status, e.reason) for e in on.evaluations if e.antigen == "Measles"]
    assert rows == [("Not Valid", "Interval: Too Soon"), ("Valid", None)]
    assert _antigen(on, "Measles").series == "Measles risk 2-dose ART series"


def test_an_interval_from_an_observation_without_a_date_does_not_apply() -> None:
    """A plain 007: no onset is known, so the 27 weeks cannot be counted (as before dates):
    dose 1 is due, dated by its age rows only."""
    pertussis = _antigen(forecast(WOMAN, [], ["007"], date(2026, 12, 1)), "Pertussis")
    assert (pertussis.series, pertussis.dose_number) == ("Pertussis risk 1-dose series", 1)
    assert pertussis.earliest is not None and pertussis.earliest < BEGIN


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observation", "words"),
    [
        (Observation("007", date(1990, 1, 1)), "begins (1990-01-01) before the date of birth"),
        (Observation("007", END, BEGIN), "ends (2026-05-01) before it begins (2027-01-20)"),
        (Observation("007", "2026-05-01"), "begin '2026-05-01' is not a date"),  # type: ignore[arg-type]
        (Observation("nope", BEGIN), "'nope': unknown observation code"),
    ],
)
def test_the_engine_names_a_bad_observation(observation: Observation, words: str) -> None:
    with pytest.raises(CdsiInputError) as raised:
        forecast(WOMAN, [], [observation], date(2026, 12, 1))
    assert any(words in problem for problem in raised.value.problems), raised.value.problems


def test_a_date_and_time_is_read_as_its_day() -> None:
    from datetime import datetime

    timed = Observation("007", datetime(2026, 5, 1, 9, 30))
    pertussis = _antigen(forecast(WOMAN, CHILDHOOD, [timed], date(2026, 12, 1)), "Pertussis")
    assert pertussis.earliest == date(2026, 11, 6)


def _payload(*observations: Any) -> dict[str, Any]:
    return {
        "patient": {"dob": "1996-06-15", "gender": "F"},
        "assessment_date": "2026-12-01",
        "observations": list(observations),
    }


def test_cli_reads_codes_and_dated_observations() -> None:
    _, _, observations, _ = parse_input(
        _payload("003", {"code": "007", "begin": "2026-05-01", "end": "2027-01-20"})
    )
    assert observations == ["003", PREGNANCY]


@pytest.mark.parametrize(
    ("observation", "words"),
    [
        (
            {"code": "007", "begin": "2026-13-01"},
            "observations[1].begin: '2026-13-01' is not a date (use YYYY-MM-DD)",
        ),
        ({"code": "007", "end": "soon"}, "observations[1].end: 'soon' is not a date"),
        (
            {"code": "007", "begin": "2027-01-20", "end": "2026-05-01"},
            "observations[1].end: 2026-05-01 is before its begin date 2027-01-20",
        ),
        (
            {"code": "007", "begin": "1990-01-01"},
            "observations[1].begin: 1990-01-01 is before the date of birth 1996-06-15",
        ),
        ({"begin": "2026-05-01"}, "observations[1].code: required"),
        ({"code": "007", "start": "2026-05-01"}, "observations[1]: unknown field(s) start"),
        (["007"], "observations[1]: must be a code or an object with code, begin and end"),
    ],
)
def test_cli_names_the_field_of_a_bad_observation(observation: Any, words: str) -> None:
    with pytest.raises(CdsiInputError) as raised:
        parse_input(_payload(observation))
    assert any(words in problem for problem in raised.value.problems), raised.value.problems


def test_cli_prints_a_forecast_from_dated_observations_and_reports_bad_ones(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_payload({"code": "007", "begin": "2026-05-01"})))
    ok = runner.invoke(vaccines, ["forecast", str(good)])
    assert ok.exit_code == 0, ok.output
    groups = {g["vaccine_group"]: g for g in json.loads(ok.output)["vaccine_groups"]}
    assert groups["MMR"]["status"] == "Contraindicated"
    tdap = groups["DTaP/Tdap/Td"]["antigens"]
    assert any(a["series"] == "Pertussis risk 1-dose series" for a in tdap)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_payload({"code": "007", "begin": "2026-05-01", "end": "x"})))
    failed = runner.invoke(vaccines, ["forecast", str(bad)])
    assert failed.exit_code == 1
    assert "observations[1].end: 'x' is not a date" in failed.output
    assert "Traceback" not in failed.output


# --- The nurse's pages: a pregnancy dated from its gestation ----------------------------------


def test_the_service_dates_a_pregnancy_from_its_gestation() -> None:
    """pmha/vaccines/service.py: 20 weeks of gestation at an exam on 1 December 2026 dates 007
    from 14 July 2026 (the estimated onset); without the weeks, or where the onset would be
    before birth or after the forecast date, the plain code (the pregnancy is never lost)."""
    from types import SimpleNamespace

    from pmha.vaccines.service import _pregnancy

    dob, exam = WOMAN.dob, date(2026, 12, 1)

    def facts(**values: Any) -> Any:
        return SimpleNamespace(
            **{"pregnant": True, "gestation_weeks": None, "exam_date": exam, "updated_at": None}
            | values
        )

    assert _pregnancy(facts(gestation_weeks=20), dob, exam) == Observation("007", date(2026, 7, 14))
    assert _pregnancy(facts(), dob, exam) == "007"
    assert _pregnancy(facts(gestation_weeks=20), dob, date(2026, 7, 1)) == "007"
    assert _pregnancy(facts(pregnant=False), dob, exam) is None
    assert _pregnancy(None, dob, exam) is None


def test_the_overview_forecasts_tdap_from_the_recorded_gestation(
    session: Any, nurse: Any, rules: Any
) -> None:
    """A pregnant applicant at 20 weeks on the exam date: the nurse's forecast follows
    'Pertussis risk 1-dose series' with dose 1 from 27 weeks, 7 weeks after the exam
    (AntigenSupportingData-Pertussis-508.xml, interval from 170 'Onset of pregnancy')."""
    from datetime import timedelta

    from pmha.vaccines import service
    from pmha.workflow import service as workflow
    from pmha.workflow.models import ClinicalFacts
    from tests.vaccines.test_nurse import _planned
    from tests.vaccines.test_records import TODAY

    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01", sex="female")
    version = session.get(ClinicalFacts, applicant.id).version
    workflow.set_facts(
        session,
        nurse,
        rules,
        applicant.id,
        FactsUpdate(pregnant=True, gestation_weeks=20, version=version),
    )
    view = service.overview(session, nurse, rules, applicant.id, TODAY)
    assert view.forecast is not None
    pertussis = _antigen(view.forecast, "Pertussis")
    assert pertussis.series == "Pertussis risk 1-dose series"
    assert pertussis.earliest == TODAY + timedelta(weeks=7)
    assert view.forecast.groups["MMR"].status == "Contraindicated"
