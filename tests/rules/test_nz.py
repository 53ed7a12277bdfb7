"""New Zealand: INZ 1007 / INZ 1096 certificates and their validity. Rows cite sources."""

from __future__ import annotations

from datetime import date

import pytest

from tests.rules.conftest import check, plan_for

CASES = [
    ("S30a", {}, {"medical_history": "required", "physical_exam": "required"}),
    ("S30c", {}, {"chest_xray": "required"}),
    ("S30c", {"pregnant": True}, {"chest_xray": "not_required"}),
    ("S30c", {"pregnant": None}, {"chest_xray": "conditional"}),
    ("S30c", {"sex": "male"}, {"chest_xray": "required"}),
    ("S30c", {"dob": "2015-01-01"}, {"chest_xray": "not_required"}),
    ("S30c", {"dob": "2014-05-12"}, {"chest_xray": "required"}),
    ("S30c", {"dob": "2014-05-13"}, {"chest_xray": "not_required"}),
    ("S30c", {"exam_date": "2009-12-31"}, {"chest_xray": "not_required"}),
    ("S30c", {"exam_date": "2010-01-01"}, {"chest_xray": "required"}),
    ("S30d", {"programme": "refugee"}, {"chest_xray": "required", "medical_history": "required"}),
    ("S30a", {"programme": "student"}, {"physical_exam": "required"}),
    ("S30a", {"results": {"chest_xray": "normal"}}, {"chest_xray": "done"}),
    ("S30a", {"results": {"physical_exam": "normal"}}, {"physical_exam": "done"}),
    ("S30a", {}, {"exam_validity": ["valid"]}),
    ("S30c", {"dob": "2015-01-01", "results": {"chest_xray": "normal"}}, {"chest_xray": "done"}),
]


@pytest.mark.parametrize(
    ("source", "facts", "expect"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_nz_rules(book, source, facts, expect):
    check(plan_for(book, "NZ", **facts), expect)


@pytest.mark.parametrize(
    ("exam", "until"),
    [
        (date(2025, 11, 30), date(2026, 2, 28)),
        (date(2023, 11, 30), date(2024, 2, 29)),
        (date(2025, 1, 31), date(2025, 4, 30)),
        (date(2025, 5, 12), date(2025, 8, 12)),
    ],
)
def test_certificate_three_months_month_end(book, exam, until):
    """S30a: certificates less than 3 months old at application; month-end clamping."""
    validity = plan_for(book, "NZ", exam_date=exam.isoformat()).outcome("exam_validity")
    assert validity.valid_until == until


def test_humanitarian_is_not_a_nz_programme(book):
    from pmha.rules import FactsError

    with pytest.raises(FactsError) as caught:
        plan_for(book, "NZ", programme="humanitarian")
    assert "programme" in caught.value.errors
