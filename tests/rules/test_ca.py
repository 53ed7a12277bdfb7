"""Canada (IRCC): routine IME components by age, surveillance and validity. Rows cite sources."""

from __future__ import annotations

from datetime import date

import pytest

from tests.rules.conftest import check, plan_for

CASES = [
    (
        "S28c",
        {},
        {
            "medical_history": "required",
            "physical_exam": "required",
            "urinalysis": "required",
            "chest_xray": "required",
        },
    ),
    (
        "S28c",
        {},
        {"syphilis_serology": "required", "hiv_test": "required", "serum_creatinine": "required"},
    ),
    (
        "S28c",
        {"dob": "2020-01-01"},
        {"urinalysis": "required", "chest_xray": "not_required", "hiv_test": "not_required"},
    ),
    ("S28c", {"dob": "2022-01-01"}, {"urinalysis": "not_required"}),
    ("S28c", {"dob": "2016-01-01", "tb_contact": True}, {"chest_xray": "required"}),
    (
        "S28c",
        {"dob": "2012-01-01"},
        {"chest_xray": "required", "syphilis_serology": "not_required"},
    ),
    ("S28d", {"exam_date": "2019-12-31"}, {"serum_creatinine": "conditional"}),
    ("S28c", {"exam_date": "2020-01-01"}, {"serum_creatinine": "required"}),
    (
        "S28j",
        {"results": {"chest_xray": "suggestive_of_tb"}},
        {
            "sputum_smear": "required",
            "sputum_culture": "required",
            "medical_surveillance": "pending",
        },
    ),
    (
        "S28e",
        {"results": {"chest_xray": "normal"}},
        {"sputum_smear": "not_required", "medical_surveillance": ["none"]},
    ),
    (
        "S28e",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "negative",
                "sputum_culture": "negative",
            }
        },
        {"medical_surveillance": ["medical_surveillance"]},
    ),
    (
        "S28j",
        {"tb_history": True, "results": {"chest_xray": "normal"}},
        {"medical_surveillance": ["medical_surveillance"]},
    ),
    (
        "S28j",
        {"tb_contact": True, "results": {"chest_xray": "normal"}},
        {"medical_surveillance": ["medical_surveillance"]},
    ),
    (
        "S28k",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "positive",
                "sputum_culture": "positive",
            }
        },
        {"tb_treatment_dot": "required", "medical_surveillance": "pending"},
    ),
    (
        "S28k",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "positive",
                "sputum_culture": "positive",
                "tb_treatment_dot": "cured",
            }
        },
        {"medical_surveillance": ["medical_surveillance"]},
    ),
    (
        "S28j",
        {"extrapulmonary_tb": True, "results": {"chest_xray": "normal"}},
        {"medical_surveillance": ["medical_surveillance"]},
    ),
]


@pytest.mark.parametrize(
    ("source", "facts", "expect"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_ca_rules(book, source, facts, expect):
    check(plan_for(book, "CA", **facts), expect)


def test_surveillance_reporting_window(book):
    """S28h, S28i: report within 30 days of entry (not urgent: 7 days are in
    tests/rules/test_reporting_tiers.py); the trace names the rule."""
    result = plan_for(
        book, "CA", tb_history=True, urgent_surveillance=False, results={"chest_xray": "normal"}
    )
    surveillance = result.outcome("medical_surveillance")
    assert surveillance.report_within_days == 30
    assert surveillance.trace == ("ca.surveillance.inactive_tb",)


@pytest.mark.parametrize(
    ("exam", "until", "as_of", "expired"),
    [
        (date(2024, 2, 29), date(2025, 2, 28), date(2025, 2, 28), False),
        (date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 1), True),
        (date(2024, 5, 12), date(2025, 5, 12), date(2025, 5, 13), True),
    ],
)
def test_exam_valid_twelve_months(book, exam, until, as_of, expired):
    """S28f: 12 months from the exam date; expiry is judged as of a date."""
    validity = plan_for(book, "CA", as_of=as_of, exam_date=exam.isoformat()).outcome(
        "exam_validity"
    )
    assert (validity.valid_until, validity.expired) == (until, expired)
