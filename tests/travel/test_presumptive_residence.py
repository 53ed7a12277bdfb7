"""Presumptive treatment of US-bound refugees by exam country AND residence, with per-drug
precautions and a reason for every drug left out (issue 15; country_rules/US.toml
[[travel.presumptive]], regions in country_rules/regions/regions.toml).

Sources (BRIEF 1.6): [S16] the Feb 2017 table (Lebanon/Turkiye none; Middle East and Asia
albendazole + ivermectin; Indonesia/Sri Lanka albendazole; sub-Saharan Africa albendazole,
praziquantel, ivermectin, artemether-lumefantrine, AL only for refugees from sub-Saharan Africa;
ivermectin never for those who resided or travelled in Loa loa-endemic countries such as DRC and
South Sudan); [S17] 2023: albendazole in no trimester of pregnancy, ivermectin 200 mcg/kg;
[S18] malaria 2019: AL for refugees living in P. falciparum-endemic sub-Saharan Africa; [S18d]
CDC domestic malaria guidance: not in the first trimester, not under 5 kg. Values marked [U] in
the file (ages, weights, other drugs in pregnancy) have open questions in US.toml.
"""

from __future__ import annotations

from datetime import date

import pytest

from pmha.rules.cli import DEFAULT_DIR
from pmha.rules.dates import Age
from pmha.rules.facts import Residence
from pmha.travel.policy import Exposure, TreatmentPlan, load_policies

EXAM = date(2026, 11, 2)
ADULT = Age.between(date(1990, 1, 1), EXAM)
ALL_FOUR = ["albendazole", "praziquantel", "ivermectin", "artemether-lumefantrine"]


@pytest.fixture(scope="module")
def us():
    return load_policies(DEFAULT_DIR)["US"]


def plan(
    us,
    exam_country: str,
    *stays: tuple[str, date, date | None],
    age: Age = ADULT,
    pregnant: bool | None = False,
    weeks: int | None = None,
) -> TreatmentPlan:
    exposure = Exposure(exam_country, EXAM, tuple(Residence(*s) for s in stays))
    found = us.plan_for(
        exposure=exposure, origin="XX", age=age, pregnant=pregnant, gestation_weeks=weeks
    )
    assert found is not None
    return found


def given(p: TreatmentPlan) -> list[str]:
    return [d.drug for d in p.drugs]


def omitted(p: TreatmentPlan) -> dict[str, str]:
    return {d.drug: why for d, why in p.omitted}


def held(p: TreatmentPlan) -> dict[str, str]:
    return {d.drug: why for d, why in p.held}


# --- one row per region of the 2017 table [S16] -------------------------------------------------


@pytest.mark.parametrize(
    ("exam_country", "rule", "drugs"),
    [
        ("TR", "us.presumptive.none_tr_lb", []),  # Lebanon, Turkiye: none
        ("LB", "us.presumptive.none_tr_lb", []),
        ("EG", "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),  # Mideast
        ("IQ", "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),
        ("JO", "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),
        ("MY", "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),  # Asia
        ("NP", "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),
        ("PK", "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),
        ("TH", "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),
        ("ID", "us.presumptive.albendazole_only", ["albendazole"]),  # Indonesia, Sri Lanka
        ("LK", "us.presumptive.albendazole_only", ["albendazole"]),
        # Africa: Burundi, Djibouti, Ethiopia, Kenya, Rwanda, South Africa, Tanzania, Uganda
        ("BI", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        ("DJ", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        ("ET", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        ("KE", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        ("RW", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        ("ZA", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        ("TZ", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        ("UG", "us.presumptive.sub_saharan_africa", ALL_FOUR),
        # Chad: albendazole, praziquantel, AL: no ivermectin (the Loa loa note of the row)
        ("TD", "us.presumptive.sub_saharan_africa",
         ["albendazole", "praziquantel", "artemether-lumefantrine"]),
    ],
)  # fmt: skip
def test_each_row_of_the_2017_table_by_exam_country(us, exam_country, rule, drugs):
    found = plan(us, exam_country)
    assert found.id == rule
    assert given(found) == drugs


def test_a_country_outside_every_row_has_no_rule(us):
    exposure = Exposure("DE", EXAM, ())
    assert us.plan_for(exposure=exposure, origin="SY", age=ADULT, pregnant=False) is None


def test_residence_brings_a_refugee_examined_elsewhere_under_the_african_row(us):
    """2023: by origin [S17]; a Somali examined in Germany who lived in Somalia until 2020 gets
    the sub-Saharan drugs except AL, which is for those living there [S18]."""
    found = plan(us, "DE", ("SO", date(1995, 1, 1), date(2020, 1, 1)))
    assert found.id == "us.presumptive.sub_saharan_africa"
    assert given(found) == ["albendazole", "praziquantel", "ivermectin"]
    assert (
        "not living in P. falciparum-endemic sub-Saharan Africa"
        in omitted(found)["artemether-lumefantrine"]
    )


def test_turkiye_gives_none_except_to_refugees_from_sub_saharan_africa(us):
    """[S16]: processed in Turkiye: none; [S17] 2023 is by origin: a refugee who lived in
    sub-Saharan Africa is treated wherever processed (here without AL: not living there [S18],
    without ivermectin: DRC is Loa loa-endemic [S16])."""
    syrian = plan(us, "TR", ("SY", date(1990, 1, 1), date(2016, 1, 1)))
    assert syrian.id == "us.presumptive.none_tr_lb" and not syrian.drugs and not syrian.omitted
    congolese = plan(us, "TR", ("CD", date(2000, 1, 1), date(2015, 1, 1)))
    assert congolese.id == "us.presumptive.sub_saharan_africa"
    assert given(congolese) == ["albendazole", "praziquantel"]


# --- Loa loa: ivermectin never [S16] ------------------------------------------------------------


def test_the_demo_story_drc_then_uganda(us):
    """Lived in DRC 2012-2019, then Uganda: albendazole, praziquantel and AL; ivermectin left
    out, naming the country and the years [S16]."""
    found = plan(
        us, "UG", ("CD", date(2012, 1, 1), date(2019, 6, 1)), ("UG", date(2019, 6, 1), None)
    )
    assert given(found) == ["albendazole", "praziquantel", "artemether-lumefantrine"]
    assert omitted(found) == {
        "ivermectin": "ivermectin not given: lived in a Loa loa-endemic country "
        "(Democratic Republic of the Congo, 2012-2019)"
    }


@pytest.mark.parametrize("country", ["CD", "SS"])  # named in the 2017 table [S16]
def test_ivermectin_never_after_a_loa_loa_country_however_long_ago(us, country):
    found = plan(us, "KE", (country, date(1991, 1, 1), date(1992, 1, 1)))
    assert "ivermectin" not in given(found)
    assert "Loa loa-endemic" in omitted(found)["ivermectin"]


def test_ivermectin_for_a_child_born_in_a_camp_outside_loa_loa_countries(us):
    """[S16]: children of Congolese origin born in camps in non-Loa loa countries, who never
    resided in DRC or South Sudan, are (usually) treated with ivermectin."""
    child = Age.between(date(2015, 1, 1), EXAM)
    found = plan(us, "TZ", ("TZ", date(2015, 1, 1), None), age=child)
    assert "ivermectin" in given(found)


def test_asia_processing_after_south_sudan_follows_the_african_row(us):
    """Processed in Malaysia after South Sudan: the sub-Saharan regimen by residence [S16, S17],
    ivermectin left out (Loa loa [S16]), AL left out (not living there [S18])."""
    found = plan(us, "MY", ("SS", date(2000, 1, 1), date(2005, 1, 1)))
    assert given(found) == ["albendazole", "praziquantel"]
    assert "South Sudan, 2000-2005" in omitted(found)["ivermectin"]
    assert "artemether-lumefantrine" in omitted(found)


# --- AL only for those living in sub-Saharan Africa [S16, S18] ------------------------------------


def test_al_is_not_given_outside_sub_saharan_africa(us):
    assert "artemether-lumefantrine" not in given(plan(us, "JO"))
    assert "artemether-lumefantrine" not in given(plan(us, "PK", ("AF", date(2000, 1, 1), None)))


@pytest.mark.parametrize(
    ("end", "living"),
    [
        (date(2026, 11, 1), False),  # left the day before the exam
        (EXAM, True),  # left on the exam day: still living there at the exam
        (None, True),  # still there
    ],
)
def test_al_boundary_living_there_at_the_exam(us, end, living):
    found = plan(us, "DE", ("UG", date(2010, 1, 1), end))
    assert ("artemether-lumefantrine" in given(found)) is living


# --- pregnancy, per drug [S17, S18d] -----------------------------------------------------------


def test_albendazole_in_no_trimester(us):
    for weeks in (4, 13, 14, 30):
        found = plan(us, "KE", pregnant=True, weeks=weeks)
        assert omitted(found)["albendazole"] == "albendazole not given in pregnancy (any trimester)"
    assert "albendazole" in given(plan(us, "KE", pregnant=False))


def test_ivermectin_and_praziquantel_are_held_for_the_physician_in_pregnancy(us):
    """The 2023 per-drug rules were not retrieved [U]: the system holds and says why."""
    found = plan(us, "KE", pregnant=True, weeks=20)
    assert set(held(found)) == {"ivermectin", "praziquantel"}
    assert "the physician decides" in held(found)["ivermectin"]


@pytest.mark.parametrize(
    ("weeks", "al"),
    [(13, "omit"), (14, "give"), (None, "hold")],  # first trimester = weeks 0-13 [S18d]
)
def test_al_not_in_the_first_trimester(us, weeks, al):
    found = plan(us, "KE", pregnant=True, weeks=weeks)
    verdict = (
        "give"
        if "artemether-lumefantrine" in given(found)
        else "omit"
        if "artemether-lumefantrine" in omitted(found)
        else "hold"
    )
    assert verdict == al


def test_pregnancy_not_recorded_holds_every_drug_with_a_pregnancy_rule(us):
    found = plan(us, "JO", pregnant=None)
    assert not found.drugs
    assert "pregnancy not recorded" in held(found)["albendazole"]


# --- children [U: open question us.presumptive.children] ------------------------------------------


@pytest.mark.parametrize(
    ("born", "albendazole", "praziquantel"),
    [
        (date(2025, 11, 3), False, False),  # the day before the first birthday
        (date(2025, 11, 2), True, False),  # 1 year on the exam day [S17s]
        (date(2022, 11, 3), True, False),  # the day before 4 years
        (date(2022, 11, 2), True, True),  # 4 years [S17s]
    ],
)
def test_age_limits(us, born, albendazole, praziquantel):
    found = plan(us, "KE", age=Age.between(born, EXAM))
    assert ("albendazole" in given(found)) is albendazole
    assert ("praziquantel" in given(found)) is praziquantel


def test_weight_limits_are_cautions_to_weigh_first(us):
    """Weight is not a recorded fact: ivermectin from 15 kg [IVM15], AL from 5 kg [S18d]."""
    found = plan(us, "KE")
    assert "ivermectin: only from 15 kg (weigh first)" in found.cautions
    assert "artemether-lumefantrine: only from 5 kg (weigh first)" in found.cautions
