"""A Class A applicant from diagnosis through six months of observed doses to B0 and clearance.

BRIEF 1.3: Class A TB is not cleared until treatment is completed under DOT, then re-classified
B0 [C S2, S3]; BRIEF 6: 2HRZE/4HR is 56 + 126 daily doses [S S33c, S33d].
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy.orm import Session

from pmha.tb_dot import classify, demo, service, summary
from pmha.tb_dot.commands import CloseEpisode, NewDose
from pmha.tb_dot.models import DoseStatus
from pmha.workflow import service as workflow
from tests.factories import World
from tests.tb_dot.helpers import (
    TODAY,
    catalogue_of,
    finish_other_steps,
    rules_of,
    start,
    tb_patient,
)


def _tb_blockers(found: workflow.Workflow) -> list[str]:
    return [b.code for b in found.decision.blockers if b.code in ("tb_class", "tb_treatment_dot")]


def test_class_a_is_treated_under_dot_then_reclassified_b0_and_cleared(
    app: Flask, session: Session, world: World
) -> None:
    rules, catalogue = rules_of(app), catalogue_of(app)
    physician = world.actor("panel_physician")
    applicant = tb_patient(session, app, world)
    found = classify.classify(session, physician, rules, applicant.id)
    assert found.outcomes["tb_class"]["values"] == ["class_a"]
    assert [t["rule"] for t in found.outcomes["tb_class"]["trace"]] == ["us.tb.class_a"]
    assert found.results["sputum_culture"]["value"] == "positive"
    classify.confirm(session, physician, rules, applicant.id, "smear and culture positive")

    before = finish_other_steps(session, app, world, applicant)
    assert before.decision.status in ("travel_hold", "not_cleared")
    assert set(_tb_blockers(before)) == {"tb_class", "tb_treatment_dot"}

    # Six months ago: 182 daily doses, four not observed, so one dose is left for today.
    total = 56 + 126
    begun = TODAY - dt.timedelta(days=total + len(demo.NOT_OBSERVED) - 1)
    treatment = start(
        session, app, world, applicant, start_date=begun, diagnosed_on=begun - dt.timedelta(days=2)
    )
    assert treatment.dose == "4 tablets a day (HRZE 75/150/400/275; HR 75/150)"  # 58 kg band
    dot = world.actor("dot_worker")
    demo.generate_doses(session, dot, treatment.episode, TODAY - dt.timedelta(days=1),
                        demo.NOT_OBSERVED)  # fmt: skip
    demo.generate_sputum(session, dot, treatment.episode, TODAY - dt.timedelta(days=1))
    session.expire_all()
    now = service.get_treatment(session, dot, catalogue, treatment.episode.id).progress
    assert (now.taken, now.outstanding) == (total - 1, 1)
    assert now.phases[0].complete and now.phases[0].doses == 56
    assert now.conversion is not None

    service.record_dose(session, dot, catalogue, treatment.episode.id,
                        NewDose(date=TODAY, status="observed"))  # fmt: skip
    session.expire_all()
    done = service.get_treatment(session, dot, catalogue, treatment.episode.id).progress
    assert done.complete and done.suggested_outcome() == "cured"

    episode = service.load_episode(session, physician, treatment.episode.id)
    closed, planned = service.close_episode(
        session, physician, rules, catalogue, episode.id,
        CloseEpisode(outcome="cured", version=episode.version),
    )  # fmt: skip
    assert closed.episode.outcome == "cured"
    assert _tb_blockers(planned) == []
    assert planned.decision.status in ("cleared", "cleared_with_conditions")
    assert "tb_class:class_b0" in planned.decision.conditions
    after = classify.classify(session, physician, rules, applicant.id)
    assert after.outcomes["tb_class"]["values"] == ["class_b0"]
    assert after.needs_confirmation  # the physician confirmed Class A: B0 is new

    bundle = summary.tb_summary(session, physician, applicant.id, rules, catalogue)
    assert bundle["classification"]["outcomes"]["tb_class"]["values"] == ["class_b0"]
    assert bundle["episode"]["regimen"]["code"] == "2HRZE/4HR"
    assert bundle["adherence"]["doses_taken"] == total
    assert bundle["outcome"]["value"] == "cured"
    assert DoseStatus.MISSED in demo.NOT_OBSERVED.values()
