"""Broken rule files: each kind of fault gives a message naming the file, key path and fault."""

from __future__ import annotations

import shutil

import pytest

from pmha.rules import RuleFileError, check_rules, load_rules
from tests.rules.conftest import RULES_DIR

HEAD = """
[meta]
destination = "NZ"
version = "t1"
title = "test"
programmes = ["immigrant"]

[sources]
S1 = { title = "a source" }

[clearance]
family = "all_travellers"
hold = ["tb_class:class_a"]
source = ["S1"]
"""

GOOD_RULE = """
[[requirement]]
id = "nz.cxr"
code = "chest_xray"
source = ["S1"]
effective_from = 2020-01-01
when = { age = { from = "11y" } }
"""


def problems_of(tmp_path, text, name="NZ.toml"):
    (tmp_path / name).write_text(HEAD + text)
    _, problems = check_rules(tmp_path)
    return [str(p) for p in problems]


def test_a_good_file_loads(tmp_path):
    assert problems_of(tmp_path, GOOD_RULE) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'hold = ["tb_class:class_a"]',
            'hold = ["tb_class:class_z"]',
            "'class_z' is not a value of tb_class",
        ),
        ('hold = ["tb_class:class_a"]', 'hold = ["tbclass"]', "unknown outcome kind"),
        ('family = "all_travellers"', 'family = "everyone"', "clearance.family: Must be one of"),
    ],
)
def test_clearance_section_faults_are_named(tmp_path, old, new, expected):
    (tmp_path / "NZ.toml").write_text((HEAD + GOOD_RULE).replace(old, new))
    _, problems = check_rules(tmp_path)
    assert any(expected in str(p) for p in problems), problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD_RULE.replace("code =", "cod ="),
            "NZ.toml: requirement[0] (nz.cxr).cod: Unknown field.",
        ),
        (
            GOOD_RULE.replace("chest_xray", "chest_xrays"),
            "requirement[0] (nz.cxr).code: Must be one of",
        ),
        (
            GOOD_RULE.replace('source = ["S1"]\n', ""),
            "requirement[0] (nz.cxr).source: Missing data",
        ),
        (
            GOOD_RULE.replace('["S1"]', '["S9"]'),
            "requirement[0] (nz.cxr).source: source 'S9' is not in the [sources] table",
        ),
        (
            GOOD_RULE.replace("age =", "aeg ="),
            "requirement[0] (nz.cxr).when.aeg: unknown condition 'aeg'",
        ),
        (
            GOOD_RULE.replace('"11y"', '"11 years"'),
            "requirement[0] (nz.cxr).when.age: '11 years' is not a period",
        ),
        (
            GOOD_RULE.replace("2020-01-01", '"2020-01-01"'),
            "requirement[0] (nz.cxr).effective_from: use a bare TOML date",
        ),
        (
            GOOD_RULE.replace('{ age = { from = "11y" } }', '{ result = { igra = "posative" } }'),
            "when.result: unknown igra result 'posative'",
        ),
        (
            GOOD_RULE + GOOD_RULE.replace("2020-01-01", "2024-01-01"),
            "rule id 'nz.cxr': effective dates overlap (2020-01-01 to open and 2024-01-01 to open)",
        ),
        (
            GOOD_RULE + GOOD_RULE.replace("nz.cxr", "nz.cxr2"),
            "requirement 'chest_xray' with the same condition (nz.cxr, nz.cxr2): effective dates",
        ),
        (
            GOOD_RULE.replace("when", "effective_until = 2019-01-01\nwhen"),
            "requirement[0] (nz.cxr).effective_until: is before effective_from",
        ),
        (
            "[[outcome]]\nid = 'nz.v'\nkind = 'exam_validity'\nvalue = 'valud'\nsource = 'S1'\n"
            "effective_from = 2020-01-01\n",
            "outcome[0] (nz.v).value: 'valud' is not a exam_validity value",
        ),
        ("\n[extra]\nx = 1\n", "NZ.toml: extra: Unknown field."),
    ],
)
def test_each_fault_is_named_precisely(tmp_path, text, expected):
    found = problems_of(tmp_path, text)
    assert any(expected in p for p in found), found


SEASON = """
[[flu_season]]
name = "north"
start = "10-01"
end = "03-31"
source = ["S1"]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SEASON.replace('"10-01"', '"10-32"'), "flu_season[0].start: '10-32' is not a day"),
        (SEASON.replace('"03-31"', '"March"'), "flu_season[0].end: 'March' is not a day"),
        (SEASON + 'countries = ["Turkey"]\n', "flu_season[0].countries[0]: not an ISO 3166 code"),
        (SEASON.replace('["S1"]', '["S9"]'), "source 'S9' is not in the [sources] table"),
        (SEASON + SEASON.replace("north", "south"), "a second season without countries"),
        (
            SEASON
            + 'countries = ["ZA"]\n'
            + SEASON.replace("north", "south")
            + 'countries = ["ZA"]\n',
            "country ZA is already in 'north'",
        ),
    ],
)
def test_flu_season_faults_are_named(tmp_path, text, expected):
    found = problems_of(tmp_path, GOOD_RULE + text)
    assert any(expected in p for p in found), found


def test_flu_season_default_and_named_countries(tmp_path):
    text = GOOD_RULE + SEASON + SEASON.replace("north", "south") + 'countries = ["ZA"]\n'
    (tmp_path / "NZ.toml").write_text(HEAD + text)
    ruleset = load_rules(tmp_path).for_destination("NZ")
    assert ruleset.flu_season("za").name == "south"
    assert ruleset.flu_season("TR").name == "north"


def test_versions_that_meet_do_not_overlap(tmp_path):
    dated = GOOD_RULE.replace("when", "effective_until = 2023-12-31\nwhen")
    assert problems_of(tmp_path, dated + GOOD_RULE.replace("2020-01-01", "2024-01-01")) == []


def test_not_toml(tmp_path):
    found = problems_of(tmp_path, "[[requirement]\n")
    assert found and found[0].startswith("NZ.toml: not valid TOML")


def test_file_name_must_match_destination(tmp_path):
    assert any(
        "meta.destination: is 'NZ'" in p for p in problems_of(tmp_path, GOOD_RULE, "AU.toml")
    )


def test_circular_dependency(tmp_path):
    text = """
[[requirement]]
id = "a"
code = "igra"
source = "S1"
effective_from = 2020-01-01
when = { result = { chest_xray = "normal" } }

[[requirement]]
id = "b"
code = "chest_xray"
source = "S1"
effective_from = 2020-01-01
when = { result = { igra = "positive" } }
"""
    assert any("circular dependency" in p for p in problems_of(tmp_path, text))


def test_one_error_lists_every_problem_and_nothing_loads(tmp_path):
    for path in RULES_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    broken = (tmp_path / "US.toml").read_text().replace('code = "dst"', 'code = "dts"', 1)
    broken = broken.replace('source = ["S1"]', 'source = ["S99"]', 1)
    (tmp_path / "US.toml").write_text(broken)
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) >= 1
    assert all(m.startswith("US.toml: ") for m in messages)
    assert "problem" in str(caught.value)


def test_schema_and_meaning_problems_from_several_files_together(tmp_path):
    (tmp_path / "NZ.toml").write_text(HEAD + GOOD_RULE.replace('["S1"]', '["S7"]'))
    (tmp_path / "AU.toml").write_text(
        HEAD.replace('"NZ"', '"AU"') + GOOD_RULE.replace("code =", "kode =")
    )
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path)
    files = sorted({p.file for p in caught.value.problems})
    assert files == ["AU.toml", "NZ.toml"]


def test_empty_directory(tmp_path):
    with pytest.raises(RuleFileError, match="no rule files"):
        load_rules(tmp_path)


def test_the_shipped_files_are_clean():
    rulesets, problems = check_rules(RULES_DIR)
    assert problems == []
    assert sorted(rulesets) == ["AU", "CA", "GB", "NZ", "US"]
