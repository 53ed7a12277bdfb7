"""Residence as a fact: the countries lived in, with dates (issue 15), its validation, the
regions file, and the conditions `lived_in` / `living_in` that read it.

Sources: BRIEF 1.6 [S16] (presumptive treatment by processing country; ivermectin never after a
Loa loa-endemic country, "resided or traveled in"), [S17] (2023: by origin), [S18] (malaria:
refugees "living in" P. falciparum-endemic sub-Saharan Africa). Region rows cite their own
sources in country_rules/regions/regions.toml.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pmha.rules import Facts, FactsError
from pmha.rules.facts import Residence, facts_to_dict
from pmha.rules.regions import RegionError, country_name, load_regions, parse_regions, resolve
from tests.rules.conftest import EXAM, check, make_facts, plan_for

DOB = "1990-03-15"


def facts_with(residence: Any, **more: Any) -> Facts:
    return make_facts("US", programme="refugee", residence=residence, **more)


# --- the fact and its validation -------------------------------------------------------------


def test_residence_reads_and_writes_back():
    facts = facts_with(
        [
            {"country": "CD", "from": "2012-01-01", "to": "2019-06-01"},
            {"country": "UG", "from": "2019-06-01"},
        ]
    )
    assert facts.residence == (
        Residence("CD", date(2012, 1, 1), date(2019, 6, 1)),
        Residence("UG", date(2019, 6, 1), None),
    )
    again = Facts.from_dict(facts_to_dict(facts))
    assert again.residence == facts.residence


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        (
            {"country": "CD", "from": "2019-01-01", "to": "2018-12-31"},
            "residence[0].to",
            "The end date is before the start date.",
        ),
        (
            {"country": "CD", "from": "1990-03-14"},  # the day before birth
            "residence[0].from",
            "The start date is before the date of birth.",
        ),
        (
            {"country": "CD", "from": "2025-05-13"},  # the day after the exam (EXAM 2025-05-12)
            "residence[0].from",
            "The start date is after the exam date.",
        ),
        (
            {"country": "CD", "from": "2020-01-01", "to": "2025-05-13"},
            "residence[0].to",
            "The end date is after the exam date.",
        ),
        ({"country": "cd", "from": "2020-01-01"}, "residence[0].country", "ISO 3166-1"),
        ({"country": "COD", "from": "2020-01-01"}, "residence[0].country", "ISO 3166-1"),
        ({"country": "CD"}, "residence[0].from", "Missing or not a valid date"),
        ({"country": "CD", "from": "2020-02-30"}, "residence[0].from", "not a valid date"),
        ({"country": "CD", "from": "2020-01-01", "to": "soon"}, "residence[0].to", "valid date"),
        ({"country": "CD", "from": "2020-01-01", "city": "Goma"}, "residence[0].city", "Unknown"),
    ],
)
def test_every_invalid_period_is_named(period, field, message):
    with pytest.raises(FactsError) as caught:
        facts_with([period])
    assert any(message.lower() in m.lower() for m in caught.value.errors.get(field, [])), (
        caught.value.errors
    )


@pytest.mark.parametrize(
    "period",
    [
        {"country": "CD", "from": DOB},  # from the day of birth
        {"country": "CD", "from": "2020-01-01", "to": EXAM.isoformat()},  # to the exam day
        {"country": "CD", "from": EXAM.isoformat()},  # arrived on the exam day
        {"country": "CD", "from": "2020-01-01", "to": "2020-01-01"},  # one day
    ],
)
def test_boundaries_that_are_allowed(period):
    assert facts_with([period]).residence


def test_residence_must_be_a_list_of_objects():
    with pytest.raises(FactsError) as caught:
        facts_with({"country": "CD"})
    assert "residence" in caught.value.errors
    with pytest.raises(FactsError) as caught:
        facts_with(["CD"])
    assert "residence[0]" in caught.value.errors


# --- the regions file ------------------------------------------------------------------------


def test_the_regions_file_loads_and_every_row_is_cited():
    regions = load_regions()
    # S16 names DRC and South Sudan as Loa loa-endemic (ivermectin not given)
    assert {"CD", "SS"} <= regions["loa_loa_endemic"].countries
    assert "S16" in regions["loa_loa_endemic"].sources
    # the 2017 table's rows [S16]
    assert regions["middle_east_asia"].countries == {"EG", "IQ", "JO", "MY", "NP", "PK", "TH"}
    assert regions["albendazole_only"].countries == {"ID", "LK"}
    assert regions["no_presumptive"].countries == {"LB", "TR"}
    # CDC treats Sudanese refugees as African (S16: AL for Sudanese Darfuri)
    assert {"SD", "KE", "UG", "ET", "TD"} <= regions["sub_saharan_africa"].countries
    assert "EG" not in regions["sub_saharan_africa"].countries
    # regions that include others are their union
    assert (
        regions["pf_endemic_sub_saharan_africa"].countries
        >= regions["sub_saharan_africa"].countries
    )
    assert regions["presumptive_covered"].countries >= {"JO", "ID", "CD", "KE"}
    assert not regions["presumptive_covered"].countries & {"TR", "LB", "DE"}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            {
                "region": [
                    {
                        "name": "x",
                        "label": "X",
                        "countries": ["ZZ"],
                        "source": ["A"],
                        "confidence": "C",
                    }
                ],
                "sources": {"A": {}},
            },
            "not an ISO",
        ),
        (
            {
                "region": [
                    {
                        "name": "x",
                        "label": "X",
                        "countries": ["CD"],
                        "source": ["B"],
                        "confidence": "C",
                    }
                ],
                "sources": {"A": {}},
            },
            "not in [sources]",
        ),
        (
            {
                "region": [{"name": "x", "label": "X", "countries": ["CD"], "source": ["A"]}],
                "sources": {"A": {}},
            },
            "confidence",
        ),
        (
            {
                "region": [
                    {
                        "name": "x",
                        "label": "X",
                        "includes": ["y"],
                        "source": ["A"],
                        "confidence": "C",
                    }
                ],
                "sources": {"A": {}},
            },
            "unknown region",
        ),
        (
            {
                "region": [{"name": "x", "label": "X", "source": ["A"], "confidence": "C"}],
                "sources": {"A": {}},
            },
            "give countries or includes",
        ),
    ],
)
def test_a_broken_regions_file_is_refused(raw, problem):
    with pytest.raises(RegionError) as caught:
        parse_regions(raw)
    assert problem in str(caught.value)


def test_names_and_codes_resolve():
    assert resolve(["CD", "NG"]) == {"CD", "NG"}
    assert "CD" in resolve("loa_loa_endemic")
    with pytest.raises(ValueError, match="unknown region"):
        resolve("loa_loa")
    assert country_name("CD") == "Democratic Republic of the Congo"
    assert country_name("TZ") == "Tanzania"


# --- the requirement applies by exam country or residence -------------------------------------


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        # [S16]: processing in the Middle East / Asia, Indonesia and Sri Lanka, sub-Saharan Africa
        ({"exam_country": "JO"}, "required"),
        ({"exam_country": "LK"}, "required"),
        ({"exam_country": "KE"}, "required"),
        # [S16]: Lebanon and Turkiye: none, unless the refugee lived in sub-Saharan Africa
        # (2023: by origin [S17]); a residence in Asia does not bring it in there
        ({"exam_country": "TR"}, "not_required"),
        ({"exam_country": "LB"}, "not_required"),
        (
            {"exam_country": "TR", "residence": [{"country": "CD", "from": "2010-01-01"}]},
            "required",
        ),
        (
            {"exam_country": "TR", "residence": [{"country": "PK", "from": "2010-01-01"}]},
            "not_required",
        ),
        # residence in a covered region counts, even ended long ago (2023: by origin [S17])
        (
            {
                "exam_country": "DE",
                "residence": [{"country": "SO", "from": "1990-03-15", "to": "2001-01-01"}],
            },
            "required",
        ),
        ({"exam_country": "DE"}, "not_required"),
        (
            {"exam_country": "DE", "residence": [{"country": "FR", "from": "2001-01-01"}]},
            "not_required",
        ),
    ],
)
def test_presumptive_treatment_requirement_follows_residence(book, overrides, status):
    residence = overrides.pop("residence", None)
    more = {"residence": residence} if residence else {}
    check(
        plan_for(book, "US", programme="refugee", **overrides, **more),
        {"presumptive_treatment": status},
    )


def test_immigrants_are_not_given_presumptive_treatment(book):
    """BRIEF 1.6: presumptive treatment is the refugee programme's (IOM-administered) [S16]."""
    check(plan_for(book, "US", exam_country="KE"), {"presumptive_treatment": "not_required"})


# --- the conditions -------------------------------------------------------------------------


def _test(name: str, value: Any):
    from pmha.rules.conditions import Compiled, Context, always
    from pmha.rules.dates import Age
    from pmha.rules.predicates import PREDICATES

    cond = PREDICATES[name](value, Compiled(always))

    def run(facts: Facts) -> bool | None:
        return cond(Context(facts, Age.between(facts.dob, facts.exam_date), None))

    return run


def test_lived_in_counts_any_stay_and_the_exam_country():
    """'resided or traveled in' [S16]: any period, however long ago, and where the exam is."""
    lived = _test("lived_in", "loa_loa_endemic")
    assert lived(facts_with([{"country": "CD", "from": "2000-01-01", "to": "2001-01-01"}]))
    assert lived(facts_with([], exam_country="TD"))  # Chad: exam country in the region
    assert not lived(facts_with([{"country": "UG", "from": "2000-01-01"}], exam_country="KE"))
    assert _test("lived_in", ["SS"])(facts_with([{"country": "SS", "from": "2000-01-01"}]))


def test_living_in_needs_a_stay_not_ended_before_the_exam():
    """'living in' [S18]: the day before the exam is over; the exam day itself still counts."""
    living = _test("living_in", "pf_endemic_sub_saharan_africa")
    day_before, exam = "2025-05-11", EXAM.isoformat()
    assert not living(
        facts_with([{"country": "UG", "from": "2010-01-01", "to": day_before}], exam_country="DE")
    )
    assert living(
        facts_with([{"country": "UG", "from": "2010-01-01", "to": exam}], exam_country="DE")
    )
    assert living(facts_with([{"country": "UG", "from": "2010-01-01"}], exam_country="DE"))
    assert living(facts_with([], exam_country="KE"))


def test_a_misspelt_region_is_a_rule_file_problem():
    from pmha.rules.compiler import compile_condition

    problems: list[tuple[str, str]] = []
    compile_condition({"lived_in": "loa_loa"}, "when", problems)
    assert problems and "unknown region" in problems[0][1]
