"""Broken rule files answer a named problem (file and fault), never a traceback: in
`pmha rules check` and at start-up (issue 19: arrays nested 50,000 deep and a directory named
QQ.toml gave a RecursionError and an IsADirectoryError). TOML per toml.io v1.0.0 (keys defined
once, UTF-8)."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner

from pmha.app import create_app
from pmha.config import ConfigError
from pmha.rules import loader
from pmha.rules.cli import rules
from tests.conftest import config_for_tests
from tests.rules.conftest import RULES_DIR


def deep_arrays(depth: int) -> str:
    return "x = " + "[" * depth + "]" * depth + "\n"


def deep_tables(depth: int) -> str:
    return "x = " + "{a = " * depth + "1" + "}" * depth + "\n"


BROKEN = [
    ("arrays_50000_deep", lambda p: p.write_text(deep_arrays(50_000)), "nested more than 32"),
    ("tables_50000_deep", lambda p: p.write_text(deep_tables(50_000)), "nested more than 32"),
    ("arrays_40_deep", lambda p: p.write_text(deep_arrays(40)), "nested more than 32"),
    ("a_directory", lambda p: p.mkdir(), "is a directory, not a rule file"),
    (
        "binary_junk",
        lambda p: p.write_bytes(bytes(range(256)) * 40),
        "not valid TOML",
    ),
    ("nul_bytes", lambda p: p.write_bytes(b"a = 1\n\0\0\0\n"), "not valid TOML"),
    ("latin_1", lambda p: p.write_bytes('name = "Zo\xeb"\n'.encode("latin-1")), "not valid TOML"),
    (
        "huge",
        lambda p: p.write_text("# padding\n" * 110_000),
        "a rule file may be at most 1 MiB",
    ),
    ("duplicate_keys", lambda p: p.write_text("a = 1\na = 2\n"), "Cannot overwrite a value"),
    (
        "duplicate_tables",
        lambda p: p.write_text("[meta]\na = 1\n[meta]\nb = 2\n"),
        "not valid TOML",
    ),
    ("a_dangling_link", lambda p: p.symlink_to(p.parent / "missing"), "cannot be read"),
]
IDS = [row[0] for row in BROKEN]


@pytest.fixture()
def folder(tmp_path):
    """A rules folder with a good NZ.toml and the shared incidence table beside the bad one."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    shutil.copy(RULES_DIR / "NZ.toml", rules_dir)
    shutil.copy(RULES_DIR / loader.INCIDENCE_FILE, rules_dir)
    return rules_dir


@pytest.mark.parametrize(("name", "make", "words"), BROKEN, ids=IDS)
def test_rules_check_names_the_file_and_the_fault(folder, name, make, words):
    make(folder / "QQ.toml")
    result = CliRunner().invoke(rules, ["check", "--rules-dir", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = next(x for x in result.output.splitlines() if "QQ.toml" in x)
    assert words in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [row for row in BROKEN if row[0] in ("arrays_50000_deep", "a_directory", "huge")],
    ids=["arrays_50000_deep", "a_directory", "huge"],
)
def test_start_up_refuses_naming_the_file_and_the_fault(folder, tmp_path, name, make, words):
    make(folder / "QQ.toml")
    config = config_for_tests(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, RULES_DIR=str(folder))
    with pytest.raises(ConfigError) as exc:
        create_app(config)
    assert "QQ.toml" in str(exc.value) and words in str(exc.value)


def test_a_directory_named_like_the_incidence_table_is_named(folder):
    os.remove(folder / loader.INCIDENCE_FILE)
    (folder / loader.INCIDENCE_FILE).mkdir()
    _, _, problems = loader.check_all(folder)
    assert any(p.file == loader.INCIDENCE_FILE and "is a directory" in p.message for p in problems)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_named(folder):
    path = folder / "QQ.toml"
    path.write_text("a = 1\n")
    path.chmod(0)
    _, problems = loader.check_rules(folder)
    assert any(p.file == "QQ.toml" and "cannot be read" in p.message for p in problems)


def test_a_compiler_failure_is_a_named_problem(folder, monkeypatch):
    """The last line: a schema-valid file the compiler trips on is named, not a traceback."""

    def trips(*args, **kwargs):
        raise KeyError("x")

    monkeypatch.setattr(loader, "build_ruleset", trips)
    _, problems = loader.check_rules(folder)
    assert [str(p) for p in problems] == [
        "NZ.toml: could not be compiled (KeyError); report this file"
    ]


def test_the_shipped_files_are_within_the_limits():
    _, rulesets, problems = loader.check_all(RULES_DIR)
    assert problems == [] and len(rulesets) == 5
