"""Australia: 501/502/707/708/719, departure health check, undertaking. Rows cite sources."""

from __future__ import annotations

from datetime import date

import pytest

from tests.rules.conftest import check, plan_for

CASES = [
    (
        "S29a",
        {},
        {"medical_history": "required", "physical_exam": "required", "hiv_test": "required"},
    ),
    ("S29b", {}, {"chest_xray": "required"}),
    ("S29b", {"dob": "2015-01-01"}, {"chest_xray": "not_required"}),
    ("S29b", {"pregnant": True, "gestation_weeks": 10}, {"chest_xray": "blocked"}),
    ("S29a", {"programme": "temporary"}, {"hiv_test": "not_required"}),
    ("S29h", {"dob": "2012-01-01"}, {"hiv_test": "not_required"}),
    ("S29c", {"pregnant": True}, {"hbv_test": "required"}),
    ("S29c", {}, {"hbv_test": "not_required"}),
    (
        "S29g",
        {"exam_date": "2023-06-30"},
        {"urinalysis": "required", "serum_creatinine": "not_required"},
    ),
    (
        "S29g",
        {"exam_date": "2023-07-01"},
        {"urinalysis": "not_required", "serum_creatinine": "required"},
    ),
    ("S29e", {"dob": "2018-01-01", "programme": "humanitarian"}, {"igra": "required"}),
    (
        "S29e",
        {"dob": "2010-01-01", "programme": "humanitarian", "exam_date": "2015-11-19"},
        {"igra": "not_required"},
    ),
    (
        "S29i",
        {"dob": "2018-01-01", "programme": "humanitarian", "results": {"igra": "positive"}},
        {"chest_xray": "required", "chest_xray_lateral": "required"},
    ),
    ("S29e", {"tb_contact": True}, {"igra": "required"}),
    ("S29f", {"programme": "humanitarian"}, {"dhc": "required"}),
    ("S29f", {"programme": "immigrant"}, {"dhc": "not_required"}),
    (
        "S29f2",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "positive",
                "sputum_culture": "positive",
            }
        },
        {"tb_undertaking": ("pending", ["deferred_until_treated"]), "tb_treatment_dot": "required"},
    ),
    (
        "S29f2",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "negative",
                "sputum_culture": "negative",
            }
        },
        {"tb_undertaking": ["health_undertaking"]},
    ),
    ("S29f2", {"results": {"chest_xray": "normal"}}, {"tb_undertaking": ["none"]}),
    (
        "S29j",
        {"tb_history": True, "results": {"chest_xray": "normal"}},
        {"tb_undertaking": ["health_undertaking"]},
    ),
]


@pytest.mark.parametrize(
    ("source", "facts", "expect"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_au_rules(book, source, facts, expect):
    check(plan_for(book, "AU", **facts), expect)


def test_dhc_within_72_hours_of_departure(book):
    result = plan_for(book, "AU", programme="humanitarian", departure_date="2025-06-02")
    dhc = result.requirement("dhc")
    assert (dhc.not_before, dhc.due_by) == (date(2025, 5, 30), date(2025, 6, 2))


def test_mmr_at_dhc_not_in_pregnancy(book):
    """S29f: MMR for 9 months to 54 years unless pregnant."""
    ok = {v.code: v.status for v in plan_for(book, "AU", programme="refugee").vaccines}
    pregnant = {
        v.code: v.status for v in plan_for(book, "AU", programme="refugee", pregnant=True).vaccines
    }
    assert ok["Measles"] == "required"
    assert pregnant["Measles"] == "not_required"


def test_undertaking_reporting_window(book):
    result = plan_for(book, "AU", tb_history=True, results={"chest_xray": "normal"})
    assert result.outcome("tb_undertaking").report_within_days == 28
