"""UK: pre-entry TB screening (UKHSA PETS) and the resettlement protocol. Rows cite sources."""

from __future__ import annotations

from datetime import date

import pytest

from tests.rules.conftest import check, plan_for

CASES = [
    (
        "S25",
        {},
        {
            "chest_xray": "required",
            "medical_history": "required",
            "physical_exam": "not_required",
            "tb_certificate": "pending",
        },
    ),
    ("S25", {"dob": "2015-01-01"}, {"chest_xray": "not_required", "physical_exam": "required"}),
    ("S25", {"dob": "2015-01-01", "tb_contact": True}, {"chest_xray": "required"}),
    ("S26b", {"dob": "2015-01-01", "tb_symptoms": True}, {"chest_xray": "required"}),
    ("S26b", {"dob": "2015-01-01", "tb_history": True}, {"chest_xray": "required"}),
    (
        "S25",
        {"results": {"chest_xray": "suggestive_of_tb"}},
        {"sputum_smear": "required", "sputum_culture": "required", "tb_certificate": "pending"},
    ),
    (
        "S25",
        {"results": {"chest_xray": "other_abnormality", "medical_history": "completed"}},
        {"sputum_smear": "not_required", "tb_certificate": ["issued"]},
    ),
    (
        "S25",
        {"results": {"chest_xray": "normal", "medical_history": "completed"}},
        {"tb_certificate": ["issued"]},
    ),
    (
        "S25",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "negative",
                "sputum_culture": "positive",
                "medical_history": "completed",
            }
        },
        {"tb_certificate": ["not_issued"], "tb_treatment_dot": "required"},
    ),
    (
        "S26c",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "negative",
                "sputum_culture": "negative",
                "medical_history": "completed",
            }
        },
        {"tb_certificate": ["issued"]},
    ),
    (
        "S26b",
        {"pregnant": True, "gestation_weeks": 12, "deferred": ["chest_xray"]},
        {"chest_xray": "blocked", "sputum_smear": "required", "tb_certificate": "pending"},
    ),
    (
        "S26b",
        {
            "pregnant": True,
            "deferred": ["chest_xray"],
            "results": {"sputum_smear": "negative", "sputum_culture": "negative"},
        },
        {"tb_certificate": ["issued"]},
    ),
    (
        "S27",
        {"programme": "refugee"},
        {
            "hbv_test": "required",
            "hcv_test": "required",
            "hiv_test": "required",
            "syphilis_serology": "required",
            "mental_health": "required",
            "urinalysis": "not_required",
        },
    ),
    (
        "S27",
        {"programme": "refugee", "exam_date": "2025-03-26"},
        {"urinalysis": "required", "hbv_test": "not_required"},
    ),
    (
        "S27",
        {"programme": "student"},
        {"hbv_test": "not_required", "mental_health": "not_required"},
    ),
    (
        "S25",
        {"tb_contact": None, "results": {"chest_xray": "normal", "medical_history": "completed"}},
        {"tb_certificate": "pending"},
    ),
]


@pytest.mark.parametrize(
    ("source", "facts", "expect"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_gb_rules(book, source, facts, expect):
    check(plan_for(book, "GB", **facts), expect)


@pytest.mark.parametrize(
    ("contact", "xray_day", "expiry"),
    [
        (False, date(2025, 8, 31), date(2026, 2, 28)),
        (True, date(2025, 8, 31), date(2025, 11, 30)),
        (False, date(2023, 8, 31), date(2024, 2, 29)),
        (False, date(2025, 1, 15), date(2025, 7, 15)),
    ],
)
def test_certificate_expiry(book, contact, xray_day, expiry):
    """S25: 6 months from the X-ray date, 3 months after close contact; month-end clamping."""
    result = plan_for(
        book,
        "GB",
        exam_date=xray_day.isoformat(),
        tb_contact=contact,
        results={"chest_xray": ("normal", xray_day), "medical_history": ("completed", xray_day)},
    )
    certificate = result.outcome("tb_certificate")
    assert certificate.values == ("issued",)
    assert (certificate.date, certificate.valid_until) == (xray_day, expiry)


def test_certificate_dated_from_screening_when_no_xray(book):
    """S25: issue date = the medical screening date when no X-ray was taken (child under 11)."""
    day = date(2025, 3, 31)
    result = plan_for(
        book,
        "GB",
        dob="2018-01-01",
        exam_date=day.isoformat(),
        results={"physical_exam": ("normal", day), "medical_history": ("completed", day)},
    )
    certificate = result.outcome("tb_certificate")
    assert (certificate.date, certificate.valid_until) == (day, date(2025, 9, 30))


def test_postponed_certificate_gives_its_reason(book):
    deferred = ["chest_xray", "sputum_smear", "sputum_culture"]
    result = plan_for(book, "GB", pregnant=True, deferred=deferred)
    certificate = result.outcome("tb_certificate")
    assert certificate.reason == "testing_postponed"
    assert certificate.trace == ("gb.certificate.postponed",)


def test_sputum_due_within_seven_days_of_the_xray(book):
    result = plan_for(book, "GB", results={"chest_xray": ("suggestive_of_tb", "2025-05-12")})
    assert result.requirement("sputum_smear").due_by == date(2025, 5, 19)
