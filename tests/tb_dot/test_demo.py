"""The demo's Class A applicant, as a physician would meet it: diagnosed before treatment began,
six months of generated doses and monthly sputum checks, one dose left for today; recording it
and closing the episode re-classifies A -> B0 and clears the applicant (BRIEF 1.3 [C S2, S3])."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha import demo as seed_demo
from pmha.core.auth import Actor, Role
from pmha.tb_dot import classify, demo, service
from pmha.tb_dot.commands import CloseEpisode, NewDose
from pmha.tb_dot.models import TbEpisode
from pmha.workflow import service as workflow
from tests.tb_dot.helpers import TODAY, catalogue_of, rules_of


def test_the_demo_class_a_applicant_is_diagnosed_then_treated_then_cleared(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    rules, catalogue = rules_of(app), catalogue_of(app)
    with app.app_context():
        assert seed_demo.seed(session, families=6, rules=rules, storage=tmp_path) is not None
    # the demo's Class A story still in treatment (issue 15's reclassified son has completed his)
    episode = session.scalars(select(TbEpisode).where(TbEpisode.outcome.is_(None))).one()
    physician = Actor(None, "test", frozenset({Role.PANEL_PHYSICIAN}),
                      frozenset({episode.site_id}), via="cli")  # fmt: skip
    diagnosed, begun = demo.timeline(TODAY, "US", catalogue)
    assert (episode.diagnosed_on, episode.start_date) == (diagnosed, begun)
    assert dt.timedelta(days=180) <= TODAY - begun <= dt.timedelta(days=200)  # six months

    found = classify.classify(session, physician, rules, episode.applicant_id)
    assert found.outcomes["tb_class"]["values"] == ["class_a"]
    for code in ("chest_xray", "sputum_smear", "sputum_culture", "tb_naat", "dst"):
        assert dt.date.fromisoformat(str(found.results[code]["date"])) <= episode.diagnosed_on, code
    assert episode.diagnosed_on < episode.start_date

    treatment = service.get_treatment(session, physician, catalogue, episode.id)
    days = sorted(o.dose_date for o in episode.observations)
    assert (days[0], days[-1], len(days)) == (begun, TODAY - dt.timedelta(days=1), len(set(days)))
    assert treatment.progress.outstanding == 1
    assert [s.month for s in episode.sputum] == [1, 2, 3, 4, 5, 6]
    assert treatment.progress.conversion is not None

    dot = Actor(None, "test", frozenset({Role.DOT_WORKER}), frozenset({episode.site_id}),
                via="cli")  # fmt: skip
    service.record_dose(session, dot, catalogue, episode.id, NewDose(date=TODAY, status="observed"))
    session.expire_all()
    episode = service.load_episode(session, physician, episode.id)
    body = {"outcome": "cured", "version": episode.version}
    _, planned = service.close_episode(
        session, physician, rules, catalogue, episode.id, CloseEpisode(**body)
    )
    assert "tb_class:class_b0" in planned.decision.conditions
    after = classify.classify(session, physician, rules, episode.applicant_id)
    assert after.outcomes["tb_class"]["values"] == ["class_b0"]
    mine = workflow.current(session, physician, rules, episode.applicant_id)
    assert mine.decision.status in ("cleared", "cleared_with_conditions")
