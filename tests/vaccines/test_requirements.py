"""Vaccine requirements per destination rule, from real plans and real CDSi forecasts.

One row per rule, with the DOMAIN BRIEF section and source it checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from pmha.rules import Facts, RuleBook, load_rules, plan
from pmha.vaccines.cdsi import Dose, Patient, forecast
from pmha.vaccines.requirements import RequirementsError, VaccineRequirement, requirements

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return load_rules(PROJECT_ROOT / "country_rules")


@dataclass(frozen=True)
class Case:
    name: str
    source: str  # the rule it checks: BRIEF section [source]
    destination: str
    programme: str
    dob: date
    exam: date
    vaccine: str
    status: str
    waiver: str | None = None
    rule: str | None = None
    doses: tuple[Dose, ...] = ()
    pregnant: bool | None = None
    exam_country: str = "TR"
    waivers: dict[str, str] = field(default_factory=dict)
    refusals: dict[str, date] = field(default_factory=dict)
    unavailable: frozenset[str] | None = None
    earliest: date | None = None


CHILD = date(2024, 7, 1)
ADULT = date(1990, 1, 10)
CASES = [
    Case(
        "US immigrant child without MMR: give it today",
        "§1.5 one dose of each age-appropriate vaccine [S13a, S14]",
        "US",
        "immigrant",
        CHILD,
        date(2026, 7, 15),
        "Measles",
        "give_today",
        rule="us.vaccine.measles",
    ),
    Case(
        "US immigrant adult with a documented MMR: done",
        "§1.5 one dose of each age-appropriate vaccine [S13a, S14]",
        "US",
        "immigrant",
        ADULT,
        date(2026, 7, 15),
        "Measles",
        "done",
        rule="us.vaccine.measles",
        doses=(Dose(date(2010, 5, 1), "03"),),
    ),
    Case(
        "influenza in July in Türkiye: not flu season",
        "§1.5 not fall (flu) season, Oct 1 - Mar 31 [S23a, S23b]; §10 Türkiye northern",
        "US",
        "immigrant",
        ADULT,
        date(2025, 7, 15),
        "Influenza",
        "waived",
        waiver="not_flu_season",
        rule="us.vaccine.influenza",
    ),
    Case(
        "influenza in November in Türkiye: give today",
        "§1.5 influenza ≥ 6 months in season [S23a, S23b]",
        "US",
        "immigrant",
        ADULT,
        date(2025, 11, 15),
        "Influenza",
        "give_today",
        rule="us.vaccine.influenza",
    ),
    Case(
        "pregnant US immigrant and MMR: contraindicated",
        "§1.5 contraindication, pregnancy for live vaccines [S13a]; §7.4 [S34]",
        "US",
        "immigrant",
        date(1995, 1, 10),
        date(2026, 7, 15),
        "Measles",
        "waived",
        waiver="contraindicated",
        rule="us.vaccine.measles",
        pregnant=True,
    ),
    Case(
        "second MMR dose too soon: insufficient interval",
        "§1.5 remaining series doses waived as insufficient time interval [S13a]",
        "US",
        "immigrant",
        CHILD,
        date(2026, 7, 15),
        "Measles",
        "waived",
        waiver="insufficient_interval",
        rule="us.vaccine.measles",
        doses=(Dose(date(2026, 7, 1), "03"),),
        earliest=date(2026, 7, 29),
    ),
    Case(
        "MMR 10 days after varicella: due, not before 28 days",
        "§7.4 live-virus conflict, 28 days [S34b]",
        "US",
        "immigrant",
        CHILD,
        date(2026, 7, 15),
        "Measles",
        "due_now",
        rule="us.vaccine.measles",
        doses=(Dose(date(2026, 7, 5), "21"),),
        earliest=date(2026, 8, 2),
    ),
    Case(
        # issue 15: a listed vaccine outside its age window is the blanket waiver "not age
        # appropriate", not "not required" (BRIEF §1.5 blanket waivers [S13a]).
        "US immigrant adult and polio: the rule's age range ends at 18: not age appropriate",
        "§1.5 Table 1 age ranges and blanket waiver not age appropriate [S13a, S14]",
        "US",
        "immigrant",
        ADULT,
        date(2024, 4, 30),  # the window to 17 years holds until 30 Apr 2024 (US.toml)
        "Polio",
        "waived",
        waiver="not_age_appropriate",
        rule="us.vaccine.polio",
    ),
    Case(
        # Adults without a documented primary series need IPV for exams from 1 May 2024 [S23c]
        # (US.toml us.vaccine.polio, [vaccination] past_forecast_age): CDSi's routine schedule
        # ends at 18 [S34], but the destination requires a dose: give it, never waive it.
        "US immigrant adult and polio from 1 May 2024: give one dose of IPV",
        "§1.5 polio, the reported 2024 adult IPV change [S23c]; one dose [S13a]",
        "US",
        "immigrant",
        ADULT,
        date(2024, 5, 1),
        "Polio",
        "give_today",
        rule="us.vaccine.polio",
    ),
    Case(
        "US immigrant adult with a childhood polio series: done",
        "§1.5 one dose of each age-appropriate vaccine [S13a]; [S23c]",
        "US",
        "immigrant",
        ADULT,
        date(2024, 5, 1),
        "Polio",
        "done",
        rule="us.vaccine.polio",
        doses=tuple(
            Dose(d, "10")
            for d in (date(1990, 3, 10), date(1990, 5, 10), date(1990, 7, 10), date(1994, 2, 10))
        ),
    ),
    Case(
        # Regression (issue 14): a refusal used to read as a "refused" waiver and settle the
        # requirement. Refusal is not a waiver; without one it means Class A [S13f], which is
        # the physician's call (issue 15 models it): the requirement stays open.
        "a recorded refusal stays open: the physician decides",
        "§1.5 refusal of a required vaccine without waiver -> Class A [S13f]",
        "US",
        "immigrant",
        CHILD,
        date(2026, 7, 15),
        "Varicella",
        "refused",
        rule="us.vaccine.varicella",
        refusals={"Varicella": date(2026, 7, 14)},
    ),
    Case(
        # A refusal does not undo a valid dose: one dose of each age-appropriate vaccine meets
        # the requirement [S13a].
        "a refusal after a valid dose: the requirement is met",
        "§1.5 one dose of each age-appropriate vaccine [S13a]",
        "US",
        "immigrant",
        CHILD,
        date(2026, 7, 15),
        "Varicella",
        "done",
        rule="us.vaccine.varicella",
        doses=(Dose(date(2025, 7, 2), "21"),),
        refusals={"Varicella": date(2026, 7, 14)},
    ),
    Case(
        "a vaccine CDC declared not routinely available in the exam country",
        "§1.5 not routinely available [S13a]",
        "US",
        "immigrant",
        CHILD,
        date(2026, 7, 15),
        "HepB",
        "waived",
        waiver="not_routinely_available",
        rule="us.vaccine.hepb",
        unavailable=frozenset({"HepB"}),
    ),
    Case(
        "US refugee: MMR not required",
        "§1.6 refugees: vaccination not legally required [S15]",
        "US",
        "refugee",
        CHILD,
        date(2026, 7, 15),
        "Measles",
        "not_required",
        rule="us.vaccine.measles",
    ),
    Case(
        "US refugee in flu season: influenza not required",
        "§1.6 refugees: vaccination not legally required [S15]",
        "US",
        "refugee",
        ADULT,
        date(2025, 11, 15),
        "Influenza",
        "not_required",
        rule="us.vaccine.influenza",
    ),
    Case(
        "US refugee out of flu season: influenza not required, not waived",
        "§1.6 refugees: vaccination not legally required [S15]",
        "US",
        "refugee",
        ADULT,
        date(2025, 7, 15),
        "Influenza",
        "not_required",
        rule="us.vaccine.influenza",
    ),
    Case(
        "Australian departure health check: MMR given",
        "§4.1 DHC: MMR for 9 months - 54 years [S29f]",
        "AU",
        "humanitarian",
        ADULT,
        date(2026, 7, 15),
        "Measles",
        "give_today",
        rule="au.dhc.mmr.measles",
        pregnant=False,
    ),
    Case(
        "Australian departure health check with a written MMR record: done",
        "§4.1 DHC: unless a reliable written record [S29f]",
        "AU",
        "humanitarian",
        ADULT,
        date(2026, 7, 15),
        "Rubella",
        "done",
        rule="au.dhc.mmr.rubella",
        pregnant=False,
        doses=(Dose(date(2010, 5, 1), "03"),),
    ),
    Case(
        "Australian departure health check, pregnant: no MMR",
        "§4.1 DHC: not in pregnancy [S29f]",
        "AU",
        "humanitarian",
        ADULT,
        date(2026, 7, 15),
        "Measles",
        "not_required",
        rule="au.dhc.mmr.measles",
        pregnant=True,
    ),
    Case(
        "Australian departure health check, pregnancy not known yet: conditional",
        "§4.1 DHC: not in pregnancy [S29f]",
        "AU",
        "humanitarian",
        ADULT,
        date(2026, 7, 15),
        "Mumps",
        "conditional",
        rule="au.dhc.mmr.mumps",
    ),
]


def _run(case: Case, book: RuleBook) -> list[VaccineRequirement]:
    facts = Facts(
        dob=case.dob,
        exam_date=case.exam,
        sex="female",
        programme=case.programme,
        destination=case.destination,
        exam_country=case.exam_country,
        pregnant=case.pregnant,
    )
    the_plan = plan(facts, book, case.exam)
    result = forecast(
        Patient(case.dob, "F"),
        list(case.doses),
        ["007"] if case.pregnant else [],
        case.exam,
    )
    return requirements(
        the_plan.vaccines,
        result,
        case.exam_country,
        case.exam,
        waivers=case.waivers,
        refusals=case.refusals,
        not_routinely_available=case.unavailable,
        season=book.for_destination(case.destination).flu_season(case.exam_country),
        past_forecast_age=_policy_past_age(book, case.destination),
    )


def _policy_past_age(book: RuleBook, destination: str) -> frozenset[str]:
    policy = book.for_destination(destination).vaccination
    return policy.past_forecast_age if policy is not None else frozenset()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_requirement(case: Case, book: RuleBook) -> None:
    found = {r.vaccine: r for r in _run(case, book)}[case.vaccine]
    assert (found.status, found.waiver) == (case.status, case.waiver), found
    assert found.reason.rule == case.rule
    assert found.reason.source, "every decision cites its source"
    if case.earliest is not None:
        assert found.earliest == case.earliest


def test_us_refugee_needs_nothing(book: RuleBook) -> None:
    case = Case("", "§1.6 [S15]", "US", "refugee", CHILD, date(2025, 11, 15), "", "")
    assert {r.status for r in _run(case, book)} == {"not_required"}


def test_us_immigrant_child_lists_every_vaccine_of_the_rule_file(book: RuleBook) -> None:
    case = Case("", "§1.5 [S13a, S14]", "US", "immigrant", CHILD, date(2026, 7, 15), "", "")
    found = {r.vaccine: r for r in _run(case, book)}
    assert found["Measles"].cdsi_group == "MMR"
    assert found["Tetanus"].cdsi_group == "DTaP/Tdap/Td"
    assert found["Measles"].recommended == date(2025, 7, 1)
    assert found["Influenza"].waiver == "not_flu_season"
    assert found["COVID-19"].status == "not_required"  # no longer required from 11 Mar 2025 [S22a]


def test_unknown_recorded_waiver_is_refused(book: RuleBook) -> None:
    case = Case(
        "", "", "US", "immigrant", CHILD, date(2026, 7, 15), "", "", waivers={"Measles": "tired"}
    )
    with pytest.raises(RequirementsError):
        _run(case, book)


@pytest.mark.parametrize("reason", ["refused", "authority_waiver"])
def test_a_refusal_cannot_be_passed_as_a_waiver(book: RuleBook, reason: str) -> None:
    """Refusal is not a waiver (issue 14; BRIEF §1.5: the waivers are the blanket ones and
    INA 212(g)(2)(A)-(C) [S13a, S13d]; refusal without waiver -> Class A [S13f]); nor is an
    authority's waiver of a screening test a vaccine's."""
    case = Case(
        "", "", "US", "immigrant", CHILD, date(2026, 7, 15), "", "", waivers={"Measles": reason}
    )
    with pytest.raises(RequirementsError):
        _run(case, book)


def test_a_refused_requirement_is_not_settled(book: RuleBook) -> None:
    """What settles a requirement: a dose, immunity, a waiver, or not being required; a
    refusal leaves it open and says so in words [S13f]."""
    case = Case(
        "", "", "US", "immigrant", CHILD, date(2026, 7, 15), "", "",
        refusals={"Measles": date(2026, 7, 14)},
    )  # fmt: skip
    found = {r.vaccine: r for r in _run(case, book)}["Measles"]
    assert (found.status, found.waiver, found.settled) == ("refused", None, False)
    assert found.refused_on == date(2026, 7, 14)
    assert "refused by the applicant on 2026-07-14 (not a waiver)" in found.reason.detail


@pytest.mark.parametrize(
    ("country", "day", "inside"),
    [
        ("TR", date(2025, 10, 1), True),
        ("TR", date(2026, 3, 31), True),
        ("TR", date(2026, 4, 1), False),
        ("TR", date(2025, 9, 30), False),
        ("ZA", date(2025, 7, 1), True),
        ("ZA", date(2025, 11, 1), False),
    ],
)
def test_seasons(country: str, day: date, inside: bool, book: RuleBook) -> None:
    """§1.5 and §10: the exam country's season, from US.toml [S23a, S23b]; southern [U]."""
    season = book.for_destination("US").flu_season(country)
    assert season is not None
    assert season.contains(day) is inside


def test_a_destination_without_seasons_never_waives_influenza(book: RuleBook) -> None:
    """No [[flu_season]] in the file: influenza is not waived for the season (nothing assumed)."""
    case = Case("", "§1.5 [S23a]", "US", "immigrant", ADULT, date(2026, 7, 15), "", "")
    facts = Facts(
        dob=case.dob,
        exam_date=case.exam,
        sex="female",
        programme="immigrant",
        destination="US",
        exam_country="TR",
    )
    items = plan(facts, book, case.exam).vaccines
    result = forecast(Patient(case.dob, "F"), [], [], case.exam)
    found = {r.vaccine: r for r in requirements(items, result, "TR", case.exam, season=None)}
    assert found["Influenza"].waiver is None
