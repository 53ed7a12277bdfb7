"""US: CDC Technical Instructions for panel physicians. One row per rule, with its source."""

from __future__ import annotations

from datetime import date

import pytest

from tests.rules.conftest import check, plan_for

CASES = [
    # (source, facts, expectations)
    ("S1", {}, {"chest_xray": "required", "medical_history": "required", "igra": "not_required"}),
    ("S1", {"dob": "2015-01-01"}, {"chest_xray": "not_required", "igra": "not_required"}),
    (
        "S1",
        {"dob": "2015-01-01", "tb_symptoms": True},
        {"igra": "required", "sputum_smear": "required"},
    ),
    (
        "S1",
        {"dob": "2015-01-01", "known_hiv": True},
        {"igra": "required", "chest_xray": "required"},
    ),
    ("S1", {"dob": "2024-01-01", "tb_symptoms": True}, {"tst": "required", "igra": "not_required"}),
    (
        "S8",
        {"dob": "2015-01-01", "exam_country": "PK"},
        {"igra": "required", "chest_xray": "conditional"},
    ),
    (
        "S8",
        {"dob": "2015-01-01", "exam_country": "PK", "results": {"igra": "positive"}},
        {"chest_xray": "required", "chest_xray_lateral": "not_required"},
    ),
    (
        "S8",
        {"dob": "2017-01-01", "exam_country": "PK", "results": {"igra": "positive"}},
        {"chest_xray": "required", "chest_xray_lateral": "required"},
    ),
    (
        "S8",
        {"dob": "2015-01-01", "exam_country": "PK", "results": {"igra": "negative"}},
        {"chest_xray": "not_required", "tb_class": ["none"]},
    ),
    ("S8", {"dob": "2015-01-01", "tb_contact": True}, {"igra": "required"}),
    (
        "S1",
        {"results": {"chest_xray": "suggestive_of_tb"}},
        {"sputum_smear": "required", "sputum_culture": "required", "tb_naat": "required"},
    ),
    (
        "S1",
        {"results": {"chest_xray": "normal"}},
        {"sputum_smear": "not_required", "dst": "not_required", "tb_class": ["none"]},
    ),
    (
        "S1",
        {"results": {"chest_xray": "suggestive_of_tb", "sputum_culture": "positive"}},
        {"dst": "required", "tb_treatment_dot": "required"},
    ),
    (
        "S5",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "negative",
                "sputum_culture": "positive",
                "tb_naat": "positive",
            }
        },
        {"tb_class": "pending", "tb_treatment_dot": "required"},
    ),
    (
        "S5",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "negative",
                "sputum_culture": "negative",
                "tb_naat": "negative",
            }
        },
        {"tb_class": ["class_b1_pulmonary"]},
    ),
    (
        "S5",
        {
            "results": {
                "chest_xray": "suggestive_of_tb",
                "sputum_smear": "positive",
                "sputum_culture": "positive",
                "tb_naat": "positive",
                "dst": "susceptible",
                "tb_treatment_dot": "cured",
            }
        },
        {"tb_class": ["class_b0"]},
    ),
    (
        "S3",
        {
            "known_hiv": True,
            "results": {
                "chest_xray": "normal",
                "sputum_smear": "negative",
                "sputum_culture": "negative",
                "tb_naat": "negative",
            },
        },
        {"tb_class": ["class_b1_pulmonary"]},
    ),
    (
        "S6",
        {
            "dob": "2015-01-01",
            "tb_contact": True,
            "results": {"igra": "positive", "chest_xray": "normal"},
        },
        {"tb_class": ["class_b2_ltbi", "class_b3_contact"]},
    ),
    (
        "S5",
        {"tb_contact": True, "results": {"igra": "negative", "chest_xray": "normal"}},
        {"tb_class": ["class_b3_contact"]},
    ),
    ("S1", {"tb_symptoms": None}, {"sputum_smear": "conditional", "tb_class": "pending"}),
    ("S11", {"dob": "2003-01-01"}, {"gonorrhea_naat": "required"}),
    ("S11", {"dob": "1995-01-01"}, {"gonorrhea_naat": "not_required"}),
    ("S11b", {"dob": "1995-01-01", "exam_date": "2021-09-02"}, {"gonorrhea_naat": "required"}),
    (
        "S11c",
        {"dob": "2003-01-01", "results": {"gonorrhea_naat": "positive"}},
        {"gonorrhea": ["class_a"]},
    ),
    (
        "S11c",
        {"dob": "2003-01-01", "results": {"gonorrhea_naat+treated": "positive"}},
        {"gonorrhea": ["class_b"]},
    ),
    ("S12a", {"dob": "1975-01-01"}, {"syphilis_serology": "not_required", "syphilis": ["none"]}),
    ("S12b", {"dob": "1975-01-01", "exam_date": "2021-08-31"}, {"syphilis_serology": "required"}),
    ("S12c", {"results": {"syphilis_serology": "reactive"}}, {"syphilis": ["class_a"]}),
    (
        "S12c",
        {"results": {"syphilis_serology": "reactive_previously_treated"}},
        {"syphilis": ["none"]},
    ),
    ("S12d", {"results": {"syphilis_serology+treated": "reactive"}}, {"syphilis": ["class_b"]}),
    ("S13a", {}, {"vaccination_review": "required"}),
    ("S10", {"programme": "refugee"}, {"vaccination_review": "not_required", "pec": "required"}),
    ("S16", {"programme": "refugee"}, {"presumptive_treatment": "not_required"}),
    ("S16", {"programme": "refugee", "exam_country": "PK"}, {"presumptive_treatment": "required"}),
    (
        "S19",
        {"programme": "refugee", "tb_history": True, "results": {"chest_xray": "normal"}},
        {"pdms": "required", "tb_class": ["class_b1_pulmonary"]},
    ),
    (
        "S19",
        {"programme": "refugee", "complex_condition": False, "results": {"chest_xray": "normal"}},
        {"pdms": "not_required"},
    ),
    # PDMS also for significant complex medical conditions: the physician's judgement, so it
    # waits for that answer [S19, BRIEF §1 "PDMS"]
    ("S19", {"programme": "refugee", "results": {"chest_xray": "normal"}}, {"pdms": "conditional"}),
    (
        "S19",
        {"programme": "refugee", "complex_condition": True, "results": {"chest_xray": "normal"}},
        {"pdms": "required", "tb_class": ["none"]},
    ),
    (
        "S24",
        {"pregnant": True, "gestation_weeks": 20, "deferred": ["chest_xray"]},
        {"chest_xray": "blocked", "sputum_smear": "conditional", "tb_class": "pending"},
    ),
]


@pytest.mark.parametrize(
    ("source", "facts", "expect"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_us_rules(book, source, facts, expect):
    check(plan_for(book, "US", **facts), expect)


def test_pec_and_pdms_windows_before_departure(book):
    """S19: PEC no more than 72 h before departure; PDMS within 3 weeks."""
    result = plan_for(
        book,
        "US",
        programme="refugee",
        tb_history=True,
        departure_date="2025-07-01",
        results={"chest_xray": "normal"},
    )
    pec, pdms = result.requirement("pec"), result.requirement("pdms")
    assert (pec.not_before, pec.due_by) == (date(2025, 6, 28), date(2025, 7, 1))
    assert (pdms.not_before, pdms.due_by) == (date(2025, 6, 10), date(2025, 7, 1))


def test_exam_validity_six_months_and_three_for_class_b(book):
    """S20: 6 months; S21 [U]: 3 months for TB class B."""
    normal = plan_for(
        book, "US", exam_date="2024-08-31", results={"chest_xray": ("normal", "2024-08-31")}
    )
    assert normal.outcome("exam_validity").valid_until == date(2025, 2, 28)
    contact = plan_for(
        book,
        "US",
        exam_date="2024-08-31",
        tb_contact=True,
        results={"chest_xray": ("normal", "2024-08-31"), "igra": ("negative", "2024-08-31")},
    )
    validity = contact.outcome("exam_validity")
    assert validity.valid_until == date(2024, 11, 30)
    assert validity.trace == ("us.validity.tb_class_b",)


def test_class_a_stands_until_dot_is_completed(book):
    """S2, S3: Class A TB is not cleared until treated under DOT, then re-classified B0."""
    result = plan_for(
        book, "US", results={"chest_xray": "suggestive_of_tb", "sputum_smear": "positive"}
    )
    tb_class = result.outcome("tb_class")
    assert tb_class.values == ("class_a",)
    assert "tb_treatment_dot" in tb_class.awaiting


def test_tb_class_trace_lists_fired_rules_in_order(book):
    result = plan_for(
        book,
        "US",
        dob="2015-01-01",
        tb_contact=True,
        results={"igra": "positive", "chest_xray": "normal"},
    )
    assert result.outcome("tb_class").trace == ("us.tb.class_b2_ltbi", "us.tb.class_b3_contact")


def test_covid_vaccine_no_longer_required_from_2025_03_11(book):
    """S22a: a dated entry ends on 2025-03-10."""
    before = plan_for(book, "US", exam_date="2025-03-10")
    after = plan_for(book, "US", exam_date="2025-03-11")
    assert {v.code: v.status for v in before.vaccines}["COVID-19"] == "required"
    assert {v.code: v.status for v in after.vaccines}["COVID-19"] == "not_required"


def test_gonorrhea_rule_changes_on_2021_09_03(book):
    """S11 / S11b: everyone >= 15 until 2 Sep 2021; ages 18-24 from 3 Sep 2021."""
    day_before = plan_for(book, "US", dob="1980-01-01", exam_date="2021-09-02")
    day_of = plan_for(book, "US", dob="1980-01-01", exam_date="2021-09-03")
    assert day_before.requirement("gonorrhea_naat").status == "required"
    assert day_of.requirement("gonorrhea_naat").status == "not_required"
    assert day_of.requirement("gonorrhea_naat").reason.rule == "us.gonorrhea.screen"


def test_exam_country_without_incidence_holds_burden_dependent_steps(book):
    """BRIEF 1.2 [S1, S8]: the burden is the exam country's WHO-estimated incidence. Taiwan is
    not in WHO's estimates (country_rules/tb_incidence.toml): the IGRA of a child is held, not
    planned as conditional, and the plan names the country (tests/rules/test_tb_incidence.py)."""
    result = plan_for(book, "US", dob="2015-01-01", exam_country="TW")
    assert result.requirement("igra").status == "blocked"
    assert result.requirement("igra").awaiting == ("exam_country",)
    assert "Taiwan (TW)" in result.problems[0]
