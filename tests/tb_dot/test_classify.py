"""US TB classes as the TB page derives them from the clinical record, each with the rule that
fired and its sources (BRIEF 1.3: CDC TB technical instructions [C S2-S6]); the physician's
confirmation is kept with the rule version and asked for again when the rules say otherwise."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant
from pmha.tb_dot import classify
from pmha.tb_dot.models import TbClassification
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from tests.factories import World, applicant_data, make_case
from tests.tb_dot.helpers import NO_TB, TODAY, record, rules_of

ADULT = "1985-03-14"
CHILD = (TODAY - dt.timedelta(days=10 * 365)).isoformat()


def _classified(
    app: Flask, session: Session, world: World, dob: str, facts: dict[str, Any],
    results: list[tuple[str, str]],
) -> classify.Classification:  # fmt: skip
    case = make_case(session, world.actor("nurse"), destination="US", programme="refugee",
                     principal=applicant_data(dob=dob))  # fmt: skip
    applicant = case.principal
    assert applicant is not None
    workflow.set_facts(session, world.actor("panel_physician"), rules_of(app), applicant.id,
                       FactsUpdate(**{"exam_date": TODAY, **NO_TB, **facts}))  # fmt: skip
    for code, value in results:
        record(session, app, world, applicant, code, value)
    return classify.classify(session, world.actor("panel_physician"), rules_of(app), applicant.id)


NEGATIVE_SPUTUM = [("sputum_smear", "negative"), ("sputum_culture", "negative"),
                   ("tb_naat", "negative")]  # fmt: skip


@pytest.mark.parametrize(
    ("dob", "facts", "results", "values", "rules", "sources"),
    [
        # BRIEF 1.3: smear or culture positive -> Class A [C S2, S3]
        (ADULT, {}, [("chest_xray", "suggestive_of_tb"), ("sputum_smear", "positive")],
         ["class_a"], ["us.tb.class_a"], ["S2", "S3", "S5"]),
        # BRIEF 1.3: X-ray suggestive, sputum negative -> B1 pulmonary [C S3, S5]
        (ADULT, {}, [("chest_xray", "suggestive_of_tb"), *NEGATIVE_SPUTUM],
         ["class_b1_pulmonary"], ["us.tb.class_b1_pulmonary"], ["S3", "S5"]),
        # BRIEF 1.3: extrapulmonary TB, sputum not positive -> B1 extrapulmonary [S S6]
        (ADULT, {"extrapulmonary_tb": True}, [("chest_xray", "normal")],
         ["class_b1_extrapulmonary"], ["us.tb.class_b1_extrapulmonary"], ["S6"]),
        # BRIEF 1.3: a contact with a positive IGRA and a normal X-ray -> B2 LTBI [C S3, S5d,
        # S6], and B3 contact [C S5, S6]: the two stand together
        (CHILD, {"tb_contact": True}, [("igra", "positive"), ("chest_xray", "normal")],
         ["class_b2_ltbi", "class_b3_contact"], ["us.tb.class_b2_ltbi", "us.tb.class_b3_contact"],
         ["S3", "S5d", "S6"]),
        # BRIEF 1.3: a contact with a negative IGRA -> B3 contact only [C S5, S6]
        (CHILD, {"tb_contact": True}, [("igra", "negative")],
         ["class_b3_contact"], ["us.tb.class_b3_contact"], ["S5", "S6"]),
    ],
    ids=["class_a", "b1_pulmonary", "b1_extrapulmonary", "b2_and_b3", "b3_contact"],
)  # fmt: skip
def test_the_us_class_comes_with_the_rule_that_fired_and_its_sources(
    app: Flask,
    session: Session,
    world: World,
    dob: str,
    facts: dict[str, Any],
    results: list[tuple[str, str]],
    values: list[str],
    rules: list[str],
    sources: list[str],
) -> None:
    found = _classified(app, session, world, dob, facts, results)
    tb_class = found.outcomes["tb_class"]
    assert tb_class["values"] == values
    assert [t["rule"] for t in tb_class["trace"]] == rules
    assert tb_class["trace"][0]["source"] == sources
    assert found.needs_confirmation


def test_the_physician_confirms_what_the_rules_derive_and_is_asked_again_when_it_changes(
    app: Flask, session: Session, world: World
) -> None:
    physician, rules = world.actor("panel_physician"), rules_of(app)
    found = _classified(app, session, world, ADULT, {},
                        [("chest_xray", "suggestive_of_tb"), *NEGATIVE_SPUTUM])  # fmt: skip
    assert found.outcomes["tb_class"]["values"] == ["class_b1_pulmonary"]
    done = classify.confirm(session, physician, rules, found.applicant_id, "culture negative")
    assert done.confirmed is not None and not done.needs_confirmation
    assert done.confirmed.rules_version == found.rules_version
    assert session.scalar(select(func.count()).select_from(TbClassification)) == 1
    applicant = session.get(Applicant, found.applicant_id)
    assert applicant is not None
    record(session, app, world, applicant, "sputum_culture", "positive")  # a later culture
    again = classify.classify(session, physician, rules, found.applicant_id)
    assert again.outcomes["tb_class"]["values"] == ["class_a"] and again.needs_confirmation


def test_a_classification_still_waiting_for_results_cannot_be_confirmed(
    app: Flask, session: Session, world: World
) -> None:
    """A chest X-ray suggestive of TB with the sputum still out: the class is pending (BRIEF 1.3,
    sputum smears and cultures decide A or B1 [C S2-S4]); confirming it now is refused, and
    nothing is written."""
    from pmha.core.errors import Conflict

    found = _classified(app, session, world, ADULT, {}, [("chest_xray", "suggestive_of_tb")])
    assert found.outcomes["tb_class"]["status"] == "pending", found.outcomes
    assert found.outcomes["tb_class"]["values"] == [], found.outcomes
    with pytest.raises(Conflict) as refused:
        classify.confirm(session, world.actor("panel_physician"), rules_of(app), found.applicant_id)
    assert refused.value.code == "tb_dot.classification_pending"
    assert "Sputum smears" in str(refused.value.detail)
    assert session.scalar(select(func.count()).select_from(TbClassification)) == 0
