"""The vaccination outcome (pmha.vaccines.outcome) from real plans, real CDSi forecasts and the
destinations' `[vaccination]` policies; one row per rule or boundary, its source cited
(DOMAIN BRIEF §1.5, §1.6, §4.1, §7.4).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmha.rules import Facts, RuleBook, load_rules, plan
from pmha.rules.cli import rules as rules_cli
from pmha.rules.plan import Reason
from pmha.vaccines.cdsi import Dose, Patient, forecast
from pmha.vaccines.outcome import (
    BLANKET_WAIVERS,
    CLASS_A,
    COMPLETE,
    NOT_APPLICABLE,
    OPEN,
    REFUSED,
    season_note,
    vaccination_outcome,
)
from pmha.vaccines.requirements import VaccineRequirement, requirements, season_start
from pmha.vaccines.seasons import CDSI_GROUPS

RULES_DIR = Path(__file__).resolve().parents[2] / "country_rules"
ADULT = date(1985, 3, 1)


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return load_rules(RULES_DIR)


def _reqs(
    book: RuleBook,
    *,
    destination: str = "US",
    programme: str = "immigrant",
    dob: date = ADULT,
    exam: date = date(2025, 11, 15),
    doses: tuple[Dose, ...] = (),
    refusals: dict[str, date] | None = None,
    waivers: dict[str, str] | None = None,
    pregnant: bool | None = False,
    country: str = "TR",
) -> list[VaccineRequirement]:
    facts = Facts(
        dob=dob,
        exam_date=exam,
        sex="female",
        programme=programme,
        destination=destination,
        exam_country=country,
        pregnant=pregnant,
    )
    ruleset = book.for_destination(destination)
    found = forecast(Patient(dob, "F"), list(doses), ["007"] if pregnant else [], exam)
    return requirements(
        plan(facts, book, exam).vaccines,
        found,
        country,
        exam,
        waivers=waivers or {},
        refusals=refusals or {},
        season=ruleset.flu_season(country),
    )


def _by(reqs: list[VaccineRequirement]) -> dict[str, VaccineRequirement]:
    return {r.vaccine: r for r in reqs}


# Every vaccine the adult needs in season, documented: MMR, Tdap, varicella, influenza this season.
SETTLED = (
    Dose(date(2005, 6, 1), "03"),
    Dose(date(2019, 1, 10), "115"),
    Dose(date(2006, 6, 1), "21"),
    Dose(date(2025, 10, 20), "141"),
)


# ---------------------------------------------------------------- the policy rows of the rule files


def test_us_policy_refusal_is_class_a_with_the_religious_or_moral_waiver(book: RuleBook) -> None:
    """US.toml [vaccination]: refusal without waiver -> Class A (vaccination) [S13f]; the
    individual waiver is the religious or moral one [S13d]; one dose of each [S13a] (§1.5)."""
    policy = book.for_destination("US").vaccination
    assert policy is not None
    assert (policy.refusal_outcome, policy.individual_waiver, policy.doses) == (
        "class_a",
        "religious_or_moral_waiver",
        "one",
    )
    assert set(policy.source) >= {"S13a", "S13d", "S13f"}
    assert "vaccination:class_a" in book.for_destination("US").clearance.hold


def test_au_policy_a_refusal_does_not_hold_travel(book: RuleBook) -> None:
    """AU.toml [vaccination]: the DHC (MMR included) is voluntary and visas are not cancelled
    [S29f] (§4.1): a refusal is recorded, no individual waiver route, nothing held."""
    ruleset = book.for_destination("AU")
    policy = ruleset.vaccination
    assert policy is not None
    assert (policy.refusal_outcome, policy.individual_waiver) == ("recorded", None)
    assert policy.source == ("S29f",)
    assert not [tag for tag in ruleset.clearance.hold if tag.startswith("vaccination:")]


@pytest.mark.parametrize("destination", ["CA", "GB", "NZ"])
def test_destinations_without_a_vaccination_requirement_set_no_policy(
    book: RuleBook, destination: str
) -> None:
    """CA, GB and NZ require no vaccine at the exam (BRIEF §2, §3, §4.2): no [[vaccine]] row
    and no [vaccination] policy; the outcome is not applicable."""
    ruleset = book.for_destination(destination)
    assert ruleset.vaccination is None
    assert not [n for n in ruleset.program(date(2025, 11, 15)) if n.section == "vaccine"]


# ---------------------------------------------------------------- the outcome


def test_everything_documented_is_complete(book: RuleBook) -> None:
    """§1.5: at least one dose of each required, age-appropriate vaccine [S13a]."""
    result = vaccination_outcome(_reqs(book, doses=SETTLED), book.for_destination("US").vaccination)
    assert result.value == COMPLETE and result.completable
    states = {v.vaccine: v.state for v in result.vaccines}
    assert states["Measles"] == "documented" and states["Influenza"] == "documented"


def test_a_dose_given_here_is_given_not_documented(book: RuleBook) -> None:
    result = vaccination_outcome(
        _reqs(book, doses=SETTLED), book.for_destination("US").vaccination, given={"Influenza"}
    )
    states = {v.vaccine: (v.state, v.words) for v in result.vaccines}
    assert states["Influenza"] == ("given", "Given: a valid dose given at this exam")


def test_a_refusal_without_waiver_is_class_a_in_the_us(book: RuleBook) -> None:
    """§1.5: refusal of a required vaccine without waiver -> Class A (vaccination) [S13f]."""
    doses = SETTLED[:2] + SETTLED[3:]  # no varicella
    reqs = _reqs(book, doses=doses, refusals={"Varicella": date(2025, 11, 15)})
    result = vaccination_outcome(reqs, book.for_destination("US").vaccination)
    assert result.value == CLASS_A and result.refused == ("Varicella",)
    assert result.completable
    assert "Class A" in result.words and "S13f" in result.trace[-1]
    varicella = {v.vaccine: v for v in result.vaccines}["Varicella"]
    assert (varicella.state, varicella.waiver) == ("refused", None)  # never a waiver


def test_an_individual_waiver_settles_a_refusal(book: RuleBook) -> None:
    """§1.5 other waivers: INA 212(g)(2)(C), religious belief or moral conviction [S13d]."""
    doses = SETTLED[:2] + SETTLED[3:]
    reqs = _reqs(
        book,
        doses=doses,
        refusals={"Varicella": date(2025, 11, 15)},
        waivers={"Varicella": "religious_or_moral_waiver"},
    )
    result = vaccination_outcome(reqs, book.for_destination("US").vaccination)
    assert result.value == COMPLETE
    varicella = {v.vaccine: v for v in result.vaccines}["Varicella"]
    assert (varicella.state, varicella.waiver) == ("individual_waiver", "religious_or_moral_waiver")


def test_an_individual_waiver_the_destination_does_not_offer_settles_nothing(
    book: RuleBook,
) -> None:
    """Australia names no individual waiver route [S29f]: one recorded stays open (hold, say
    why)."""
    reqs = _reqs(
        book,
        destination="AU",
        programme="refugee",
        waivers={"Measles": "religious_or_moral_waiver"},
        doses=(Dose(date(2005, 6, 1), "07"), Dose(date(2005, 6, 1), "06")),  # mumps, rubella
    )
    result = vaccination_outcome(reqs, book.for_destination("AU").vaccination)
    assert result.value == OPEN and "Measles" in result.open


def test_a_refusal_in_australia_is_recorded_and_holds_nothing(book: RuleBook) -> None:
    """§4.1: the DHC is voluntary; MMR for 9 months to 54 years [S29f]."""
    day = date(2025, 11, 15)
    mmr = {"Measles": day, "Mumps": day, "Rubella": day}  # one MMR refused
    reqs = _reqs(book, destination="AU", programme="refugee", refusals=mmr)
    refused = {r.vaccine for r in reqs if r.status == "refused"}
    assert refused == {"Measles", "Mumps", "Rubella"}
    result = vaccination_outcome(reqs, book.for_destination("AU").vaccination)
    assert result.value == REFUSED and "does not hold travel" in result.words


def test_a_refusal_with_no_policy_holds_and_says_why() -> None:
    """When unsure the system holds: no [vaccination] policy, a refusal stays open."""
    req = VaccineRequirement("Measles", "refused", Reason("x", (), "refused"))
    result = vaccination_outcome([req], None)
    assert result.value == OPEN and "say nothing about refusals" in result.trace[-1]


def test_a_us_refugee_is_not_applicable(book: RuleBook) -> None:
    """§1.1, §1.6: refugees are exempt from the vaccination requirement [S10, S15d]."""
    result = vaccination_outcome(
        _reqs(book, programme="refugee"), book.for_destination("US").vaccination
    )
    assert result.value == NOT_APPLICABLE and not result.blanket_waivers


def test_something_to_give_keeps_it_open(book: RuleBook) -> None:
    result = vaccination_outcome(_reqs(book), book.for_destination("US").vaccination)
    assert result.value == OPEN and not result.completable
    assert "Measles" in result.open


# ---------------------------------------------------------------- blanket waivers, derived


def _polio(book: RuleBook, exam: date) -> VaccineRequirement:
    dob = date(2007, 3, 10)
    return _by(_reqs(book, dob=dob, exam=exam))["Polio"]


def test_polio_the_day_before_the_18th_birthday_is_required(book: RuleBook) -> None:
    """US.toml us.vaccine.polio, age below 18y (§1.5 Table 1 [U], [S13a, S14])."""
    assert _polio(book, date(2025, 3, 9)).status in {"give_today", "due_now", "done"}


def test_polio_on_the_18th_birthday_is_not_age_appropriate(book: RuleBook) -> None:
    """§1.5 blanket waiver 'not age appropriate' [S13a]: shown as such, not 'not required'."""
    found = _polio(book, date(2025, 3, 10))
    assert (found.status, found.waiver) == ("waived", "not_age_appropriate")
    result = vaccination_outcome([found], None)
    assert result.vaccines[0].words == "Waived: not age appropriate"


def test_mmr_in_pregnancy_is_contraindicated(book: RuleBook) -> None:
    """§1.5 contraindication, pregnancy for live vaccines [S13a]; §7.4 [S34]."""
    found = _by(_reqs(book, pregnant=True))["Measles"]
    assert (found.status, found.waiver) == ("waived", "contraindicated")


def test_au_mmr_in_pregnancy_is_contraindicated_not_age(book: RuleBook) -> None:
    """§4.1 / §7.4: the Australian DHC gives no MMR in pregnancy [S29f]: the rule's condition
    fails on pregnancy, so the waiver is contraindicated, not 'not age appropriate'."""
    found = _by(_reqs(book, destination="AU", programme="refugee", pregnant=True))
    # Nothing else is required of her in Australia (MMR is all its DHC gives): not applicable,
    # and never "not age appropriate".
    assert found["Measles"].waiver != "not_age_appropriate"
    assert found["Measles"].status in {"not_required", "waived"}
    if found["Measles"].status == "waived":
        assert found["Measles"].waiver == "contraindicated"


def test_a_second_mmr_too_soon_is_insufficient_interval(book: RuleBook) -> None:
    """§1.5: remaining series doses waived as insufficient time interval [S13a]."""
    found = _by(_reqs(book, dob=date(2024, 7, 1), exam=date(2026, 7, 15),
                      doses=(Dose(date(2026, 7, 1), "03"),)))  # fmt: skip
    assert found["Measles"].waiver == "insufficient_interval"
    # The dose on record meets the requirement (one dose [S13a]): documented, with the rest of
    # the series waived; given at this exam, it reads "Given" (a nurse's words, not "Waived").
    result = vaccination_outcome([found["Measles"]], None)
    assert result.vaccines[0].state == "documented"
    assert result.vaccines[0].waiver == "insufficient_interval"
    assert result.vaccines[0].words == (
        "Documented: a valid dose on record; the next dose is waived (insufficient time since "
        "the last dose)"
    )
    given = vaccination_outcome([found["Measles"]], None, given={"Measles"})
    assert given.vaccines[0].words.startswith("Given: a valid dose given at this exam;")
    assert given.value == "complete"


def test_every_blanket_waiver_has_words() -> None:
    """§1.5 blanket waivers [S13a, S13e]: each in a nurse's words, no code."""
    assert set(BLANKET_WAIVERS) == {
        "not_age_appropriate",
        "insufficient_interval",
        "contraindicated",
        "not_flu_season",
        "not_routinely_available",
    }
    for words in BLANKET_WAIVERS.values():
        assert "_" not in words


def test_not_routinely_available(book: RuleBook) -> None:
    """§1.5: not routinely available in the country of exam (CDC-declared) [S13a]."""
    facts = Facts(
        dob=ADULT, exam_date=date(2025, 11, 15), sex="female", programme="immigrant",
        destination="US", exam_country="TR", pregnant=False,
    )  # fmt: skip
    reqs = requirements(
        plan(facts, book, facts.exam_date).vaccines,
        forecast(Patient(ADULT, "F"), [], [], facts.exam_date),
        "TR",
        facts.exam_date,
        not_routinely_available={"Varicella"},
        season=book.for_destination("US").flu_season("TR"),
    )
    assert _by(reqs)["Varicella"].waiver == "not_routinely_available"


@pytest.mark.parametrize("vaccine", sorted(CDSI_GROUPS))
def test_every_cdsi_vaccine_gets_an_outcome(book: RuleBook, vaccine: str) -> None:
    """Whatever vaccine a rule file lists (pmha.vaccines.seasons.CDSI_GROUPS), it has a state."""
    reqs = [r for r in _reqs(book) if r.vaccine == vaccine]
    result = vaccination_outcome(reqs, book.for_destination("US").vaccination)
    assert all(v.words for v in result.vaccines)


# ---------------------------------------------------------------- one influenza season


@pytest.mark.parametrize(
    ("exam", "status", "waiver"),
    [
        (date(2025, 9, 30), "waived", "not_flu_season"),  # the day before the season
        (date(2025, 10, 1), "give_today", None),  # first day [S23a]
        (date(2026, 3, 31), "give_today", None),  # last day [S23a]
        (date(2026, 4, 1), "waived", "not_flu_season"),  # the day after
        (date(2026, 12, 6), "give_today", None),  # CDSi's seasonal data ended 30 Jun 2026
    ],
)
def test_influenza_season_edges_in_turkiye(
    book: RuleBook, exam: date, status: str, waiver: str | None
) -> None:
    """§1.5 not flu season: 1 Oct - 31 Mar [S23a], the exam country's season [S23b]; §10
    Türkiye northern. In season: give today, whatever CDSi's seasonal dates say; never 'past
    seasonal end date' with no action."""
    found = _by(_reqs(book, exam=exam))["Influenza"]
    assert (found.status, found.waiver) == (status, waiver)


def test_a_dose_of_last_season_does_not_count_this_season(book: RuleBook) -> None:
    """§1.5 [S23a, S23b]: influenza is required for the current season."""
    last = (Dose(date(2025, 10, 20), "141"),)
    found = _by(_reqs(book, exam=date(2026, 11, 2), doses=last))["Influenza"]
    assert found.status == "give_today"
    this = (Dose(date(2026, 10, 2), "141"),)
    assert _by(_reqs(book, exam=date(2026, 11, 2), doses=this))["Influenza"].status == "done"


def test_the_page_notes_where_cdsi_disagrees_with_the_season(book: RuleBook) -> None:
    found = _by(_reqs(book, exam=date(2026, 12, 6)))["Influenza"]
    note = season_note(found)
    assert note is not None and "destination's influenza season" in note


def test_season_start_wraps_over_the_new_year(book: RuleBook) -> None:
    season = book.for_destination("US").flu_season("TR")
    assert season is not None
    assert season_start(season, date(2026, 2, 1)) == date(2025, 10, 1)
    assert season_start(season, date(2025, 10, 1)) == date(2025, 10, 1)
    assert season_start(season, date(2025, 10, 1) - timedelta(days=1)) == date(2024, 10, 1)


# ---------------------------------------------------------------- the CLI


def _evaluate(tmp_path: Path, facts: dict[str, Any]) -> Any:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    return CliRunner().invoke(
        rules_cli, ["evaluate", str(path), "--as-of", "2025-12-01", "--rules-dir", str(RULES_DIR)]
    )


def test_cli_shows_the_outcome_and_the_blanket_waivers(tmp_path: Path) -> None:
    """`pmha rules evaluate` with a vaccination history: the example's refusal is Class A
    [S13f]; each blanket waiver with its reason."""
    facts = json.loads((RULES_DIR / "examples" / "US-immigrant-refused.json").read_text())
    result = _evaluate(tmp_path, facts)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)["vaccination"]
    assert out["outcome"] == "class_a"
    varicella = next(v for v in out["vaccines"] if v["vaccine"] == "Varicella")
    assert (varicella["state"], varicella["waiver"]) == ("refused", None)
    hib = next(w for w in out["blanket_waivers"] if w["vaccine"] == "Hib")
    assert hib["words"] == "Waived: not age appropriate" and hib["why"]
    # Adult polio is required from 1 May 2024 [S23c]: her childhood dose counts, no waiver.
    polio = next(v for v in out["vaccines"] if v["vaccine"] == "Polio")
    assert polio["state"] == "documented"
    assert "Class A" in out["words"]


def test_cli_without_history_still_shows_the_outcome(tmp_path: Path) -> None:
    facts = json.loads((RULES_DIR / "examples" / "US-immigrant-refused.json").read_text())
    del facts["vaccinations"]
    out = json.loads(_evaluate(tmp_path, facts).output)["vaccination"]
    assert out["outcome"] == "open"


def test_cli_rejects_a_refusal_given_as_a_waiver(tmp_path: Path) -> None:
    """A refusal is never a waiver [S13f]: named field error, exit 1."""
    facts = json.loads((RULES_DIR / "examples" / "US-immigrant-refused.json").read_text())
    facts["vaccinations"]["waivers"] = {"Varicella": "refused"}
    result = _evaluate(tmp_path, facts)
    assert result.exit_code == 1
    assert "vaccinations.waivers.Varicella" in result.output
