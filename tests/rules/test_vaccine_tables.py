"""Vaccine tables of every destination, row by row and boundary by boundary (issue 15).

Each row of the tables below names the rule id of country_rules/<destination>.toml, the sources
it cites and the section of shared/domain/BRIEF.md it comes from; every age window is tested the
day before and the day of each bound (ages are exact: a bound is reached on the birthday, see
country_rules/README.md, "Conditions"). The plan only says whether a vaccine is age appropriate
for the destination; whether a dose is due today is the CDSi forecast's (tests/vaccines).

United States (BRIEF 1.5 [S13a, S14]): the age windows are the brief's "commonly published" values
of CDC Vaccination TI Table 1, tagged [U] (Table 1 itself was not retrieved; US.toml lists the
open questions "us.vaccine.*"). Immigrant visa applicants only: refugees are not required to be
vaccinated (BRIEF 1.6 [S15]). Australia: MMR at the departure health check, 9 months to 54 years,
not in pregnancy (BRIEF 4.1 [S29f]). Canada (BRIEF 3), the United Kingdom (BRIEF 2) and New
Zealand (BRIEF 4.2) require no vaccine for immigration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from pmha.rules import Plan, RuleBook
from pmha.rules.dates import Period, add_months
from pmha.rules.facts import FactsError
from pmha.rules.vocabulary import VACCINES
from tests.rules.conftest import plan_for

IN_FORCE = date(2025, 6, 15)  # a boundary day when every current US row is in force


@dataclass(frozen=True)
class Bound:
    """One bound of a row's age window: `inside` says whether the day of the bound is in it."""

    rule: str  # the rule id in the destination's file
    vaccine: str  # CDSi antigen name (pmha.rules.vocabulary.VACCINES)
    age: str  # the period of the bound, as the rule file writes it
    inside: bool  # True for a lower bound (from), False for an upper bound (below)
    cite: str  # sources and BRIEF section
    destination: str = "US"
    programme: str = "immigrant"
    on: date = IN_FORCE  # the day of the bound (the exam date on the birthday)

    @property
    def id(self) -> str:
        edge = "from" if self.inside else "below"
        return f"{self.rule}:{edge}:{self.age}@{self.on.isoformat()}"


def _born(bound: Bound) -> date:
    """The birth date that makes the applicant exactly `bound.age` old on `bound.on`."""
    period = Period.parse(bound.age)
    if period.days:
        return bound.on - timedelta(days=period.days)
    born = add_months(bound.on, -period.months)
    assert period.after(born) == bound.on, "choose a boundary day that every month has"
    return born


def _status(result: Plan, vaccine: str) -> tuple[str, str | None]:
    item = next(v for v in result.vaccines if v.code == vaccine)
    return item.status, item.reason.rule


US = "BRIEF 1.5 Table 1 [U] [S13a, S14]"
US_BOUNDS = [
    # Influenza from 6 months (in season: the season is tested in tests/vaccines) [S23a, S23b].
    Bound("us.vaccine.influenza", "Influenza", "6m", True, f"{US}; season [S23a, S23b]"),
    # MMR from 12 months (born in 1957 or later: the CDSi immunity birth date, see below).
    Bound("us.vaccine.measles", "Measles", "12m", True, f"{US}, [S34]"),
    Bound("us.vaccine.mumps", "Mumps", "12m", True, f"{US}, [S34]"),
    Bound("us.vaccine.rubella", "Rubella", "12m", True, f"{US}, [S34]"),
    # Polio 2 months to 17 years until 30 Apr 2024; from 2 months, adults too, from 1 May 2024.
    Bound("us.vaccine.polio", "Polio", "2m", True, US, on=date(2023, 6, 15)),
    Bound("us.vaccine.polio", "Polio", "18y", False, US, on=date(2023, 6, 15)),
    Bound("us.vaccine.polio", "Polio", "2m", True, f"{US}; adults from 1 May 2024 [S23c]"),
    # DTaP/DT 2 months to 6 years, Td/Tdap from 7 years: tetanus and diphtheria from 2 months.
    Bound("us.vaccine.tetanus", "Tetanus", "2m", True, US),
    Bound("us.vaccine.diphtheria", "Diphtheria", "2m", True, US),
    # Pertussis: DTaP 2 months to 6 years (Td meets the row from 7: open question).
    Bound("us.vaccine.pertussis", "Pertussis", "2m", True, US),
    Bound("us.vaccine.pertussis", "Pertussis", "7y", False, US),
    # Rotavirus 6 weeks to 8 months (through the month; CDSi stops doses after 8 months 0 days).
    Bound("us.vaccine.rotavirus", "Rotavirus", "6w", True, f"{US}, BRIEF 7.3 [S34]"),
    Bound("us.vaccine.rotavirus", "Rotavirus", "9m", False, f"{US}, BRIEF 7.3 [S34]"),
    # Hib 2 to 59 months.
    Bound("us.vaccine.hib", "Hib", "2m", True, US),
    Bound("us.vaccine.hib", "Hib", "5y", False, US),
    # Hepatitis A 12 to 23 months ("possibly extended": open question).
    Bound("us.vaccine.hepa", "HepA", "12m", True, US),
    Bound("us.vaccine.hepa", "HepA", "24m", False, US),
    # Hepatitis B birth to 18 years ("possibly extended" to adults: open question).
    Bound("us.vaccine.hepb", "HepB", "19y", False, US),
    # MenACWY 11 to 18 years.
    Bound("us.vaccine.meningococcal", "Meningococcal", "11y", True, US),
    Bound("us.vaccine.meningococcal", "Meningococcal", "19y", False, US),
    # Varicella from 12 months.
    Bound("us.vaccine.varicella", "Varicella", "12m", True, US),
    # Pneumococcal 2 to 59 months and from 65 years (50 in CDSi v4.64 [S34]: open question).
    Bound("us.vaccine.pneumococcal", "Pneumococcal", "2m", True, f"{US}, [S34]"),
    Bound("us.vaccine.pneumococcal", "Pneumococcal", "5y", False, f"{US}, [S34]"),
    Bound("us.vaccine.pneumococcal", "Pneumococcal", "65y", True, f"{US}, [S34]"),
    # COVID-19: from 12 years from 1 Oct 2021 [S13a]; from 6 months from 25 Jul 2022 [S22c].
    Bound("us.vaccine.covid19", "COVID-19", "12y", True, "BRIEF 1.5 [S13a]", on=date(2022, 3, 15)),
    Bound(
        "us.vaccine.covid19", "COVID-19", "6m", True, "BRIEF 1.5 [S22c, S22a]", on=date(2023, 3, 15)
    ),
]

AU = "BRIEF 4.1 departure health check [S29f]"
AU_BOUNDS = [
    Bound(f"au.dhc.mmr.{name.lower()}", name, age, inside, AU, "AU", programme)
    for name in ("Measles", "Mumps", "Rubella")
    for age, inside in (("9m", True), ("55y", False))
    for programme in ("refugee", "humanitarian")
]

BOUNDS = US_BOUNDS + AU_BOUNDS


@pytest.mark.parametrize("bound", BOUNDS, ids=[b.id for b in BOUNDS])
def test_the_day_before_and_the_day_of_each_age_bound(bound: Bound, book: RuleBook) -> None:
    """Each bound of each row (rule id, sources and BRIEF section in the row: `bound.cite`): on
    the birthday that reaches a lower bound the vaccine is required, the day before it is not;
    on the birthday that reaches an upper bound it is no longer required, the day before it is
    (BRIEF 1.5 [S13a, S14]; 4.1 [S29f])."""
    born = _born(bound)
    before = bound.on - timedelta(days=1)
    found = {
        day: _status(
            plan_for(
                book,
                bound.destination,
                programme=bound.programme,
                dob=born.isoformat(),
                exam_date=day.isoformat(),
            ),
            bound.vaccine,
        )
        for day in (before, bound.on)
    }
    required = (("required", bound.rule),)
    inside, outside = (bound.on, before) if bound.inside else (before, bound.on)
    assert found[inside] in required, (bound.cite, inside, found)
    assert found[outside][0] == "not_required", (bound.cite, outside, found)


def test_hepatitis_b_is_required_from_the_day_of_birth(book: RuleBook) -> None:
    """us.vaccine.hepb, BRIEF 1.5 (Hep B birth to 18 years) [S13a, S14]: a newborn examined on
    the day of birth is required hepatitis B; nothing else is age appropriate yet."""
    result = plan_for(book, "US", dob="2025-06-15", exam_date="2025-06-15")
    required = {v.code for v in result.vaccines if v.status == "required"}
    assert required == {"HepB"}
    assert _status(result, "HepB") == ("required", "us.vaccine.hepb")


def test_polio_for_adults_starts_with_exams_on_1_may_2024(book: RuleBook) -> None:
    """us.vaccine.polio (two dated versions), BRIEF 1.5 [S13a, S14, S23c]: 2 months to 17 years
    until 30 Apr 2024; IPV for adults without a documented primary series from 1 May 2024."""
    adult = "1990-01-10"
    last = plan_for(book, "US", dob=adult, exam_date="2024-04-30")
    first = plan_for(book, "US", dob=adult, exam_date="2024-05-01")
    assert _status(last, "Polio") == ("not_required", "us.vaccine.polio")
    assert _status(first, "Polio") == ("required", "us.vaccine.polio")
    assert "S23c" in next(v for v in first.vaccines if v.code == "Polio").reason.source


@pytest.mark.parametrize("age", ["7y", "18y", "70y"])
def test_tetanus_and_diphtheria_stay_required_past_7_years(age: str, book: RuleBook) -> None:
    """us.vaccine.tetanus, us.vaccine.diphtheria, BRIEF 1.5 [S13a, S14]: DTaP/DT to 6 years is
    followed by Td/Tdap from 7 years, so neither window ends."""
    born = _born(Bound("", "", age, True, ""))
    result = plan_for(book, "US", dob=born.isoformat(), exam_date=IN_FORCE.isoformat())
    assert _status(result, "Tetanus") == ("required", "us.vaccine.tetanus")
    assert _status(result, "Diphtheria") == ("required", "us.vaccine.diphtheria")


@pytest.mark.parametrize(
    ("exam", "age", "status"),
    [
        ("2021-09-30", "30y", "not_required"),  # before 1 Oct 2021 [S13a]
        ("2021-10-01", "30y", "required"),
        ("2022-07-24", "6m", "not_required"),  # the 12-year floor until 24 Jul 2022 [U]
        ("2022-07-25", "6m", "required"),  # 6 months from 25 Jul 2022 [S22c]
        ("2025-03-10", "30y", "required"),
        ("2025-03-11", "30y", "not_required"),  # no longer required from 11 Mar 2025 [S22a]
    ],
)
def test_covid19_dated_versions(exam: str, age: str, status: str, book: RuleBook) -> None:
    """us.vaccine.covid19, BRIEF 1.5 COVID-19 status [S13a, S22c, S22a]: required from 1 Oct 2021
    (12 years and over), from 6 months from 25 Jul 2022, no longer from 11 Mar 2025."""
    born = _born(Bound("", "", age, True, "", on=date.fromisoformat(exam)))
    result = plan_for(book, "US", dob=born.isoformat(), exam_date=exam)
    assert _status(result, "COVID-19")[0] == status


def test_mmr_is_planned_for_an_applicant_born_before_1957(book: RuleBook) -> None:
    """us.vaccine.measles, BRIEF 1.5 (MMR >= 12 months, born >= 1957) [S14, S34]: the rule
    conditions cannot test a birth year (open question us.vaccine.mmr_born_before_1957), so the
    plan lists MMR and the CDSi forecast's immunity birth date (1 Jan 1957) settles it; see
    tests/vaccines/test_review.py (a US immigrant born in 1950)."""
    result = plan_for(book, "US", dob="1950-03-01", exam_date=IN_FORCE.isoformat())
    assert _status(result, "Measles") == ("required", "us.vaccine.measles")


# The brief's list of required diseases (BRIEF 1.5 [S13a, S14]); HPV and zoster are not on it.
US_REQUIRED = {
    "Diphtheria", "Tetanus", "Pertussis", "Polio", "Measles", "Mumps", "Rubella", "Rotavirus",
    "Hib", "HepA", "HepB", "Meningococcal", "Varicella", "Pneumococcal", "Influenza", "COVID-19",
}  # fmt: skip


def test_the_us_file_lists_every_required_vaccine(book: RuleBook) -> None:
    """US.toml [[vaccine]], BRIEF 1.5 'Diseases/vaccines required' [S13a, S14]: every disease
    of the list has a row (COVID-19 until 10 Mar 2025), and nothing else."""
    result = plan_for(book, "US", exam_date=IN_FORCE.isoformat())
    assert {v.code for v in result.vaccines} == US_REQUIRED
    assert US_REQUIRED <= VACCINES


# One age inside each US window (the same day for every row): a 6-month-old, a 1-year-old, a
# 12-year-old, an adult and a 70-year-old cover every row between them.
US_AGES = ["6m", "12m", "12y", "30y", "70y"]


@pytest.mark.parametrize("age", US_AGES)
def test_a_us_refugee_is_required_no_vaccine(age: str, book: RuleBook) -> None:
    """Every us.vaccine.* row is for immigrant visa applicants only (BRIEF 1.5 [S13a]); the
    refugee vaccination programme is offered, not required (BRIEF 1.6 [S15])."""
    born = _born(Bound("", "", age, True, ""))
    immigrant = plan_for(book, "US", dob=born.isoformat(), exam_date=IN_FORCE.isoformat())
    refugee = plan_for(
        book, "US", programme="refugee", dob=born.isoformat(), exam_date=IN_FORCE.isoformat()
    )
    assert any(v.status == "required" for v in immigrant.vaccines)
    assert {v.status for v in refugee.vaccines} == {"not_required"}


def test_every_us_vaccine_row_is_uncertain_and_cites_its_sources(book: RuleBook) -> None:
    """BRIEF 1.5: the Table 1 age ranges are [U] (not retrieved): each row in force says so and
    cites the vaccination requirement [S13a] and CDC's instructions [S14]."""
    born = _born(Bound("", "", "12m", True, ""))
    result = plan_for(book, "US", dob=born.isoformat(), exam_date=IN_FORCE.isoformat())
    for item in result.vaccines:
        if item.reason.rule is None:  # COVID-19: no rule in force
            continue
        assert "S13a" in item.reason.source, item


# ---------------------------------------------------------------- Australia (BRIEF 4.1)


@pytest.mark.parametrize("programme", ["refugee", "humanitarian"])
def test_au_no_mmr_in_pregnancy_and_held_while_unknown(programme: str, book: RuleBook) -> None:
    """au.dhc.mmr.*, BRIEF 4.1 departure health check [S29f]: MMR 9 months to 54 years unless
    pregnant (live vaccine, BRIEF 7.4); while pregnancy is not known the MMR waits for it."""
    pregnant = plan_for(book, "AU", programme=programme, pregnant=True)
    unknown = plan_for(book, "AU", programme=programme, pregnant=None)
    for name in ("Measles", "Mumps", "Rubella"):
        rule = f"au.dhc.mmr.{name.lower()}"
        assert _status(pregnant, name) == ("not_required", rule)
        assert _status(unknown, name) == ("conditional", rule)


@pytest.mark.parametrize("programme", ["immigrant", "temporary", "student", "family_reunification"])
def test_au_mmr_only_at_the_humanitarian_departure_health_check(
    programme: str, book: RuleBook
) -> None:
    """au.dhc.mmr.*, BRIEF 4.1 [S29f]: the departure health check is for humanitarian visa
    holders; no other Australian visa health examination requires a vaccine."""
    result = plan_for(book, "AU", programme=programme)
    assert {v.status for v in result.vaccines} == {"not_required"}


# ---------------------------------------------------------------- Canada, UK, New Zealand

NO_VACCINES = [
    ("CA", "BRIEF 3: the IME components by age list no vaccine [S28a, S28c]"),
    ("GB", "BRIEF 2.1 pre-entry TB screening [S25, S26b]; 2.2 resettlement: an IOM vaccination "
     "worksheet is appended, no vaccine is required [S27, S27b]"),
    ("NZ", "BRIEF 4.2: medical and chest X-ray certificates, no vaccine [S30a, S30c]"),
]  # fmt: skip
ANY_AGE = ["0d", "6w", "9m", "12m", "11y", "30y", "70y"]


@pytest.mark.parametrize(("destination", "cite"), NO_VACCINES, ids=[d for d, _ in NO_VACCINES])
def test_no_vaccine_is_required_for_immigration(
    destination: str, cite: str, book: RuleBook
) -> None:
    """Canada (BRIEF 3), the United Kingdom (BRIEF 2, resettlement included) and New Zealand
    (BRIEF 4.2) require no vaccine: the file has no [[vaccine]] row, so no plan lists one, at
    any age and for any programme the file covers (sources in `cite`)."""
    rules = book.for_destination(destination)
    for programme in sorted(rules.programmes):
        for age in ANY_AGE:
            born = _born(Bound("", "", age, True, ""))
            try:
                result = plan_for(
                    book,
                    destination,
                    programme=programme,
                    dob=born.isoformat(),
                    exam_date=IN_FORCE.isoformat(),
                )
            except FactsError as error:  # pragma: no cover - a fact the file refuses
                pytest.fail(f"{destination} {programme} {age}: {error}")
            assert result.vaccines == (), (cite, programme, age, result.vaccines)
