"""Validity anchors per destination and class (issue 15): what each validity runs from, its last
valid day and its first expired day, month-end clamping (31 Aug + 6 months = 28 Feb), and the
words the page says.

Sources (country_rules/*.toml [sources], BRIEF sections):
- US: 6 months from the exam [S20] (BRIEF 1.7); 3 months for Class B TB [S21] [U] (BRIEF 1.7,
  open question us.validity.three_months); after Class A TB treated under DOT and reclassified
  B0 [S2, S3, S4] (BRIEF 1.3, 6) from the final TB evaluation (open question
  us.validity.after_treatment: no source in the brief).
- GB: 6 months from issue; issue = the X-ray date, else the screening date; 3 months after close
  contact in the past year; months clamp to the month's last day [S25] (BRIEF 2.1).
- CA: 12 months from the exam [S28f] (BRIEF 3).
- AU: 12 months [S29k] (BRIEF 4.1), from the exam (open question au.validity.anchor).
- NZ: certificates issued less than 3 months before the application [S30a] (BRIEF 4.2): the
  oldest certificate (the exam's, the X-ray's) decides (open question nz.validity.less_than).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pmha.rules import load_rules, plan
from pmha.rules.model import dated_by
from pmha.workflow.validity import period_words, report_words, validity_words
from tests.rules.conftest import RULES_DIR, make_facts, plan_for

DAY = timedelta(days=1)


def validity(book, destination, as_of=None, kind="exam_validity", **facts):
    return plan_for(book, destination, as_of=as_of, **facts).outcome(kind)


def expired_on(book, destination, day, kind="exam_validity", **facts):
    return plan_for(book, destination, as_of=day, **facts).outcome(kind).expired


# --- US ---------------------------------------------------------------------------------------

CLASS_A = {
    "sputum_smear": "positive",
    "sputum_culture": "positive",
    "chest_xray": "suggestive_of_tb",
}


def reclassified(exam: date, completed: date) -> dict:
    """Class A TB at the exam, treated to completion under DOT on `completed`: B0 [S2, S3, S4]."""
    results = {code: (value, exam) for code, value in CLASS_A.items()}
    results["tb_treatment_dot"] = ("treatment_completed", completed)
    return {"exam_date": exam.isoformat(), "results": results}


@pytest.mark.parametrize(
    ("exam", "until"),
    [
        (date(2025, 5, 12), date(2025, 11, 12)),
        (date(2025, 8, 31), date(2026, 2, 28)),  # month-end clamped [S25 arithmetic, BRIEF 2.1]
        (date(2023, 8, 31), date(2024, 2, 29)),  # leap year
    ],
)
def test_us_default_six_months_from_the_exam(book, exam, until):
    """S20 (BRIEF 1.7): 6 months from the exam; the last valid day and the first expired day."""
    found = validity(book, "US", exam_date=exam.isoformat())
    assert found.trace == ("us.validity.default",)
    assert (found.anchor, found.date, found.valid_for, found.valid_until) == (
        "exam_date", exam, "6m", until)  # fmt: skip
    assert expired_on(book, "US", until, exam_date=exam.isoformat()) is False
    assert expired_on(book, "US", until + DAY, exam_date=exam.isoformat()) is True


def test_us_class_b_three_months_from_the_exam(book):
    """S21 [U] (BRIEF 1.7): Class B TB (here B1: X-ray suggestive, smears and cultures
    negative [S3, S5]) 3 months from the exam."""
    exam = date(2025, 5, 31)
    results = {"chest_xray": "suggestive_of_tb", "sputum_smear": "negative"}
    results["sputum_culture"] = "negative"
    facts = {"exam_date": exam.isoformat(), "results": results}
    found = validity(book, "US", **facts)
    assert found.trace == ("us.validity.tb_class_b",)
    assert (found.anchor, found.valid_until) == ("exam_date", date(2025, 8, 31))
    assert expired_on(book, "US", date(2025, 8, 31), **facts) is False
    assert expired_on(book, "US", date(2025, 9, 1), **facts) is True


def test_us_reclassified_runs_from_the_final_evaluation(book):
    """S2, S3, S4 (BRIEF 1.3, 6): treated under DOT and reclassified B0 eight months after the
    exam, the validity runs from the final TB evaluation, not the exam (which ran out on
    12 July 2026 under 6 months [S20])."""
    exam, completed = date(2026, 1, 12), date(2026, 9, 12)
    facts = reclassified(exam, completed)
    result = plan_for(book, "US", as_of=date(2026, 10, 1), **facts)
    assert result.outcome("tb_class").values == ("class_b0",)
    found = result.outcome("exam_validity")
    assert found.trace == ("us.validity.reclassified",)
    assert (found.anchor, found.date, found.valid_for) == (
        "result:tb_treatment_dot", completed, "3m")  # fmt: skip
    assert (found.valid_until, found.expired) == (date(2026, 12, 12), False)
    assert expired_on(book, "US", date(2026, 12, 12), **facts) is False  # last valid day
    assert expired_on(book, "US", date(2026, 12, 13), **facts) is True  # first expired day
    assert validity_words(found.to_dict()) == (
        "valid until 12 December 2026: 3 months from the final TB evaluation on 12 September 2026"
    )


def test_us_reclassified_month_end_clamped(book):
    """S25 arithmetic (BRIEF 2.1) on the US anchor: 30 Nov + 3 months = 28 Feb."""
    facts = reclassified(date(2025, 3, 1), date(2025, 11, 30))
    found = validity(book, "US", **facts)
    assert found.valid_until == date(2026, 2, 28)
    assert expired_on(book, "US", date(2026, 2, 28), **facts) is False
    assert expired_on(book, "US", date(2026, 3, 1), **facts) is True


def test_us_reclassified_before_the_exam_keeps_the_exam(book):
    """Latest of the anchors known: treatment completed before this exam (presented treated,
    S4, S6 in BRIEF 1.3) dates nothing earlier than the exam."""
    exam = date(2026, 3, 10)
    found = validity(book, "US", **reclassified(exam, date(2026, 2, 1)))
    assert (found.anchor, found.date, found.valid_until) == ("exam_date", exam, date(2026, 6, 10))


def test_us_class_a_under_treatment_is_dated_by_the_exam(book):
    """Class A not yet treated: no final evaluation, so the exam still dates it (BRIEF 1.3)."""
    exam = date(2026, 1, 12)
    results = {code: (value, exam) for code, value in CLASS_A.items()}
    found = validity(book, "US", exam_date=exam.isoformat(), results=results)
    assert found.anchor == "exam_date" and found.trace != ("us.validity.reclassified",)


# --- GB ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "period", "until"),
    [(False, "6m", date(2026, 2, 28)), (True, "3m", date(2025, 11, 30))],
)
def test_gb_certificate_from_the_xray(book, contact, period, until):
    """S25 (BRIEF 2.1): issue date = X-ray date; 6 months, 3 after close contact; 31 Aug + 6
    months = 28 Feb; screening done later than the X-ray does not move the issue date."""
    xray = date(2025, 8, 31)
    facts = {
        "exam_date": xray.isoformat(),
        "tb_contact": contact,
        "results": {
            "chest_xray": ("normal", xray),
            "medical_history": ("completed", xray + 2 * DAY),
            "physical_exam": ("normal", xray + 2 * DAY),
        },
    }
    found = validity(book, "GB", kind="tb_certificate", **facts)
    assert (found.anchor, found.date, found.valid_for, found.valid_until) == (
        "result:chest_xray", xray, period, until)  # fmt: skip
    assert expired_on(book, "GB", until, kind="tb_certificate", **facts) is False
    assert expired_on(book, "GB", until + DAY, kind="tb_certificate", **facts) is True


def test_gb_certificate_from_the_screening_without_xray(book):
    """S25 (BRIEF 2.1): no X-ray (child under 11): the medical screening date."""
    day = date(2025, 8, 31)
    facts = {
        "dob": "2018-01-01",
        "exam_date": day.isoformat(),
        "results": {"physical_exam": ("normal", day), "medical_history": ("completed", day)},
    }
    found = validity(book, "GB", kind="tb_certificate", **facts)
    assert (found.anchor, found.valid_until) == ("result:physical_exam", date(2026, 2, 28))
    assert expired_on(book, "GB", date(2026, 3, 1), kind="tb_certificate", **facts) is True


# --- CA, AU -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "rule", "source"),
    [("CA", "ca.validity", "S28f"), ("AU", "au.validity", "S29k")],
)
@pytest.mark.parametrize(
    ("exam", "until"),
    [(date(2025, 5, 12), date(2026, 5, 12)), (date(2024, 2, 29), date(2025, 2, 28))],
)
def test_twelve_months_from_the_exam(book, destination, rule, source, exam, until):
    """S28f (BRIEF 3), S29k (BRIEF 4.1): 12 months from the exam; 29 Feb + 12 months = 28 Feb."""
    found = validity(book, destination, exam_date=exam.isoformat())
    assert found.trace == (rule,) and source in found.source
    assert (found.anchor, found.valid_for, found.valid_until) == ("exam_date", "12m", until)
    assert expired_on(book, destination, until, exam_date=exam.isoformat()) is False
    assert expired_on(book, destination, until + DAY, exam_date=exam.isoformat()) is True


# --- NZ ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exam", "xray", "anchor", "until"),
    [
        (date(2025, 5, 12), None, "exam_date", date(2025, 8, 12)),
        (date(2025, 5, 12), date(2025, 5, 9), "result:chest_xray", date(2025, 8, 9)),
        (date(2025, 5, 12), date(2025, 5, 14), "exam_date", date(2025, 8, 12)),
        (date(2025, 11, 30), None, "exam_date", date(2026, 2, 28)),  # month-end clamped
    ],
)
def test_nz_the_oldest_certificate_decides(book, exam, xray, anchor, until):
    """S30a (BRIEF 4.2): certificates issued less than 3 months before the application; the
    medical certificate dates from the exam, the X-ray certificate from the X-ray."""
    results = {"chest_xray": ("normal", xray)} if xray else {}
    facts = {"exam_date": exam.isoformat(), "results": results}
    found = validity(book, "NZ", **facts)
    assert (found.anchor, found.valid_for, found.valid_until) == (anchor, "3m", until)
    assert expired_on(book, "NZ", until, **facts) is False
    assert expired_on(book, "NZ", until + DAY, **facts) is True


# --- the anchor choice itself and the words ---------------------------------------------------


def test_dated_by_first_latest_earliest():
    """country_rules/README.md 'Validity anchors': first known in order, latest, earliest."""
    facts = make_facts(
        "US",
        exam_date="2026-01-12",
        results={
            "chest_xray": ("normal", "2026-01-10"),
            "tb_treatment_dot": ("cured", "2026-09-01"),
        },
    )
    anchors = ("result:physical_exam", "exam_date", "result:tb_treatment_dot", "result:chest_xray")
    assert dated_by(anchors, facts, "first") == ("exam_date", date(2026, 1, 12))
    assert dated_by(anchors, facts, "latest") == ("result:tb_treatment_dot", date(2026, 9, 1))
    assert dated_by(anchors, facts, "earliest") == ("result:chest_xray", date(2026, 1, 10))
    assert dated_by(("result:physical_exam",), facts, "latest") is None


def test_words():
    assert period_words("6m") == "6 months" and period_words("1m") == "1 month"
    assert period_words("10d") == "10 days"
    plain = {"valid_until": "2027-03-12"}
    assert validity_words(plain) == "valid until 12 March 2027"  # a plan kept before issue 15
    assert validity_words({}) is None
    dated = {**plain, "anchor": "exam_date", "date": "2026-09-12", "valid_for": "6m"}
    assert (
        validity_words(dated)
        == "valid until 12 March 2027: 6 months from the exam on 12 September 2026"
    )
    assert report_words({"report_within_days": 30}) == (
        "report to public health within 30 days of arrival"
    )
    assert report_words({"kind": "tb_undertaking", "report_within_days": 28}) == (
        "contact the health undertaking service within 28 days of arrival"
    )


def test_the_rules_load_with_every_anchor_known():
    """pmha rules check: every file's anchors name exam_date or a result its rules decide."""
    book = load_rules(RULES_DIR)
    for destination in book.destinations:
        facts = make_facts(destination)
        plan(facts, book, facts.exam_date)
