"""The shared TB incidence table (country_rules/tb_incidence.toml) and what the plan does with it.

BRIEF 1.2: the burden category is the WHO-estimated TB incidence of the country where the exam
is done, < 20 per 100,000 low, >= 20 high [S1, S8]; CDC reads WHO's TB country profiles [S1b].
The table holds WHO's estimate (indicator e_inc_100k) for every country in WHO's file
TB_burden_countries_2025-07-22.csv (source WHOTB), rebuilt by scripts/tb_incidence.py from the
columns kept in scripts/data/. An exam country not in it is a named problem of the plan, and the
steps that depend on the burden are blocked with that reason (never planned as conditional).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pycountry
import pytest
from click.testing import CliRunner

from pmha.rules import FactsError, RuleBook, load_rules
from pmha.rules.cli import rules
from pmha.rules.loader import INCIDENCE_FILE, check_all
from tests.rules.conftest import RULES_DIR, plan_for

ROOT = RULES_DIR.parent
EXTRACT = ROOT / "scripts" / "data" / "who_tb_burden_countries_2025-07-22_e_inc_100k.csv"
TABLE = RULES_DIR / INCIDENCE_FILE
DESTINATIONS = ("US", "GB", "CA", "AU", "NZ")


def who_rows() -> dict[str, dict[str, str]]:
    """WHO's rows as kept in the repository (csv module: Namibia's code NA stays a string)."""
    with EXTRACT.open(encoding="utf-8", newline="") as handle:
        return {row["iso2"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def table(book: RuleBook) -> Any:
    assert book.incidence is not None
    return book.incidence


# --- the table: every WHO country, as in WHO's file ----------------------------------------------


def test_the_table_covers_every_country_in_whos_file(table: Any) -> None:
    """WHO's 2025-07-22 file estimates 215 countries and areas, all for 2023 [WHOTB]."""
    rows = who_rows()
    assert len(rows) == 215
    assert set(table.rows) == set(rows)
    assert {r.year for r in table.rows.values()} == {2023}


def test_every_row_is_whos_value_and_year_with_its_source(table: Any) -> None:
    for code, row in who_rows().items():
        found = table.rows[code]
        assert (found.per_100k, found.year) == (float(row["e_inc_100k"]), int(row["year"])), code
        assert found.source == ("WHOTB",)
    source = table.sources["WHOTB"]
    assert "TB_burden_countries_2025-07-22.csv" in source["title"]
    assert "e_inc_100k" in source["title"]
    assert "dicook/SISBID" in source["note"]
    assert "598c4769b99b31b7989e49f9ae0fc6bf3181e03b" in source["note"]


@pytest.mark.parametrize(
    ("code", "per_100k"),
    [
        # Read from WHO's TB_burden_countries_2025-07-22.csv, year 2023 [WHOTB].
        ("AF", 180),
        ("IN", 195),
        ("PK", 277),
        ("PH", 643),
        ("ID", 387),
        ("ZA", 427),
        ("NA", 468),  # Namibia: "NA" is a code, not a missing value
        ("LS", 664),
        ("CN", 52),
        ("SY", 17),
        ("UA", 112),
        ("TR", 13),
        ("FR", 8.3),
        ("GB", 7.6),
        ("US", 3.1),
        ("VG", 0),  # an estimate of zero is an estimate
        ("TT", 21),
        ("TK", 19),
    ],
)
def test_a_sample_of_rows_against_whos_file(table: Any, code: str, per_100k: float) -> None:
    found = table.rows[code]
    assert (found.per_100k, found.year) == (per_100k, 2023)


def test_codes_are_iso_3166_and_agree_with_whos_iso3() -> None:
    """WHO's own iso2 column is used; pycountry (ISO 3166-1) confirms each iso2/iso3 pair."""
    for code, row in who_rows().items():
        country = pycountry.countries.get(alpha_2=code)
        assert country is not None and country.alpha_3 == row["iso3"], row["country"]


def test_countries_without_an_estimate_are_an_open_question(table: Any) -> None:
    (question,) = table.open_questions
    missing = sorted(c.alpha_2 for c in pycountry.countries if c.alpha_2 not in table.rows)
    assert "TW" in missing
    for code in missing:
        assert code in question.question


def test_the_script_rebuilds_the_committed_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("tb_incidence", ROOT / "scripts/tb_incidence.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "tb_incidence", script)  # its dataclass looks itself up
    spec.loader.exec_module(script)
    out, extract = tmp_path / "table.toml", tmp_path / "extract.csv"
    assert script.main([str(EXTRACT), "--output", str(out), "--extract", str(extract)]) == 0
    assert out.read_text(encoding="utf-8") == TABLE.read_text(encoding="utf-8")
    assert extract.read_bytes() == EXTRACT.read_bytes()


# --- every destination reads it; a destination's own row overrides --------------------------------


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_every_destination_reads_the_shared_table(book: RuleBook, destination: str) -> None:
    ruleset = book.for_destination(destination)
    assert ruleset.incidence["PK"].per_100k == 277
    assert "WHOTB" in ruleset.sources


def test_the_us_file_keeps_its_cited_turkiye_row(book: RuleBook) -> None:
    """US.toml: Türkiye 11.5 in 2022 [S38f] (BRIEF 1.2) overrides WHO's 13 for 2023; both low."""
    assert book.for_destination("US").incidence["TR"].source == ("S38f",)
    assert book.for_destination("US").incidence["TR"].per_100k == 11.5
    assert book.for_destination("GB").incidence["TR"].per_100k == 13
    result = plan_for(book, "US", dob="2015-01-01", exam_country="TR")
    assert (result.burden.category, result.burden.per_100k, result.burden.year) == (
        "low",
        11.5,
        2022,
    )


def test_the_plan_records_the_burden_with_year_and_source(book: RuleBook) -> None:
    result = plan_for(book, "US", dob="2015-01-01", exam_country="PK")
    assert result.burden.category == "high"
    assert (result.burden.per_100k, result.burden.year, result.burden.source) == (
        277,
        2023,
        ("WHOTB",),
    )
    assert result.problems == ()


# --- the threshold: 19.9 low, 20 high [S1, S8] --------------------------------------------------


def _us_with_turkiye_at(tmp_path: Path, per_100k: str) -> RuleBook:
    for path in RULES_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    us = (tmp_path / "US.toml").read_text(encoding="utf-8")
    assert us.count("per_100k = 11.5") == 1
    (tmp_path / "US.toml").write_text(us.replace("per_100k = 11.5", f"per_100k = {per_100k}"))
    return load_rules(tmp_path)


def test_19_9_per_100k_is_low_burden(tmp_path: Path) -> None:
    """S1 (low-burden flowchart: incidence < 20): a child without symptoms needs no IGRA."""
    book = _us_with_turkiye_at(tmp_path, "19.9")
    result = plan_for(book, "US", dob="2015-01-01", exam_country="TR")
    assert result.burden.category == "low"
    assert result.requirement("igra").status == "not_required"


def test_20_per_100k_is_high_burden(tmp_path: Path) -> None:
    """S8 (DS-3030: IGRA for 2-14 'where WHO-estimated TB rate >= 20 per 100,000')."""
    book = _us_with_turkiye_at(tmp_path, "20")
    result = plan_for(book, "US", dob="2015-01-01", exam_country="TR")
    assert result.burden.category == "high"
    assert result.requirement("igra").status == "required"


def test_the_threshold_stays_in_the_us_file(book: RuleBook) -> None:
    """BRIEF 1.2 [S1, S8]: the threshold is the destination's, not the shared table's."""
    assert book.for_destination("US").burden_threshold == 20
    assert book.for_destination("US").burden_source == ("S1", "S8")


# --- an exam country not in the table: a named problem, and the steps that need it held ----------


def test_a_child_examined_where_who_has_no_estimate_is_held_with_the_reason(book: RuleBook) -> None:
    """S8: a child's IGRA depends on the burden. Taiwan has no WHO estimate: the IGRA is blocked
    (held), never "conditional", and the plan says which country and what to do."""
    result = plan_for(book, "US", dob="2015-01-01", exam_country="TW")
    (problem,) = result.problems
    assert "Taiwan (TW)" in problem
    assert "no WHO estimate of TB incidence" in problem
    assert "physician must check the exam country" in problem
    igra = result.requirement("igra")
    assert igra.status == "blocked"
    assert igra.reason.detail.startswith("held: the exam country Taiwan (TW)")
    assert result.burden.category is None
    assert result.to_dict()["problems"] == [problem]
    assert result.to_dict()["tb_burden"]["category"] is None


def test_the_steps_after_the_held_one_wait_for_it(book: RuleBook) -> None:
    """S8: the X-ray follows a positive IGRA: it waits for the held IGRA, it is not decided."""
    result = plan_for(book, "US", dob="2015-01-01", exam_country="TW")
    assert result.requirement("chest_xray").status == "conditional"
    assert result.requirement("chest_xray").awaiting == ("igra",)


def test_a_step_that_does_not_depend_on_the_burden_is_not_held(book: RuleBook) -> None:
    """S1: an adult's chest X-ray does not read the burden; the IGRA's window (2-14) excludes
    adults, so nothing is held, but the plan still names the missing country."""
    result = plan_for(book, "US", exam_country="TW")
    assert result.requirement("chest_xray").status == "required"
    assert result.requirement("igra").status == "not_required"
    assert not [r for r in result.requirements if r.status == "blocked"]
    assert result.problems


def test_a_child_with_symptoms_needs_the_igra_whatever_the_burden(book: RuleBook) -> None:
    """S8: a child of 2-14 needs the IGRA where the burden is high; S1: in a low-burden country
    too when there are symptoms. Either way it is required: not held, and the reason says so."""
    result = plan_for(book, "US", dob="2015-01-01", exam_country="TW", tb_symptoms=True)
    igra = result.requirement("igra")
    assert igra.status == "required"
    assert igra.reason.detail == (
        "required whatever the TB burden (us.tb.igra.high_burden if high; "
        "us.tb.igra.low_burden if low)"
    )
    assert igra.awaiting == ()


@pytest.mark.parametrize("destination", ["GB", "CA", "AU", "NZ"])
def test_destinations_whose_rules_do_not_read_the_burden(book: RuleBook, destination: str) -> None:
    """Only the US rules condition on the exam country's burden (BRIEF 1.2); the UK screens
    nationals of listed countries (BRIEF 2.1), which is not the exam country's incidence. Their
    plans for an exam in Taiwan hold nothing and name no problem."""
    ruleset = book.for_destination(destination)
    assert ruleset.burden_threshold is None
    assert not [r for n in ruleset.nodes for r in n.items if r.reads.burden]
    programme = next(iter(sorted(ruleset.programmes)))
    result = plan_for(book, destination, dob="2015-01-01", exam_country="TW", programme=programme)
    assert result.problems == ()
    assert not [r for r in result.requirements if r.status == "blocked"]


def test_an_unknown_country_code_is_a_facts_error(book: RuleBook) -> None:
    """XX is no country: the facts are refused, naming the field (not a held plan)."""
    with pytest.raises(FactsError) as caught:
        plan_for(book, "US", exam_country="XX")
    assert "exam_country" in caught.value.errors


# --- pmha rules check validates the table ---------------------------------------------------------


def _problems_with(tmp_path: Path, old: str, new: str) -> list[str]:
    for path in RULES_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    text = TABLE.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / INCIDENCE_FILE).write_text(text.replace(old, new, 1), encoding="utf-8")
    _, _, problems = check_all(tmp_path)
    return [str(p) for p in problems]


AF_ROW = 'country = "AF"\nper_100k = 180\nyear = 2023\nsource = ["WHOTB"]'


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (AF_ROW.replace('"AF"', '"XK"'), "XK is not an ISO 3166-1 country code"),
        (AF_ROW.replace('"AF"', '"AL"'), "country AL is listed twice"),
        (AF_ROW.replace('["WHOTB"]', '["WHO99"]'), "source 'WHO99' is not in the [sources] table"),
        (AF_ROW.replace("180", "-1"), "per_100k"),
        (AF_ROW.replace('\nsource = ["WHOTB"]', ""), "source"),
    ],
    ids=["unknown country", "duplicate", "unknown source", "negative", "no source"],
)
def test_rules_check_names_what_is_wrong_in_the_table(
    tmp_path: Path, new: str, expected: str
) -> None:
    problems = _problems_with(tmp_path, AF_ROW, new)
    assert problems
    assert all(p.startswith(f"{INCIDENCE_FILE}: ") for p in problems)
    assert any(expected in p for p in problems), problems


def test_rules_check_lists_the_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(rules, ["check", "--rules-dir", str(RULES_DIR)])
    assert result.exit_code == 0, result.output
    assert f"{INCIDENCE_FILE}: TB incidence of 215 countries: ok" in result.output
    broken = _problems_with(tmp_path, AF_ROW, AF_ROW.replace("180", "-1"))
    assert broken
    result = CliRunner().invoke(rules, ["check", "--rules-dir", str(tmp_path)])
    assert result.exit_code == 1


def test_rules_questions_lists_the_tables_open_question() -> None:
    result = CliRunner().invoke(rules, ["questions", "--rules-dir", str(RULES_DIR)])
    assert result.exit_code == 0, result.output
    assert "tb_incidence.unlisted_countries" in result.output


def test_the_example_shows_the_named_problem() -> None:
    """country_rules/examples/US-child-exam-country-not-estimated.json, through the CLI."""
    example = RULES_DIR / "examples" / "US-child-exam-country-not-estimated.json"
    args = ["evaluate", str(example), "--as-of", "2025-06-01", "--rules-dir", str(RULES_DIR)]
    result = CliRunner().invoke(rules, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert "Taiwan (TW)" in out["problems"][0]
    igra = next(r for r in out["requirements"] if r["code"] == "igra")
    assert igra["status"] == "blocked"


def test_a_refreshed_table_changes_every_destinations_rules_sha256(
    tmp_path: Path, book: RuleBook
) -> None:
    """The plan records rules_sha256; a new table must show there, so kept plans are re-planned."""
    _problems_with(tmp_path, AF_ROW, AF_ROW.replace("180", "181"))
    refreshed = load_rules(tmp_path)
    for destination in DESTINATIONS:
        before = book.for_destination(destination).sha256
        assert refreshed.for_destination(destination).sha256 != before


def test_a_folder_without_the_table_still_loads(tmp_path: Path) -> None:
    """Without the shared table the US rules know only their own rows: elsewhere, held."""
    shutil.copy(RULES_DIR / "US.toml", tmp_path / "US.toml")
    book = load_rules(tmp_path)
    assert book.incidence is None
    assert set(book.for_destination("US").incidence) == {"TR"}
    result = plan_for(book, "US", dob="2015-01-01", exam_country="PK")
    assert result.requirement("igra").status == "blocked"
    assert "Pakistan (PK)" in result.problems[0]
