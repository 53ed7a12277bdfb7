"""Properties: any well-formed facts can be planned; a positive result never removes a follow-up."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmha.rules import Facts, Result, load_rules, plan
from pmha.rules import vocabulary as vocab
from pmha.rules.vocabulary import RESULT_VALUES
from tests.rules.conftest import RULES_DIR

BOOK = load_rules(RULES_DIR)
FLAG = st.one_of(st.none(), st.booleans())
POSITIVE = {
    "igra": "positive",
    "tst": 15,
    "chest_xray": "suggestive_of_tb",
    "sputum_smear": "positive",
    "sputum_culture": "positive",
    "tb_naat": "positive",
    "gonorrhea_naat": "positive",
    "syphilis_serology": "reactive",
    "hiv_test": "positive",
    "hbv_test": "positive",
}
OPEN = {"required", "conditional", "blocked", "done", "waived"}
# Travel steps follow the classification, not a result: a positive culture rightly turns a
# pending Class B1 (PDMS before departure) into Class A (no departure until treated).
TRAVEL_STEPS = {"pdms", "pec", "dhc", "medical_escort", "clearance", "export"}


def result_value(code: str) -> st.SearchStrategy[str | float]:
    allowed = RESULT_VALUES[code]
    if allowed is None:
        return st.integers(min_value=0, max_value=40)
    return st.sampled_from(allowed)


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    destination = draw(st.sampled_from(BOOK.destinations))
    ruleset = BOOK.for_destination(destination)
    exam = draw(st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)))
    dob = exam - timedelta(days=draw(st.integers(min_value=0, max_value=365 * 100)))
    sex = draw(st.sampled_from(["female", "male", "unknown"]))
    pregnant = False if sex == "male" else draw(FLAG)
    weeks = draw(st.one_of(st.none(), st.integers(0, 45))) if pregnant else None
    codes = draw(st.lists(st.sampled_from(sorted(RESULT_VALUES)), unique=True, max_size=6))
    results = {}
    for code in codes:
        day = exam + timedelta(days=draw(st.integers(min_value=0, max_value=90)))
        results[code] = Result(draw(result_value(code)), day, draw(st.booleans()))
    return Facts(
        dob=dob,
        exam_date=exam,
        sex=sex,
        programme=draw(st.sampled_from(sorted(ruleset.programmes))),
        destination=destination,
        exam_country=draw(st.sampled_from(["TR", "PK", "FR", "IN"])),
        pregnant=pregnant,
        gestation_weeks=weeks,
        tb_history=draw(FLAG),
        tb_contact=draw(FLAG),
        tb_symptoms=draw(FLAG),
        known_hiv=draw(FLAG),
        extrapulmonary_tb=draw(FLAG),
        departure_date=draw(st.one_of(st.none(), st.just(exam + timedelta(days=60)))),
        results=results,
        deferred=frozenset(draw(st.lists(st.sampled_from(["chest_xray", "igra"]), max_size=1))),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts(), st.integers(min_value=-30, max_value=800))
def test_any_well_formed_facts_can_be_planned(f, days):
    assert f.errors() == {}
    result = plan(f, BOOK, f.exam_date + timedelta(days=days))
    as_dict = result.to_dict()
    assert len(as_dict["requirements"]) == len(result.requirements)
    for item in result.requirements:
        # The vocabulary's plan statuses, "alternative" (settled by a declared, cited route such
        # as the UK child's sputum instead of the X-ray [S25, S26b]) included.
        assert item.status in vocab.STATUSES
        assert item.reason.rule is None or item.reason.source
    for outcome in result.outcomes:
        assert outcome.status in {"final", "pending"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts(), st.sampled_from(sorted(POSITIVE)))
def test_a_positive_result_never_removes_a_follow_up(f, code):
    """Recording a positive result keeps every step that was needed (or possibly needed)."""
    before = plan(f, BOOK, f.exam_date)
    results = dict(f.results)
    results[code] = Result(POSITIVE[code], f.exam_date)
    after = plan(Facts(**{**_fields(f), "results": results}), BOOK, f.exam_date)
    for item in before.requirements:
        if item.status in OPEN and item.code != code and item.code not in TRAVEL_STEPS:
            assert after.status(item.code) in OPEN, (code, item, after.requirement(item.code))


def _fields(f: Facts) -> dict:
    return {name: getattr(f, name) for name in Facts.__dataclass_fields__}
