"""The rule engine is pure: these tests need the rule files and nothing else (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pmha.rules import Facts, Plan, RuleBook, load_rules, plan
from pmha.rules.vocabulary import OUTCOME_KINDS

RULES_DIR = Path(__file__).resolve().parents[2] / "country_rules"
EXAM = date(2025, 5, 12)


@pytest.fixture(scope="session")
def book() -> RuleBook:
    return load_rules(RULES_DIR)


def make_facts(destination: str, **overrides: Any) -> Facts:
    """An adult, every flag known and negative; `results`: code -> value or (value, date)."""
    data: dict[str, Any] = {
        "dob": "1990-03-15",
        "exam_date": EXAM.isoformat(),
        "sex": "female",
        "programme": "immigrant",
        "destination": destination,
        "exam_country": "TR",
        "pregnant": False,
        "tb_history": False,
        "tb_contact": False,
        "tb_symptoms": False,
        "known_hiv": False,
        "extrapulmonary_tb": False,
    }
    results = overrides.pop("results", {})
    data.update(overrides)
    if data["sex"] == "male" and "pregnant" not in overrides:
        data["pregnant"] = False
    data["results"] = {}
    for code, value in results.items():
        value, when = value if isinstance(value, tuple) else (value, data["exam_date"])
        treated = code.endswith("+treated")
        code = code.removesuffix("+treated")
        data["results"][code] = {"value": value, "date": str(when), "treated": treated}
    for key in [k for k, v in data.items() if v is ...]:
        del data[key]
    return Facts.from_dict(data)


def plan_for(book: RuleBook, destination: str, as_of: date | None = None, **overrides: Any) -> Plan:
    facts = make_facts(destination, **overrides)
    return plan(facts, book, as_of or facts.exam_date)


def check(result: Plan, expect: dict[str, Any]) -> None:
    """expect: requirement code -> status; outcome kind -> final values, 'pending', or
    ('pending', values) for values that stand while something is still awaited."""
    for key, wanted in expect.items():
        if isinstance(wanted, tuple):
            found = result.outcome(key)
            assert (found.status, list(found.values)) == wanted, (key, found)
        elif key in OUTCOME_KINDS:
            found = result.outcome(key)
            got: Any = (
                "pending"
                if wanted == "pending" and found.status == "pending"
                else list(found.values)
            )
            if wanted != "pending":
                assert found.status == "final", (key, found)
            assert got == wanted, (key, found)
        else:
            assert result.status(key) == wanted, (key, result.status(key))
