"""How a requirement may be settled (issue 14): by its result, a declared alternative route, or a
waiver its file allows for it. Nothing else; a refusal is never a waiver.

Sources (shared/domain/BRIEF.md): CDC TB TI, chest X-ray for applicants >= 15 [S1]; blanket
vaccine waivers and refusals [S13a, S13d, S13f]; UK pre-entry screening: a pregnant applicant may
postpone the X-ray or give three sputum specimens with negative cultures instead [S26b].
"""

from __future__ import annotations

import pytest

from pmha.rules import vocabulary as vocab
from pmha.rules.engine import allowed_waiver
from tests.rules.conftest import plan_for
from tests.rules.test_schema import GOOD_RULE, problems_of

WAIVABLE_XRAY = GOOD_RULE + 'waivers = { reasons = ["authority_waiver"] }\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A screening test may be waived only with a cited source [issue 14].
        (WAIVABLE_XRAY, "a screening test (chest_xray) may be waived only with a cited source"),
        # A refusal is recorded as not done (declined), never a waiver [S13f].
        (
            GOOD_RULE + 'waivers = { reasons = ["refused"], source = ["S1"] }\n',
            "refused cannot waive chest_xray",
        ),
        # Blanket vaccine waivers are for vaccines only [S13a].
        (
            GOOD_RULE + 'waivers = { reasons = ["not_age_appropriate"], source = ["S1"] }\n',
            "not_age_appropriate cannot waive chest_xray",
        ),
        (
            GOOD_RULE + 'waivers = { reasons = ["authority_waiver"], source = ["S9"] }\n',
            "source 'S9' is not in the [sources] table",
        ),
        (
            GOOD_RULE + 'alternative = { by = { result = { chest_xray = "normal" } }, '
            'source = ["S1"], note = "itself" }\n',
            "a route cannot read its own requirement",
        ),
        (
            GOOD_RULE + 'alternative = { by = { result = { igra = "negative" } }, '
            'source = ["S1"], note = "an IGRA" }\n',
            "reads requirement 'igra', which no rule in this file decides",
        ),
    ],
)
def test_rules_check_refuses_unsafe_settling(tmp_path, text, expected):
    problems = problems_of(tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_a_cited_authority_waiver_loads(tmp_path):
    text = GOOD_RULE + 'waivers = { reasons = ["authority_waiver"], source = ["S1"] }\n'
    assert problems_of(tmp_path, text) == []


def test_the_real_files_allow_no_waiver_of_a_screening_test(book):
    """No file in country_rules/ lets a screening test be waived (none has a source for it)."""
    for ruleset in book.rulesets.values():
        for node in ruleset.nodes:
            for rule in node.items:
                if rule.code in vocab.SCREENING_TESTS:
                    assert not rule.waivers, (ruleset.destination, rule.cite.id)


@pytest.mark.parametrize(
    ("code", "reason", "allowed"),
    [
        ("chest_xray", "refused", False),  # [S1]: refusal is not a waiver
        ("chest_xray", "contraindicated", False),  # vaccine reason on a test [S13a]
        ("physical_exam", "not_age_appropriate", False),
        # Blanket waivers are per vaccine [S13a], recorded on the vaccine, not on the review.
        ("vaccination_review", "not_age_appropriate", False),
        ("vaccination_review", "religious_or_moral_waiver", False),  # per vaccine too [S13d]
        ("vaccination_review", "refused", False),  # refusal -> Class A, not a waiver [S13f]
    ],
)
def test_which_waivers_the_engine_accepts(book, code, reason, allowed):
    rule = next(r for r in book.for_destination("US").nodes for r in r.items if r.code == code)
    assert allowed_waiver(rule, code, reason) is allowed


def test_a_us_adults_xray_waived_refused_stays_required(book):
    """US adult [S1]: the old engine planned the X-ray waived; now a refusal waives nothing."""
    found = plan_for(book, "US", waivers={"chest_xray": "refused"})
    assert found.status("chest_xray") == "required"


def test_a_us_immigrants_review_is_not_waived_as_a_whole(book):
    """Each vaccine takes its blanket waiver on its own record [S13a]; the review is completed
    once they are settled (issue 14: one record per fact)."""
    found = plan_for(book, "US", waivers={"vaccination_review": "not_age_appropriate"})
    assert found.status("vaccination_review") == "required"


@pytest.mark.parametrize(
    ("results", "deferred", "expected"),
    [
        # Pregnant, X-ray deferred: blocked, sputum asked for [S26b].
        ({}, ["chest_xray"], "blocked"),
        # Smears negative, cultures still awaited: not settled yet [S26c].
        ({"sputum_smear": "negative"}, ["chest_xray"], "blocked"),
        # Three negative smears and cultures: settled by the alternative route [S26b].
        ({"sputum_smear": "negative", "sputum_culture": "negative"}, ["chest_xray"], "alternative"),
        # A positive culture settles nothing: TB is the question [S26b].
        ({"sputum_smear": "negative", "sputum_culture": "positive"}, ["chest_xray"], "blocked"),
    ],
)
def test_gb_pregnant_applicant_may_settle_the_xray_by_sputum(book, results, deferred, expected):
    found = plan_for(book, "GB", sex="female", pregnant=True, results=results, deferred=deferred)
    assert found.status("chest_xray") == expected
    if expected == "alternative":
        item = next(i for i in found.requirements if i.code == "chest_xray")
        assert "S26b" in item.reason.source
        assert "sputum" in item.reason.detail


def test_the_sputum_route_is_not_open_to_a_gb_applicant_who_is_not_pregnant(book):
    found = plan_for(
        book,
        "GB",
        results={"sputum_smear": "negative", "sputum_culture": "negative"},
        deferred=["chest_xray"],
    )
    assert found.status("chest_xray") == "blocked"
