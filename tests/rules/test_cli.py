"""The `rules` click group: check and evaluate, with clear errors and no tracebacks."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from pmha.rules.cli import rules
from tests.rules.conftest import RULES_DIR

EXAMPLES = sorted((RULES_DIR / "examples").glob("*.json"))


def run(*args):
    return CliRunner().invoke(rules, [str(a) for a in args])


def test_check_passes_on_the_shipped_files():
    result = run("check", "--rules-dir", RULES_DIR)
    assert result.exit_code == 0, result.output
    assert "US.toml: US version" in result.output


def test_check_lists_each_problem_with_file_and_key_path(tmp_path):
    shutil.copy(RULES_DIR / "NZ.toml", tmp_path / "NZ.toml")
    text = (tmp_path / "NZ.toml").read_text().replace('code = "chest_xray"', 'code = "xray"')
    (tmp_path / "NZ.toml").write_text(text.replace('source = ["S30a"]', 'source = ["S31"]', 1))
    result = run("check", "--rules-dir", tmp_path)
    assert result.exit_code == 1
    assert "NZ.toml: requirement[2] (nz.1096.cxr).code: Must be one of" in result.output
    assert "NZ.toml: requirement[0] (nz.1007.history).source: source 'S31'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_questions_lists_each_open_question_with_what_it_is_about():
    result = run("questions", "--rules-dir", RULES_DIR)
    assert result.exit_code == 0, result.output
    assert (
        "US us.validity.three_months (us.validity.tb_class_b, asked 2026-12-06):" in result.output
    )


def test_an_open_question_must_say_what_it_is_about(tmp_path):
    shutil.copy(RULES_DIR / "NZ.toml", tmp_path / "NZ.toml")
    with (tmp_path / "NZ.toml").open("a") as f:
        f.write('\n[[open_question]]\nid = "nz.q"\nquestion = "?"\nasked = 2026-12-06\n')
    result = run("check", "--rules-dir", tmp_path)
    assert result.exit_code == 1
    assert "(nz.q).about: Missing data for required field." in result.output  # any index


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_evaluate_every_example(example):
    result = run("evaluate", example, "--as-of", "2025-12-01", "--rules-dir", RULES_DIR)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["destination"] == example.stem[:2]
    assert out["as_of"] == "2025-12-01"
    assert out["requirements"] and out["outcomes"]


def test_evaluate_reports_field_errors(tmp_path):
    facts = json.loads(EXAMPLES[0].read_text())
    facts.update(sex="male", pregnant=True, gestation_weeks=14, exam_date="1990-01-01")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(facts))
    result = run("evaluate", path, "--rules-dir", RULES_DIR)
    assert result.exit_code == 1
    assert "gestation_weeks: A male applicant has no gestation." in result.output
    assert "exam_date: The exam date is before the date of birth." in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_evaluate_rejects_what_is_not_facts(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run("evaluate", path, "--rules-dir", RULES_DIR)
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_evaluate_missing_file(tmp_path):
    result = run("evaluate", tmp_path / "none.json", "--rules-dir", RULES_DIR)
    assert result.exit_code == 1
    assert "cannot read" in result.output
