"""Tiered reporting deadlines (issue 15) and what `pmha rules check` says about anchors and tiers.

Sources: Canada reports medical surveillance to provincial or territorial public health within
30 days of entry, 7 days for urgent or complex non-infectious TB [S28h, S28i] (BRIEF 3); the
Australian health undertaking within 28 days of arrival [S29f2, S29j] (BRIEF 4.1, no tier);
the US, UK and New Zealand files set no reporting deadline (BRIEF 1.3, 2.1, 4.2).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pmha.rules import check_rules
from pmha.travel.handover import _due
from pmha.travel.policy import FollowUpRule
from pmha.workflow.validity import report_words
from tests.rules.conftest import plan_for
from tests.rules.test_schema import HEAD

SURVEILLANCE = {"tb_history": True, "results": {"chest_xray": "normal"}}


@pytest.mark.parametrize(
    ("urgent", "days", "tier", "awaiting"),
    [
        (False, 30, None, ()),  # S28h, S28i: the general deadline
        (True, 7, "urgent", ()),  # S28h, S28i: urgent or complex non-infectious TB
        (None, 7, "urgent", ("urgent_surveillance",)),  # not recorded: the shorter one applies
    ],
)
def test_canada_surveillance_tiers(book, urgent, days, tier, awaiting):
    """S28h, S28i (BRIEF 3): 30 days, or 7 when the physician flags urgent surveillance."""
    found = plan_for(book, "CA", urgent_surveillance=urgent, **SURVEILLANCE).outcome(
        "medical_surveillance"
    )
    assert found.values == ("medical_surveillance",)
    assert (found.report_within_days, found.report_tier, found.report_awaiting) == (
        days, tier, awaiting)  # fmt: skip
    assert found.status == "final"  # a deadline never holds the traveller


def test_canada_tier_words(book):
    """S28h, S28i: the page says why the deadline is 7 days."""
    urgent = plan_for(book, "CA", urgent_surveillance=True, **SURVEILLANCE)
    unknown = plan_for(book, "CA", urgent_surveillance=None, **SURVEILLANCE)
    plain = plan_for(book, "CA", urgent_surveillance=False, **SURVEILLANCE)
    words = [
        report_words(p.outcome("medical_surveillance").to_dict()) for p in (urgent, unknown, plain)
    ]
    assert words == [
        "report to public health within 7 days of arrival (urgent or complex case)",
        "report to public health within 7 days of arrival (the shorter deadline until the "
        "urgent TB surveillance question is answered)",
        "report to public health within 30 days of arrival",
    ]


def test_the_flag_does_not_make_surveillance(book):
    """S28e (BRIEF 3): urgency shortens a duty that exists; alone it asks for nothing."""
    found = plan_for(book, "CA", urgent_surveillance=True).outcome("medical_surveillance")
    assert found.values in {(), ("none",)} and found.report_within_days is None


def test_australian_undertaking_has_no_tier(book):
    """S29f2, S29j (BRIEF 4.1): 28 days whatever the flag says."""
    for urgent in (True, False, None):
        found = plan_for(book, "AU", urgent_surveillance=urgent, tb_history=True)
        undertaking = found.outcome("tb_undertaking")
        assert (undertaking.report_within_days, undertaking.report_tier) == (28, None)


@pytest.mark.parametrize("destination", ["US", "GB", "NZ"])
def test_no_reporting_deadline_elsewhere(book, destination):
    """BRIEF 1.3, 2.1, 4.2: these files set no days to report after arrival."""
    found = plan_for(book, destination, urgent_surveillance=True, tb_history=True)
    assert all(o.report_within_days is None for o in found.outcomes)


@pytest.mark.parametrize(("days", "tier"), [(30, None), (7, "urgent")])
def test_follow_up_due_the_day_of_the_deadline(days, tier):
    """S28h, S28i: due `days` after arrival: the day before is inside, the day of is the last
    day, the day after is late. The follow-up takes the outcome's (tiered) days."""
    rule = FollowUpRule("ca.arrival.surveillance", frozenset(), "report", None)
    arrival = date(2026, 12, 20)
    outcome = {"report_within_days": days, "report_tier": tier}
    within, due = _due(rule, outcome, arrival)
    assert (within, due) == (days, arrival + timedelta(days=days))
    assert due is not None
    assert due - timedelta(days=1) < due  # the day before: in time
    assert (due - arrival).days == days  # the day of: the last day in time


# --- pmha rules check: anchors and tiers ------------------------------------------------------

XRAY = """
[[requirement]]
id = "nz.cxr"
code = "chest_xray"
source = ["S1"]
effective_from = 2020-01-01
"""


def problems_of(tmp_path, text):
    (tmp_path / "NZ.toml").write_text(HEAD + XRAY + text)
    _, problems = check_rules(tmp_path)
    return " | ".join(str(p) for p in problems)


def outcome(extra):
    return f"""
[[outcome]]
id = "nz.v"
kind = "exam_validity"
value = "valid"
source = ["S1"]
effective_from = 2020-01-01
{extra}
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('date = ["exam_date", "result:chest_xray"]\ndate_choice = "latest"\nvalid_for = "3m"', ""),
        ('date = ["exam_day"]\nvalid_for = "3m"', "unknown date anchor 'exam_day'"),
        ('date = ["result:igra"]\nvalid_for = "3m"', "anchored to result:igra, which no rule"),
        ('date = ["departure_date"]\nvalid_for = "3m"', "dated by exam_date or result:<code>"),
        ('date = ["exam_date"]\ndate_choice = "latest"', "a choice of one anchor"),
        ('date = ["exam_date"]\ndate_choice = "newest"', "date_choice: Must be one of"),
        ('valid_for = "3m"', "a validity needs its anchor"),
    ],
)
def test_anchor_faults_are_named(tmp_path, extra, expected):
    """country_rules/README.md 'Validity anchors': what pmha rules check rejects."""
    found = problems_of(tmp_path, outcome(extra))
    assert (expected in found) if expected else found == "", found


def tiered(tier, days="report_within_days = 30"):
    return f"""
[[outcome]]
id = "nz.s"
kind = "medical_surveillance"
value = "medical_surveillance"
source = ["S1"]
effective_from = 2020-01-01
{days}
tiers = [{tier}]
"""


@pytest.mark.parametrize(
    ("tier", "days", "expected"),
    [
        (
            '{ name = "urgent", when = { urgent_surveillance = true }, '
            'report_within_days = 7, source = ["S1"] }',
            "report_within_days = 30",
            "",
        ),
        (
            '{ name = "urgent", when = { urgent_surveillance = true }, '
            'report_within_days = 7, source = ["S9"] }',
            "report_within_days = 30",
            "source 'S9' is not in the [sources] table",
        ),
        (
            '{ name = "urgent", when = { urgency = true }, '
            'report_within_days = 7, source = ["S1"] }',
            "report_within_days = 30",
            "urgency",
        ),
        (
            '{ name = "urgent", when = { urgent_surveillance = true }, '
            'report_within_days = 7, source = ["S1"] }',
            "",
            "give report_within_days as well",
        ),
        (
            '{ name = "urgent", when = { urgent_surveillance = true }, source = ["S1"] }',
            "report_within_days = 30",
            "report_within_days: Missing data",
        ),
    ],
)
def test_tier_faults_are_named(tmp_path, tier, days, expected):
    """country_rules/README.md 'Reporting tiers': a tier is cited, reads known facts, and
    shortens a deadline the rule gives."""
    found = problems_of(tmp_path, tiered(tier, days))
    assert (expected in found) if expected else found == "", found
