"""Risk series selection, one case per antigen with a risk series in CDC's supporting data v4.64.

Each case is built from the series definition in pmha/vaccines/cdsi/data/
AntigenSupportingData-<antigen>.xml (v4.64): the indication (observation code, begin and end
age) that makes the risk series relevant, the series' minimum age to start, and target dose 1's
(or the next dose's) age and interval rows, from which the expected dates are worked out by hand
(CDSi Logic Specification chapter 3 date arithmetic; past due date = latest recommended age or
interval date - 1 day). The selection rules are the specification's "select relevant patient
series" (gender, risk indications within their begin and end ages at the assessment date) and
"select best patient series" (scorable series, the series priority of a risk series group,
scoring of series with no valid doses: can start earliest, completable, not a product series;
then across series groups: a complete group satisfies only the groups it is named equivalent by,
and an open risk series is followed before a standard one).

Observations are codes (known on every date) or, where a dose counts from an observation's
date (Pertussis in pregnancy: 27 weeks from 170 "Onset of pregnancy", the begin of 007
"Pregnant"), dated `Observation`s; tests/vaccines/test_cdsi_observations.py tests their
boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from pmha.vaccines.cdsi import Dose, Patient, forecast
from pmha.vaccines.cdsi.model import AntigenForecast, Forecast, Observation
from pmha.workflow.commands import FactsUpdate
from tests.vaccines.test_nurse import _page, _planned

TODAY = date(2026, 12, 1)
ADULT = date(1996, 6, 15)  # 30 years old on TODAY


@dataclass(frozen=True)
class RiskCase:
    case_id: str
    source: str  # the XML file, series and indication the case is built from
    antigen: str
    dob: date
    gender: str
    observations: tuple[str | Observation, ...]
    series: str
    dose_number: int | None
    earliest: date | None
    recommended: date | None = None
    past_due: date | None = None
    doses: tuple[tuple[date, str], ...] = ()
    status: str = "Not complete"
    assessment: date = TODAY
    vaccine_types: tuple[str, ...] = field(default=())


CASES = [
    RiskCase(
        "chikungunya-traveller",
        "AntigenSupportingData-Chikungunya.xml, 'Chikungunya Risk 1-dose series', indication 271"
        " from 12 years; dose 1 minimum and earliest recommended age 12 years",
        "Chikungunya",
        ADULT,
        "F",
        ("271",),
        "Chikungunya Risk 1-dose series",
        1,
        date(2008, 6, 15),
        date(2008, 6, 15),
    ),
    RiskCase(
        "cholera-traveller",
        "AntigenSupportingData-Cholera.xml, 'Cholera 1-dose series', indication 008 from 2 to"
        " 65 years; dose 1 minimum age 2 years",
        "Cholera",
        ADULT,
        "M",
        ("008",),
        "Cholera 1-dose series",
        1,
        date(1998, 6, 15),
        date(1998, 6, 15),
    ),
    RiskCase(
        "dengue-previous-infection",
        "AntigenSupportingData-Dengue.xml, 'Dengue risk 3-dose series', indication 211 from 9"
        " to 17 years; dose 1 minimum age 9 years",
        "Dengue",
        date(2016, 6, 15),
        "F",
        ("211",),
        "Dengue risk 3-dose series",
        1,
        date(2025, 6, 15),
        date(2025, 6, 15),
    ),
    RiskCase(
        "ebola-responder",
        "AntigenSupportingData-Ebola.xml, 'Ebola Risk 1-dose series', indication 182 from 18"
        " years; dose 1 minimum age 18 years",
        "Ebola",
        ADULT,
        "F",
        ("182",),
        "Ebola Risk 1-dose series",
        1,
        date(2014, 6, 15),
        date(2014, 6, 15),
    ),
    RiskCase(
        "hpv-girl-10-sexual-abuse",
        "AntigenSupportingData-HPV.xml, 'HPV risk 2-dose series' (series group 2), indication"
        " 169 from birth to 11 years; dose 1 minimum and earliest recommended age 9 years,"
        " latest recommended age 11 years (past due 11 years - 1 day). The standard"
        " 'HPV 2-dose series' would recommend 11 years.",
        "HPV",
        date(2016, 6, 15),
        "F",
        ("169",),
        "HPV risk 2-dose series",
        1,
        date(2025, 6, 15),
        date(2025, 6, 15),
        date(2027, 6, 14),
    ),
    RiskCase(
        "hpv-boy-12-hiv-one-dose",
        "AntigenSupportingData-HPV.xml, 'HPV risk male 3-dose series', indication 186 from 9"
        " years, male; dose 2 interval 4 weeks (earliest and recommended), latest 16 weeks."
        " The standard 'HPV male 2-dose series' would wait 5 months.",
        "HPV",
        date(2014, 6, 15),
        "M",
        ("186",),
        "HPV risk male 3-dose series",
        2,
        date(2025, 7, 29),
        date(2025, 7, 29),
        date(2025, 10, 20),
        doses=((date(2025, 7, 1), "165"),),
    ),
    RiskCase(
        "hepa-adult-chronic-liver-disease",
        "AntigenSupportingData-HepA.xml, 'HepA risk 2-dose series' (group 2, preference 1),"
        " indication 015 from 19 years; dose 1 minimum age 19 years. Among the group's"
        " unstarted series the non-product series win; preference 1 breaks the tie.",
        "HepA",
        ADULT,
        "F",
        ("015",),
        "HepA risk 2-dose series",
        1,
        date(2015, 6, 15),
        date(2015, 6, 15),
    ),
    RiskCase(
        "hepb-65-diabetes",
        "AntigenSupportingData-HepB.xml, 'HepB risk 3-dose series' (group 2, priority B),"
        " indication 014 from 60 years; dose 1 minimum age 60 years. The infant 'HepB 3-dose"
        " series' of group 1 would date dose 1 from birth.",
        "HepB",
        date(1961, 6, 15),
        "M",
        ("014",),
        "HepB risk 3-dose series",
        1,
        date(2021, 6, 15),
        date(2021, 6, 15),
    ),
    RiskCase(
        "hepb-30-dialysis",
        "AntigenSupportingData-HepB.xml, 'HepB risk Dialysis 4-dose series' (group 2, priority"
        " A, default), indication 032 from 20 years; dose 1 minimum age 20 years",
        "HepB",
        ADULT,
        "M",
        ("032",),
        "HepB risk Dialysis 4-dose series",
        1,
        date(2016, 6, 15),
        date(2016, 6, 15),
    ),
    RiskCase(
        "hib-6-unvaccinated-splenectomy",
        "AntigenSupportingData-Hib.xml, 'Hib risk 1-dose series', indication 002 from 15"
        " months; dose 1 minimum age 15 months. The standard series are past their ages.",
        "Hib",
        date(2020, 6, 15),
        "M",
        ("002",),
        "Hib risk 1-dose series",
        1,
        date(2021, 9, 15),
        date(2021, 9, 15),
    ),
    RiskCase(
        "je-adult-long-travel",
        "AntigenSupportingData-JapaneseEncephalitis.xml: both 'Japanese Encephalitis risk"
        " 2-dose series' (indication 165 from 2 months) and '... 18-65 years' are relevant,"
        " same group, priority and preference; unstarted, the series that can start earliest"
        " scores: dose 1 minimum age 2 months",
        "Japanese Encephalitis",
        ADULT,
        "F",
        ("165",),
        "Japanese Encephalitis risk 2-dose series",
        1,
        date(1996, 8, 15),
        date(1996, 8, 15),
    ),
    RiskCase(
        "measles-infant-8-months-travel",
        "AntigenSupportingData-Measles.xml, 'Measles risk 1-dose series' (group 2), indication"
        " 048 from 6 to 12 months; dose 1 minimum age 6 months, latest recommended 12 months",
        "Measles",
        date(2026, 4, 1),
        "F",
        ("048",),
        "Measles risk 1-dose series",
        1,
        date(2026, 10, 1),
        date(2026, 10, 1),
        date(2027, 3, 31),
    ),
    RiskCase(
        "mumps-infant-8-months-travel",
        "AntigenSupportingData-Mumps.xml, 'Mumps risk 1-dose series', indication 048 from 6 to"
        " 12 months; dose 1 minimum age 6 months, latest recommended 12 months",
        "Mumps",
        date(2026, 4, 1),
        "F",
        ("048",),
        "Mumps risk 1-dose series",
        1,
        date(2026, 10, 1),
        date(2026, 10, 1),
        date(2027, 3, 31),
    ),
    RiskCase(
        "rubella-adult-travel",
        "AntigenSupportingData-Rubella.xml, 'Rubella risk 2-dose series' (group 3), indication"
        " 048 from 18 years; dose 1 minimum age 18 years",
        "Rubella",
        ADULT,
        "F",
        ("048",),
        "Rubella risk 2-dose series",
        1,
        date(2014, 6, 15),
        date(2014, 6, 15),
    ),
    RiskCase(
        "menacwy-infant-complement-deficiency",
        "AntigenSupportingData-Meningococcal.xml, 'Meningococcal ACWY risk 2-23 month',"
        " indication 151 from 2 months; dose 1 minimum age 2 months",
        "Meningococcal",
        date(2026, 9, 1),
        "F",
        ("151",),
        "Meningococcal ACWY risk 2-23 month",
        1,
        date(2026, 11, 1),
        date(2026, 11, 1),
    ),
    RiskCase(
        "menb-12-asplenia",
        "AntigenSupportingData-MeningococcalB.xml, 'Meningococcal B risk 3-dose series MenB-4C"
        " increased risk' (product series, preference 99, listed first), indication 002 from 10"
        " years; dose 1 minimum age 10 years",
        "Meningococcal B",
        date(2014, 6, 15),
        "F",
        ("002",),
        "Meningococcal B risk 3-dose series MenB-4C increased risk",
        1,
        date(2024, 6, 15),
        date(2024, 6, 15),
    ),
    RiskCase(
        "orthopox-pre-exposure",
        "AntigenSupportingData-Orthopoxvirus.xml, 'Orthopoxvirus risk pre-exposure 2-dose"
        " series' (priority B), indication 247 from 18 years; dose 1 minimum age 18 years",
        "Orthopoxvirus",
        ADULT,
        "M",
        ("247",),
        "Orthopoxvirus risk pre-exposure 2-dose series",
        1,
        date(2014, 6, 15),
        date(2014, 6, 15),
    ),
    RiskCase(
        "pertussis-pregnant",
        "AntigenSupportingData-Pertussis.xml, 'Pertussis risk 1-dose series', indication 007,"
        " female; dose 1 interval from 170 'Onset of pregnancy' (the begin of 007, 1 May 2026):"
        " minimum and earliest recommended 27 weeks (6 November 2026), latest recommended 36"
        " weeks (8 January 2027; past due the day before)",
        "Pertussis",
        ADULT,
        "F",
        (Observation("007", date(2026, 5, 1), date(2027, 1, 20)),),
        "Pertussis risk 1-dose series",
        1,
        date(2026, 11, 6),
        date(2026, 11, 6),
        date(2027, 1, 7),
    ),
    RiskCase(
        "pcv-3-dialysis",
        "AntigenSupportingData-Pneumococcal.xml, 'Pneumococcal risk 2-5 years 4-dose series'"
        " (group 2, priority A), indication 032 from 2 to 6 years; dose 1 minimum age 2"
        " years. The infant 'Pneumococcal 4-dose series' would date dose 1 from 6 weeks.",
        "Pneumococcal",
        date(2023, 6, 15),
        "F",
        ("032",),
        "Pneumococcal risk 2-5 years 4-dose series",
        1,
        date(2025, 6, 15),
        date(2025, 6, 15),
    ),
    RiskCase(
        "pcv-8-infant-series-complete-dialysis",
        "AntigenSupportingData-Pneumococcal.xml, 'Pneumococcal risk 6-18 yrs immunocompromised"
        " PCV-PPSV-PPSV' (equivalent series groups: none), indication 032 from 6 years; dose 1"
        " is skipped after any PCV dose, dose 2 (PPSV23) 8 weeks after the last PCV. The"
        " complete infant series does not cover it. Dose number counts valid doses of the"
        " series, as CDC's forecasts do (none yet).",
        "Pneumococcal",
        date(2018, 6, 15),
        "F",
        ("032",),
        "Pneumococcal risk 6-18 yrs immunocompromised PCV-PPSV-PPSV",
        1,
        date(2019, 9, 9),
        date(2019, 9, 9),
        doses=(
            (date(2018, 8, 15), "133"),
            (date(2018, 10, 15), "133"),
            (date(2018, 12, 15), "133"),
            (date(2019, 7, 15), "133"),
        ),
        vaccine_types=("33",),
    ),
    RiskCase(
        "polio-lab-worker-childhood-series-complete",
        "AntigenSupportingData-Polio.xml, 'Polio risk adult series' (equivalent series groups:"
        " none), indication 054 from 18 years. Dose 1 is skipped after a complete standard"
        " series (group 1); dose 2, the booster: minimum and earliest recommended age 18 years,"
        " latest 8 weeks after the previous dose (long passed: past due = the earliest date)."
        " The complete childhood 'Polio 4-dose series' does not make the booster vanish.",
        "Polio",
        ADULT,
        "F",
        ("054",),
        "Polio risk adult series",
        1,
        date(2014, 6, 15),
        date(2014, 6, 15),
        date(2014, 6, 15),
        doses=(
            (date(1996, 8, 15), "10"),
            (date(1996, 10, 15), "10"),
            (date(1997, 6, 15), "10"),
            (date(2000, 8, 15), "10"),
        ),
    ),
    RiskCase(
        "rsv-11-months-chronic-lung-disease",
        "AntigenSupportingData-RSV.xml, 'RSV risk under 20 months series', indication 017 from"
        " birth to 20 months; dose 1 is not needed after 8 months; the next dose waits for the"
        " season in the v4.64 data (1 October 2025)",
        "RSV",
        date(2024, 12, 1),
        "F",
        ("017",),
        "RSV risk under 20 months series",
        1,
        date(2025, 10, 1),
        date(2025, 10, 1),
        assessment=date(2025, 11, 1),
    ),
    RiskCase(
        "rabies-researcher",
        "AntigenSupportingData-Rabies.xml, 'Rabies risk continuous exposure series' (priority"
        " A), indication 053 from birth; dose 1 minimum age 0 days",
        "Rabies",
        ADULT,
        "F",
        ("053",),
        "Rabies risk continuous exposure series",
        1,
        ADULT,
        ADULT,
    ),
    RiskCase(
        "tbe-adult-travel",
        "AntigenSupportingData-TBE.xml, 'Risk 16 years+ 3-dose', indication 249 from 16 years;"
        " dose 1 minimum age 16 years ('Risk 1-15 years 3-dose' ends at 16 years)",
        "TBE",
        ADULT,
        "F",
        ("249",),
        "Risk 16 years+ 3-dose",
        1,
        date(2012, 6, 15),
        date(2012, 6, 15),
    ),
    RiskCase(
        "typhoid-lab-worker",
        "AntigenSupportingData-Typhoid.xml: 'Typhoid risk 1-dose series' (dose 1 minimum age 2"
        " years) and 'Typhoid risk 4-dose series' (6 years), indication 051; unstarted, the one"
        " that can start earliest scores",
        "Typhoid",
        ADULT,
        "F",
        ("051",),
        "Typhoid risk 1-dose series",
        1,
        date(1998, 6, 15),
        date(1998, 6, 15),
    ),
    RiskCase(
        "yellow-fever-traveller",
        "AntigenSupportingData-YellowFever.xml, 'Yellow Fever risk 1-dose series', indication"
        " 045 from 9 months; dose 1 minimum age 9 months",
        "Yellow Fever",
        ADULT,
        "F",
        ("045",),
        "Yellow Fever risk 1-dose series",
        1,
        date(1997, 3, 15),
        date(1997, 3, 15),
    ),
    RiskCase(
        "zoster-30-immunodeficiency",
        "AntigenSupportingData-Zoster.xml, 'Zoster Risk 2-dose series', indication 145 from 19"
        " years; dose 1 minimum age 19 years (its 8-week interval counts from the most recent"
        " CVX 21, 94 or 121, none given; no interval from an observation in v4.64)",
        "Zoster",
        ADULT,
        "F",
        ("145",),
        "Zoster Risk 2-dose series",
        1,
        date(2015, 6, 15),
        date(2015, 6, 15),
    ),
    RiskCase(
        "covid-30-immunodeficiency",
        "AntigenSupportingData-COVID-19.xml, 'COVID-19 risk immunocompromised 6 mo+ Moderna"
        " series' (group 2, priority A, default, preference 1), indication 145 from 6 months;"
        " dose 1 minimum and earliest recommended age 6 months, seasonal recommendation start"
        " date 20250827 (no latest recommended age or interval: no past due date)",
        "COVID-19",
        ADULT,
        "F",
        ("145",),
        "COVID-19 risk immunocompromised 6 mo+ Moderna series",
        1,
        date(2025, 8, 27),
        date(2025, 8, 27),
    ),
]


def _run(case: RiskCase) -> tuple[Forecast, AntigenForecast]:
    result = forecast(
        Patient(case.dob, case.gender),
        [Dose(day, cvx) for day, cvx in case.doses],
        case.observations,
        case.assessment,
    )
    by_antigen = {a.antigen: a for g in result.groups.values() for a in g.antigens}
    return result, by_antigen[case.antigen]


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_risk_series_case(case: RiskCase) -> None:
    """Source: the docstring's supporting data rows, named in case.source."""
    _, got = _run(case)
    assert got.series == case.series, case.source
    assert got.series_type == "Risk"
    assert got.status == case.status
    assert got.dose_number == case.dose_number
    assert (got.earliest, got.recommended, got.past_due) == (
        case.earliest,
        case.recommended,
        case.past_due,
    ), case.source
    for cvx in case.vaccine_types:
        assert cvx in got.vaccine_types
    assert got.why.startswith("Following the risk schedule")


def test_one_case_per_antigen_with_a_risk_series() -> None:
    """Every antigen with a risk series in the v4.64 supporting data has a case here."""
    from pmha.vaccines.cdsi.data import supporting_data

    with_risk = {
        a.name
        for a in supporting_data().antigens.values()
        if any(s.series_type == "Risk" for s in a.series)
    }
    assert with_risk <= {c.antigen for c in CASES}


def test_hepb_adult_with_indication_is_not_dated_from_birth() -> None:
    """Issue 16: the HepB risk series was passed over for the infant series, whose dose 1
    earliest date is the date of birth. HepB risk 3-dose series, indication 014 from 60 years."""
    dob = date(1961, 6, 15)
    result = forecast(Patient(dob, "M"), [], ["014"], TODAY)
    group = result.groups["HepB"]
    assert group.earliest is not None and group.earliest > dob
    assert group.earliest == date(2021, 6, 15)


def test_without_the_indication_the_routine_series_stays() -> None:
    """Control: a healthy adult keeps the standard default series (CDC case 2022-0013 dates
    dose 1 from birth); a risk series is relevant only with its indication."""
    result = forecast(Patient(ADULT, "M"), [], [], TODAY)
    hepb = result.groups["HepB"].antigens[0]
    assert hepb.series == "HepB 3-dose series"
    assert hepb.series_type == "Standard"
    assert hepb.earliest == ADULT


def test_indication_outside_its_ages_is_not_relevant() -> None:
    """'HepB risk 3-dose series': indication 014 begins at 60 years. At 59 years and 364 days
    the risk series is not relevant; on the 60th birthday it is."""
    dob = date(1966, 12, 1)
    day_before = forecast(Patient(dob, "M"), [], ["014"], date(2026, 11, 30))
    assert day_before.groups["HepB"].antigens[0].series_type == "Standard"
    on_the_day = forecast(Patient(dob, "M"), [], ["014"], date(2026, 12, 1))
    assert on_the_day.groups["HepB"].antigens[0].series == "HepB risk 3-dose series"


def test_risk_series_of_the_other_gender_is_not_relevant() -> None:
    """'HPV risk 2-dose series' requires Female or Unknown; a boy gets the male one."""
    boy = forecast(Patient(date(2016, 6, 15), "M"), [], ["169"], TODAY)
    assert boy.groups["HPV"].antigens[0].series == "HPV risk male 2-dose series"


def test_complete_risk_series_satisfies_its_equivalent_standard_group() -> None:
    """'HepA 2-dose series' names series group 2 as equivalent: an adult with chronic liver
    disease who completed 'HepA risk 2-dose series' (two doses 6 months apart from 19 years)
    is complete, and the standard series does not ask for more."""
    doses = [Dose(date(2020, 1, 10), "52"), Dose(date(2020, 8, 10), "52")]
    result = forecast(Patient(ADULT, "F"), doses, ["015"], TODAY)
    assert result.groups["HepA"].status == "Complete"


def test_child_with_indication_is_not_given_the_50_plus_series() -> None:
    """Issue 16: the adult "50 years and older" pneumococcal series was chosen for a child.
    A 5-year-old on dialysis (032) with a stray PPSV23 and a complete infant series follows
    the 2-5 years risk series, not 'Pneumococcal 50+ ...' (minimum age to start 50 years)."""
    dob = date(2021, 6, 15)
    doses = [
        Dose(date(2021, 8, 15), "133"),
        Dose(date(2021, 10, 15), "133"),
        Dose(date(2021, 12, 15), "133"),
        Dose(date(2022, 7, 15), "133"),
        Dose(date(2025, 1, 15), "33"),
    ]
    result = forecast(Patient(dob, "F"), doses, ["032"], TODAY)
    pcv = result.groups["Pneumococcal"].antigens[0]
    assert "50+" not in (pcv.series or "")
    assert pcv.series_type == "Risk"


def test_why_the_series_was_chosen_in_words() -> None:
    """The nurse reads which schedule the forecast follows and why: the risk schedule names the
    patient's condition (the observation's title in ScheduleSupportingData.xml); a complete
    routine series that does not cover the risk schedule is said so."""
    diabetic = forecast(Patient(date(1961, 6, 15), "M"), [], ["014"], TODAY)
    assert diabetic.groups["HepB"].antigens[0].why == (
        "Following the risk schedule 'HepB risk 3-dose series' because of: Diabetes."
    )
    childhood = [Dose(day, "10") for day in (date(1996, 8, 15), date(1996, 10, 15))]
    childhood += [Dose(day, "10") for day in (date(1997, 6, 15), date(2000, 8, 15))]
    lab = forecast(Patient(ADULT, "F"), childhood, ["054"], TODAY)
    assert (
        lab.groups["Polio"]
        .antigens[0]
        .why.endswith("'Polio 4-dose series' is complete but does not cover this schedule.")
    )
    healthy = forecast(Patient(ADULT, "F"), [], [], TODAY)
    assert healthy.groups["HepB"].antigens[0].why == (
        "Following the routine schedule 'HepB 3-dose series'."
    )


def test_nurse_page_says_which_schedule_and_why(
    session: Any, nurse: Any, rules: Any, signed_in: Any
) -> None:
    """Issue 16: the nurse's page shows which series the forecast follows and why, in words.
    A pregnant applicant (CDSi observation 007) follows 'Pertussis risk 1-dose series'."""
    from pmha.workflow import service as workflow
    from pmha.workflow.models import ClinicalFacts

    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01", sex="female")
    version = session.get(ClinicalFacts, applicant.id).version
    workflow.set_facts(
        session,
        nurse,
        rules,
        applicant.id,
        FactsUpdate(pregnant=True, gestation_weeks=20, version=version),
    )
    html = signed_in("nurse").get(_page(applicant)).get_data(as_text=True)
    assert "Following the risk schedule &#39;Pertussis risk 1-dose series&#39;" in html
    # Dated from the gestation: 20 weeks before the exam.
    assert "because of: Pregnant (from " in html
    assert "Following the routine schedule" in html


def test_json_output_names_the_series_type_and_why() -> None:
    """The CLI and API answer (Forecast.to_json) carries the series type and the why."""
    result = forecast(Patient(date(1961, 6, 15), "M"), [], ["014"], TODAY)
    hepb = next(g for g in result.to_json()["vaccine_groups"] if g["vaccine_group"] == "HepB")
    assert hepb["antigens"][0]["series_type"] == "Risk"
    assert hepb["antigens"][0]["why"].endswith("because of: Diabetes.")


def test_indication_end_age_day_before_and_on_the_day() -> None:
    """'Dengue risk 3-dose series': indication 211 from 9 to 17 years (end age excluded). The
    day before the 17th birthday the series is relevant; on the birthday Dengue has no relevant
    series and is not recommended."""
    dob = date(2009, 12, 1)
    before = forecast(Patient(dob, "F"), [], ["211"], date(2026, 11, 30))
    assert before.groups["Dengue"].antigens[0].series == "Dengue risk 3-dose series"
    on_the_day = forecast(Patient(dob, "F"), [], ["211"], date(2026, 12, 1))
    dengue = on_the_day.groups["Dengue"].antigens[0]
    assert dengue.series is None
    assert dengue.status == "Not recommended"


def test_standard_series_in_process_goes_on_before_a_risk_series_from_dose_1() -> None:
    """A laboratory worker (054) with two childhood polio doses: 'Polio risk adult series'
    would start again from its dose 1 (which it skips only after a complete standard series),
    so the childhood 'Polio 4-dose series' goes on with its dose 3 (the doses given count).
    Once it is complete, the risk series' booster opens (the polio case above)."""
    doses = [Dose(date(1996, 8, 15), "10"), Dose(date(1996, 10, 15), "10")]
    result = forecast(Patient(ADULT, "F"), doses, ["054"], TODAY)
    polio = result.groups["Polio"].antigens[0]
    assert polio.series == "Polio 4-dose series"
    assert polio.dose_number == 3


def _pertussis(result: Forecast) -> AntigenForecast:
    return next(a for a in result.groups["DTaP/Tdap/Td"].antigens if a.antigen == "Pertussis")


def _pertussis_rows(result: Forecast) -> list[tuple[str, str | None, str | None]]:
    return [(e.status, e.reason, e.series) for e in result.evaluations if e.antigen == "Pertussis"]


PREGNANT_SINCE = Observation("007", date(2026, 6, 1))


def test_pregnancy_tdap_goes_before_a_routine_catch_up_in_process() -> None:
    """AntigenSupportingData-Pertussis.xml, 'Pertussis risk 1-dose series' (group 2, no
    equivalent group), indication 007 "Pregnant" with the guidance "1 dose of Tdap during each
    pregnancy ... regardless of prior history of receiving Tdap". Logic Specification Table
    8-14: an incomplete risk series is a best patient series; chapter 9 blends risk with risk.
    A pregnant woman with one Td of an adult catch-up under way is offered her pregnancy Tdap
    (dose 1, onset 1 June 2026 + 27 weeks = 7 December 2026), not the routine dose 2."""
    result = forecast(Patient(ADULT, "F"), [Dose(date(2025, 5, 1), "09")], [PREGNANT_SINCE], TODAY)
    pertussis = _pertussis(result)
    assert (pertussis.series, pertussis.dose_number) == ("Pertussis risk 1-dose series", 1)
    assert pertussis.earliest == date(2026, 12, 7)


def test_tdap_given_in_this_pregnancy_and_childhood_doses_all_count() -> None:
    """Table 8-14, rule 1: both complete series are best patient series. The pregnancy series
    is followed (complete), its Tdap is that pregnancy's dose (not 'Extraneous' in the
    childhood series), and the childhood DTaP doses count in the childhood series (not 'Too
    soon' before the pregnancy began)."""
    doses = [Dose(date(1996, 8, 15), "20"), Dose(date(1996, 10, 15), "20")]
    doses += [Dose(date(1996, 12, 15), "20"), Dose(date(1997, 9, 15), "20")]
    doses += [Dose(date(2001, 6, 20), "20"), Dose(date(2008, 7, 1), "115")]
    doses += [Dose(date(2026, 11, 30), "115")]
    result = forecast(Patient(ADULT, "F"), doses, [PREGNANT_SINCE], TODAY)
    assert _pertussis(result).series == "Pertussis risk 1-dose series"
    assert _pertussis(result).status == "Complete"
    rows = _pertussis_rows(result)
    assert rows[:-1] == [("Valid", None, "Pertussis standard series")] * 6
    assert rows[-1] == ("Valid", None, "Pertussis risk 1-dose series")


def test_undated_pregnancy_does_not_count_a_tdap_from_before_it() -> None:
    """'Pertussis risk 1-dose series' dose 1 counts from 170 "Onset of pregnancy". With the
    onset unknown, a pregnancy under way on the assessment date began at most 42 weeks before
    it (WHO: post-term from 42 completed weeks), so a Tdap from 2019 was not given in it:
    the pregnancy dose is still due. One given 10 weeks ago may have been (it counts)."""
    old = forecast(Patient(ADULT, "F"), [Dose(date(2019, 5, 1), "115")], ["007"], TODAY)
    assert (_pertussis(old).series, _pertussis(old).dose_number) == (
        "Pertussis risk 1-dose series",
        1,
    )
    assert _pertussis_rows(old) == [
        ("Not Valid", "Interval: Too Soon", "Pertussis risk 1-dose series")
    ]
    recent = forecast(Patient(ADULT, "F"), [Dose(date(2026, 9, 22), "115")], ["007"], TODAY)
    assert _pertussis(recent).status == "Complete"


def test_mmr_before_antiretroviral_therapy_stays_not_valid_while_the_art_series_is_open() -> None:
    """'Measles risk 2-dose ART series' (indication 026): the routine doses given before ART
    are shown as that series counts them (not valid) while it is open, so the nurse sees that
    they must be given again (ACIP: revaccinate after effective ART)."""
    doses = [Dose(date(2016, 1, 1), "03"), Dose(date(2017, 1, 1), "03")]
    art = Observation("120", date(2018, 3, 1))
    result = forecast(Patient(date(2015, 1, 1), "M"), doses, ["026", art], date(2018, 6, 1))
    rows = [e.status for e in result.evaluations if e.antigen == "Measles"]
    assert rows == ["Not Valid", "Not Valid"]


def test_stray_ppsv23_does_not_put_a_child_with_an_indication_on_the_50_plus_series() -> None:
    """Issue 16: a PPSV23 given to a child is a valid dose 1 of 'Pneumococcal 50+ 2-dose
    PPSV23-PCV series' (group 3, minimum age to start 50 years), whose next dose comes at 50.
    A 5-year-old with an indication of 'Pneumococcal risk 2-5 years 4-dose series' (observation
    216, iatrogenic immunosuppression, from 2 to 6 years) follows the risk series instead."""
    doses = [Dose(date(2024, 2, 13), "33"), Dose(date(2025, 7, 24), "33")]
    result = forecast(Patient(date(2021, 7, 1), "F"), doses, ["216"], TODAY)
    pcv = result.groups["Pneumococcal"].antigens[0]
    assert pcv.series == "Pneumococcal risk 2-5 years 4-dose series"
    assert pcv.earliest is not None and pcv.earliest < date(2030, 1, 1)


def test_can_finish_earliest_only_among_completable_series() -> None:
    """Specification, scoring in-process series: 'can finish earliest' is a completable series
    whose forecast finish date is on or before every other completable series'. Series B
    would finish sooner but past its last dose's maximum age, so A takes the point.
    A: product -2, completable +3, valid doses and remaining doses tied, finishes earliest +1.
    B: product -2, not completable -3, ties, not the earliest completable -1."""
    from types import SimpleNamespace

    from pmha.vaccines.cdsi.dates import Offset
    from pmha.vaccines.cdsi.select import _score_in_process

    def series(max_age_years: int) -> Any:
        step = SimpleNamespace(from_previous=True, min=Offset(0, 1, 0))
        last = SimpleNamespace(
            intervals=[step], ages=[SimpleNamespace(max_age=Offset(max_age_years, 0, 0))]
        )
        first = SimpleNamespace(intervals=[], ages=[])
        return SimpleNamespace(product_path=False, doses=[first, last])

    def patient_series(max_age_years: int, earliest: date) -> Any:
        return SimpleNamespace(
            series=series(max_age_years),
            valid_doses=[1],
            doses=[1],
            target=0,
            earliest=earliest,
            dob=date(2000, 1, 1),
            score=0,
        )

    a = patient_series(50, date(2026, 6, 1))
    b = patient_series(10, date(2026, 1, 1))
    _score_in_process([a, b])
    assert (a.score, b.score) == (2, -6)
