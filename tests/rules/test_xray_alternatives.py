"""Chest X-ray alternatives and "not taken" reasons, per destination (issue 15).

Sources (shared/domain/BRIEF.md):
- UK (BRIEF 2.1): X-ray from 11 years; a child under 11 with symptoms, TB history or a recent
  contact has the X-ray OR three sputum samples / gastric lavage [S25, S26b]; a pregnant
  applicant postpones, gives sputum (three negative cultures) or has the X-ray with shielding
  [S26b]; the certificate's "reason X-ray not taken": "Child (under 11 years)", "Pregnant"
  (and "Other") [S25].
- Australia (BRIEF 4.1): X-ray (502) from 11; not recommended in pregnancy, contact the case
  officer, deferral possible [S29b].
- New Zealand (BRIEF 4.2): children under 11 and pregnant women need no X-ray unless
  specifically requested [S30c].
- United States (BRIEF 1.2): a pregnant applicant still needs the X-ray (shielding); if deferred,
  the medical report cannot be completed [S24]; under 15, "not indicated" [S8].
- Canada (BRIEF 3): X-ray from 11, under 11 with relevant history [S28c].
Ages are at the exam date (EXAM = 2025-05-12): 10 years 364 days = born 2014-05-13; 11 years =
born 2014-05-12.
"""

from __future__ import annotations

from datetime import date

import pytest

from pmha.rules import vocabulary as vocab
from pmha.rules.dates import add_months
from pmha.rules.not_done import destination_words, not_taken
from tests.rules.conftest import EXAM, make_facts, plan_for
from tests.rules.test_schema import GOOD_RULE, problems_of

AGE_10Y364D = "2014-05-13"  # the day before the 11th birthday
AGE_11Y = "2014-05-12"  # the 11th birthday
AGE_14Y364D = "2010-05-13"
AGE_15Y = "2010-05-12"
NEGATIVE = {"sputum_smear": "negative", "sputum_culture": "negative"}


def _item(found, code):
    return next(i for i in found.requirements if i.code == code)


def _why(book, destination, step_reason=None, **overrides):
    facts = make_facts(destination, **overrides)
    found = plan_for(book, destination, **overrides)
    ruleset = book.for_destination(destination)
    return not_taken(ruleset, facts, "chest_xray", found.status("chest_xray"), step_reason)


# --- UK: the child route (X-ray or three sputum samples) [S25, S26b] --------------------------


@pytest.mark.parametrize("flag", ["tb_symptoms", "tb_history", "tb_contact"])
def test_gb_child_with_a_reason_for_tb_needs_the_xray(book, flag):
    """[S25, S26b] BRIEF 2.1: under 11 with symptoms, history or contact: X-ray (or sputum)."""
    found = plan_for(book, "GB", dob=AGE_10Y364D, **{flag: True})
    assert found.status("chest_xray") == vocab.REQUIRED
    # sputum waits on the X-ray's result (or on the X-ray not being taken)
    assert found.status("sputum_culture") == vocab.CONDITIONAL


def test_gb_child_xray_not_taken_brings_in_three_sputum_samples(book):
    """[S25, S26b] BRIEF 2.1: the X-ray not taken: three sputum samples / gastric lavage."""
    found = plan_for(book, "GB", dob=AGE_10Y364D, tb_contact=True, deferred=["chest_xray"])
    assert found.status("chest_xray") == vocab.BLOCKED
    for code in ("sputum_smear", "sputum_culture"):
        assert found.status(code) == vocab.REQUIRED
        assert _item(found, code).count == 3


def test_gb_child_negative_sputum_settles_the_xray_and_issues_the_certificate(book):
    """[S25, S26b] BRIEF 2.1: negative smears and cultures settle a child's X-ray; certificate
    issued from the screening date, 3 months after a close contact [S25]."""
    results = {**NEGATIVE, "medical_history": "completed", "physical_exam": "normal"}
    found = plan_for(
        book, "GB", dob=AGE_10Y364D, tb_contact=True, deferred=["chest_xray"], results=results
    )
    assert found.status("chest_xray") == vocab.ALTERNATIVE
    assert "S26b" in _item(found, "chest_xray").reason.source
    certificate = found.outcome("tb_certificate")
    assert certificate.values == ("issued",)
    assert certificate.trace == ("gb.certificate.child_sputum_contact",)
    assert certificate.date == EXAM
    assert certificate.valid_until == date(2025, 8, 12)


def test_gb_child_with_symptoms_by_sputum_gets_six_months(book):
    """[S25] BRIEF 2.1: 6 months without a close contact in the past year."""
    results = {**NEGATIVE, "medical_history": "completed", "physical_exam": "normal"}
    found = plan_for(
        book, "GB", dob=AGE_10Y364D, tb_symptoms=True, deferred=["chest_xray"], results=results
    )
    certificate = found.outcome("tb_certificate")
    assert certificate.trace == ("gb.certificate.child_sputum",)
    assert certificate.valid_until == date(2025, 11, 12)


def test_gb_child_positive_culture_is_not_settled(book):
    """[S25, S26c] BRIEF 2.1: a positive culture settles nothing and no certificate is issued."""
    results = {"sputum_smear": "negative", "sputum_culture": "positive"}
    found = plan_for(
        book, "GB", dob=AGE_10Y364D, tb_contact=True, deferred=["chest_xray"], results=results
    )
    assert found.status("chest_xray") == vocab.BLOCKED
    assert found.outcome("tb_certificate").values == ("not_issued",)


def test_gb_child_neither_xray_nor_sputum_is_testing_postponed(book):
    """[S25, S26b] BRIEF 2.1: nothing taken: "Testing postponed", the certificate not issued."""
    found = plan_for(
        book, "GB", dob=AGE_10Y364D, tb_contact=True, deferred=["chest_xray", "sputum_culture"]
    )
    certificate = found.outcome("tb_certificate")
    assert certificate.values == ("not_issued",)
    assert certificate.reason == "testing_postponed"


def test_gb_eleven_year_old_has_no_child_route(book):
    """[S25] BRIEF 2.1: from 11 the X-ray is required; sputum does not replace it (not pregnant)."""
    found = plan_for(
        book, "GB", dob=AGE_11Y, tb_contact=True, deferred=["chest_xray"], results=NEGATIVE
    )
    assert found.status("chest_xray") == vocab.BLOCKED


def test_gb_child_without_a_reason_needs_no_xray(book):
    """[S25] BRIEF 2.1: under 11 with no symptoms, history or contact: no X-ray."""
    assert plan_for(book, "GB", dob=AGE_10Y364D).status("chest_xray") == vocab.NOT_REQUIRED
    assert plan_for(book, "GB", dob=AGE_11Y).status("chest_xray") == vocab.REQUIRED


# --- UK: pregnancy [S26b] ---------------------------------------------------------------------


def test_gb_pregnant_xray_with_shielding_is_still_possible(book):
    """[S26b] BRIEF 2.1: the X-ray stays required (2nd/3rd trimester, shielding): not blocked."""
    found = plan_for(book, "GB", pregnant=True)
    assert found.status("chest_xray") == vocab.REQUIRED
    assert "shielding" in (_item(found, "chest_xray").note or "")


@pytest.mark.parametrize(
    ("weeks", "status", "sputum"),
    [(12, vocab.BLOCKED, vocab.REQUIRED), (13, vocab.REQUIRED, vocab.CONDITIONAL)],
)
def test_gb_xray_in_pregnancy_from_the_second_trimester(book, weeks, status, sputum):
    """[S26b] BRIEF 2.1: the X-ray with shielding in the 2nd/3rd trimester only; in the 1st it
    is blocked and the sputum route comes in (first 2nd-trimester week: open question
    gb.cxr.trimester, modelled as 13)."""
    found = plan_for(book, "GB", pregnant=True, gestation_weeks=weeks)
    assert found.status("chest_xray") == status
    assert found.status("sputum_culture") == sputum


def test_gb_first_trimester_negative_sputum_settles_the_xray(book):
    """[S26b] BRIEF 2.1: three negative cultures settle a blocked 1st-trimester X-ray."""
    found = plan_for(book, "GB", pregnant=True, gestation_weeks=8, results=NEGATIVE)
    assert found.status("chest_xray") == vocab.ALTERNATIVE


def test_gb_pregnant_sputum_route(book):
    """[S26b] BRIEF 2.1: three negative cultures settle the pregnant applicant's X-ray."""
    found = plan_for(book, "GB", pregnant=True, deferred=["chest_xray"], results=NEGATIVE)
    assert found.status("chest_xray") == vocab.ALTERNATIVE


@pytest.mark.parametrize(("contact", "months"), [(False, 6), (True, 3)])
def test_gb_pregnant_sputum_route_certificate_validity(book, contact, months):
    """[S25] BRIEF 2.1: the certificate is valid 6 months, 3 after close contact with active
    pulmonary TB in the past year, whichever route settled the X-ray (the sputum route in
    pregnancy [S26b] included: GB.toml gb.certificate.pregnant_sputum_contact)."""
    found = plan_for(
        book, "GB", pregnant=True, tb_contact=contact, deferred=["chest_xray"], results=NEGATIVE
    )
    certificate = found.outcome("tb_certificate")
    assert certificate.values == ("issued",)
    assert certificate.valid_until == add_months(EXAM, months)


def test_gb_pregnant_postponing_everything_is_testing_postponed(book):
    """[S26b] BRIEF 2.1: postpone the X-ray and the clearance until after delivery."""
    found = plan_for(book, "GB", pregnant=True, deferred=["chest_xray", "sputum_culture"])
    assert found.outcome("tb_certificate").reason == "testing_postponed"


# --- UK: the certificate's reason X-ray not taken [S25] --------------------------------------


def test_gb_reason_words_are_the_certificates(book):
    """[S25] BRIEF 2.1: "Child (under 11 years)", "Pregnant"; ours with no UK word: "Other"."""
    words = destination_words(book.for_destination("GB"), "chest_xray", EXAM)
    assert words["under_age_limit"] == "Child (under 11 years)"
    assert words["pregnant_deferring"] == "Pregnant"
    assert {words[r] for r in ("declined", "clinically_contraindicated", "not_available")} == {
        "Other"
    }


def test_gb_child_not_x_rayed_reads_child_under_11(book):
    """[S25] BRIEF 2.1: the day before the 11th birthday: "Child (under 11 years)"."""
    why = _why(book, "GB", dob=AGE_10Y364D)
    assert why is not None and why.implied
    assert (why.code, why.destination_words) == ("under_age_limit", "Child (under 11 years)")
    assert why.source == ("S25",)


def test_gb_eleven_year_old_has_no_reason_until_marked(book):
    """[S25] BRIEF 2.1: on the 11th birthday the X-ray is required: no reason is implied."""
    assert _why(book, "GB", dob=AGE_11Y) is None


def test_gb_pregnant_not_done_reads_pregnant(book):
    """[S25, S26b] BRIEF 2.1: a pregnant applicant's X-ray not done: "Pregnant"."""
    why = _why(book, "GB", "pregnant_deferring", pregnant=True, deferred=["chest_xray"])
    assert why is not None and not why.implied
    assert why.destination_words == "Pregnant"


def test_a_taken_xray_has_no_reason(book):
    """[S25] BRIEF 2.1: a recorded X-ray was taken, whatever else is recorded."""
    assert _why(book, "GB", results={"chest_xray": "normal"}) is None


# --- Australia [S29b] -------------------------------------------------------------------------


def test_au_pregnant_xray_is_deferred_and_holds(book):
    """[S29b] BRIEF 4.1: not recommended in pregnancy: blocked (deferred), never settled."""
    found = plan_for(book, "AU", pregnant=True)
    assert found.status("chest_xray") == vocab.BLOCKED
    why = _why(book, "AU", "pregnant_deferring", pregnant=True)
    assert why is not None and "case officer" in (why.destination_words or "")


@pytest.mark.parametrize(("dob", "status"), [(AGE_10Y364D, "not_required"), (AGE_11Y, "required")])
def test_au_age_boundary(book, dob, status):
    """[S29b] BRIEF 4.1: 502 X-ray from 11; under 11 the 501 medical examination instead."""
    assert plan_for(book, "AU", dob=dob).status("chest_xray") == status
    why = _why(book, "AU", dob=dob)
    assert (why.code if why else None) == ("under_age_limit" if status == "not_required" else None)


# --- New Zealand [S30c] -----------------------------------------------------------------------


@pytest.mark.parametrize(("dob", "status"), [(AGE_10Y364D, "not_required"), (AGE_11Y, "required")])
def test_nz_age_boundary(book, dob, status):
    """[S30c] BRIEF 4.2: under 11 not required unless specifically requested."""
    assert plan_for(book, "NZ", dob=dob).status("chest_xray") == status


def test_nz_child_and_pregnant_reasons(book):
    """[S30c] BRIEF 4.2: the reason says "unless specifically requested"."""
    child = _why(book, "NZ", dob=AGE_10Y364D)
    pregnant = _why(book, "NZ", pregnant=True)
    assert child is not None and child.code == "under_age_limit"
    assert pregnant is not None and pregnant.code == "pregnant_deferring"
    assert "specifically requested" in (pregnant.destination_words or "")
    assert plan_for(book, "NZ", pregnant=True).status("chest_xray") == vocab.NOT_REQUIRED


# --- United States [S24, S8] ------------------------------------------------------------------


def test_us_pregnant_xray_is_still_required(book):
    """[S24] BRIEF 1.2: a pregnant applicant still needs the X-ray (with shielding)."""
    assert plan_for(book, "US", pregnant=True).status("chest_xray") == vocab.REQUIRED


def test_us_pregnant_deferral_holds_and_says_why(book):
    """[S24] BRIEF 1.2: deferred until after delivery: the report cannot be completed. No route
    settles it, even with negative sputum."""
    found = plan_for(book, "US", pregnant=True, deferred=["chest_xray"], results=NEGATIVE)
    assert found.status("chest_xray") == vocab.BLOCKED
    why = _why(book, "US", "pregnant_deferring", pregnant=True, deferred=["chest_xray"])
    assert why is not None and "cannot be completed" in (why.destination_words or "")


@pytest.mark.parametrize(("dob", "status"), [(AGE_14Y364D, "not_required"), (AGE_15Y, "required")])
def test_us_age_boundary(book, dob, status):
    """[S1, S8] BRIEF 1.2: X-ray from 15; under 15 (no indication) "Not indicated"."""
    assert plan_for(book, "US", dob=dob).status("chest_xray") == status
    why = _why(book, "US", dob=dob)
    assert (why.destination_words if why else None) == (
        "Not indicated" if status == "not_required" else None
    )


# --- Canada [S28c] ----------------------------------------------------------------------------


@pytest.mark.parametrize(("dob", "status"), [(AGE_10Y364D, "not_required"), (AGE_11Y, "required")])
def test_ca_age_boundary(book, dob, status):
    """[S28c] BRIEF 3: X-ray from 11; under 11 only with relevant history."""
    assert plan_for(book, "CA", dob=dob).status("chest_xray") == status
    assert plan_for(book, "CA", dob=AGE_10Y364D, tb_history=True).status("chest_xray") == (
        vocab.REQUIRED
    )


def test_ca_pregnant_not_done_holds(book):
    """BRIEF 3 gives no Canadian pregnancy route (open question ca.cxr.pregnancy): held."""
    found = plan_for(book, "CA", pregnant=True, deferred=["chest_xray"], results=NEGATIVE)
    assert found.status("chest_xray") == vocab.BLOCKED


# --- the rule format ---------------------------------------------------------------------------


def test_not_done_words_need_a_known_reason_and_source(tmp_path):
    """The words are declared per NOT_DONE_REASONS code, with a source in [sources]."""
    bad_reason = GOOD_RULE + 'not_done = { reasons = { tired = "Tired" }, source = ["S1"] }\n'
    assert any("tired" in p or "Must be one of" in p for p in problems_of(tmp_path, bad_reason))
    no_source = GOOD_RULE + 'not_done = { reasons = { declined = "Other" }, source = ["S9"] }\n'
    assert any("S9" in p for p in problems_of(tmp_path, no_source))
    reads_result = GOOD_RULE + (
        'not_done = { reasons = { declined = "Other" }, not_required = [{ reason = "declined", '
        'when = { result = { chest_xray = "normal" } } }], source = ["S1"] }\n'
    )
    assert any("facts only" in p for p in problems_of(tmp_path, reads_result))
    good = GOOD_RULE + (
        'not_done = { reasons = { under_age_limit = "Child" }, not_required = [{ reason = '
        '"under_age_limit", when = { age = { below = "11y" } } }], source = ["S1"] }\n'
    )
    assert problems_of(tmp_path, good) == []
