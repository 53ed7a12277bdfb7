"""The engine memoises a requirement's done item and a dated outcome: never a stale answer.

A memo is kept per compiled rule set, keyed by what decides the answer (rule, result value and
date; outcome date and as-of date). Each plan here must equal the plan of a freshly loaded book,
whose memos are empty.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pmha.rules import load_rules, model, plan
from tests.rules.conftest import RULES_DIR, make_facts
from tests.rules.test_schema import HEAD

EXPIRING = """
[[requirement]]
id = "nz.cxr"
code = "chest_xray"
source = ["S1"]
effective_from = 2020-01-01
valid_for = "3m"

[[requirement]]
id = "nz.igra"
code = "igra"
source = ["S1"]
effective_from = 2020-01-01
when = { result = { chest_xray = "suggestive_of_tb" } }

[[outcome]]
id = "nz.validity"
kind = "exam_validity"
value = "valid"
source = ["S1"]
effective_from = 2020-01-01
date = ["exam_date"]
valid_for = "3m"
"""


def fresh(facts, as_of, directory=RULES_DIR):
    return plan(facts, load_rules(directory), as_of).to_dict()


def test_shared_results_and_dates_plan_as_if_alone(book):
    # Same value on two dates, two values on one date, and the other way round, interleaved.
    variants = [
        ("US", {"chest_xray": ("normal", "2025-05-12")}),
        ("US", {"chest_xray": ("normal", "2025-05-13")}),
        ("US", {"chest_xray": ("suggestive_of_tb", "2025-05-12")}),
        ("GB", {"chest_xray": ("normal", "2025-05-12")}),
        ("US", {"chest_xray": ("normal", "2025-05-12"), "tst": (10, "2025-05-12")}),
        ("US", {"chest_xray": ("normal", "2025-05-12"), "tst": (10.0, "2025-05-12")}),
    ]
    for as_of in (date(2025, 5, 12), date(2025, 9, 1), date(2026, 1, 1)):
        for destination, results in variants * 2:
            facts = make_facts(destination, results=results)
            assert plan(facts, book, as_of).to_dict() == fresh(facts, as_of)


def test_a_result_expires_by_as_of_though_its_item_was_memoised(tmp_path):
    (tmp_path / "NZ.toml").write_text(HEAD + EXPIRING)
    book = load_rules(tmp_path)
    facts = make_facts("NZ", results={"chest_xray": ("normal", "2025-05-12")})
    # 12 May + 3 months = 12 Aug: done up to that day, expired the day after, and back again.
    for as_of, status in [
        (date(2025, 8, 12), "done"),
        (date(2025, 8, 13), "required"),
        (date(2025, 8, 12), "done"),
    ]:
        found = plan(facts, book, as_of)
        assert found.status("chest_xray") == status
        assert found.outcome("exam_validity").expired is (status != "done")
        assert found.to_dict() == fresh(facts, as_of, tmp_path)


def test_a_full_memo_starts_again(monkeypatch):
    monkeypatch.setattr(model, "MEMO_LIMIT", 2)
    book = load_rules(RULES_DIR)
    start = date(2025, 5, 12)
    for day in range(6):
        when = (start + timedelta(days=day)).isoformat()
        facts = make_facts("US", exam_date=when, results={"medical_history": ("completed", when)})
        as_of = start + timedelta(days=100 * day)
        assert plan(facts, book, as_of).to_dict() == fresh(facts, as_of)
    for ruleset in book.rulesets.values():
        for nodes in ruleset._programs:
            for node in nodes:
                assert len(node.done) <= 2
                for rule in node.outcomes:
                    assert len(rule.dated) <= 2


@pytest.mark.parametrize("destination", ["US", "GB", "CA", "AU", "NZ"])
def test_replanning_gives_the_same_plan(book, destination):
    facts = make_facts(destination, results={"chest_xray": "normal", "igra": "negative"})
    first = plan(facts, book, date(2025, 6, 1))
    assert plan(facts, book, date(2025, 6, 1)) == first
