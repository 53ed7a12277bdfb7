"""Synthetic TB patients for the tb_dot tests (and the authorization table's episode)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, object_session

from pmha.cases.models import Applicant
from pmha.core.db import utcnow
from pmha.rules import RuleBook
from pmha.rules.vocabulary import reassuring
from pmha.tb_dot import service
from pmha.tb_dot.commands import PhaseSpec, StartEpisode
from pmha.tb_dot.regimens import TreatmentRules, load_catalogue
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.models import StepState
from pmha.workflow.roles import group_of
from tests.factories import World, applicant_data, make_case
from tests.settle import settle_as_owner

TODAY = utcnow().date()
NO_TB = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False,
         "extrapulmonary_tb": False}  # fmt: skip
RECORDER = {"physician": "panel_physician", "nurse": "nurse", "radiology": "radiologist",
            "lab": "lab_technician"}  # fmt: skip


def rules_of(app: Flask) -> RuleBook:
    found: RuleBook = app.extensions["pmha.rules"]
    return found


def catalogue_of(app: Flask) -> Mapping[str, TreatmentRules]:
    return load_catalogue(app.extensions["pmha.config"].RULES_DIR)


def record(
    session: Session,
    app: Flask,
    world: World,
    applicant: Applicant,
    code: str,
    value: str,
    day: dt.date = TODAY,
) -> workflow.Workflow:
    who = world.actor(RECORDER.get(group_of(code), "panel_physician"))
    data = {"code": code, "value": value, "date": day}
    return settle_as_owner(session, who, rules_of(app), applicant.id, data)


def tb_patient(
    session: Session,
    app: Flask,
    world: World,
    destination: str = "US",
    programme: str = "refugee",
    diagnosed: dt.date = TODAY,
    **who: Any,
) -> Applicant:
    """An adult at the home site with pulmonary TB: X-ray suggestive, smear and culture
    positive on `diagnosed` (BRIEF 1.2), so the destination's rules ask for treatment."""
    actor = world.actor("nurse")
    pregnant = who.pop("pregnant", False)
    symptoms = who.pop("tb_symptoms", False)  # children: the X-ray only with symptoms
    case = make_case(session, actor, destination=destination, programme=programme,
                     principal=applicant_data(**who))  # fmt: skip
    applicant = case.principal
    assert applicant is not None
    facts: dict[str, Any] = {"exam_date": TODAY, **NO_TB, "tb_symptoms": symptoms}
    if applicant.sex.value == "female":
        facts["pregnant"] = pregnant
    workflow.set_facts(
        session, world.actor("panel_physician"), rules_of(app), applicant.id, FactsUpdate(**facts)
    )
    for code, value in (
        ("chest_xray", "suggestive_of_tb"),
        ("sputum_smear", "positive"),
        ("sputum_culture", "positive"),
    ):
        record(session, app, world, applicant, code, value, diagnosed)
    return applicant


def finish_other_steps(
    session: Session, app: Flask, world: World, applicant: Applicant, diagnosed: dt.date = TODAY
) -> workflow.Workflow:
    """Record a reassuring result for every other required step still pending (not travel);
    the NAAT and DST that complete the diagnosis are dated `diagnosed`."""
    found = workflow.current(session, world.actor("panel_physician"), rules_of(app), applicant.id)
    for _ in range(40):
        todo = [s for s in found.steps if s.state == StepState.PENDING
                and s.planned_status == "required" and group_of(s.code) != "travel"
                and s.code != "tb_treatment_dot"]  # fmt: skip
        if not todo:
            break
        code = todo[0].code
        tb = {"tb_naat": "positive", "dst": "susceptible"}
        day = diagnosed if code in tb else TODAY
        found = record(session, app, world, applicant, code, tb.get(code, reassuring(code)), day)
    return found


def episode_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "diagnosed_on": TODAY - dt.timedelta(days=2),
        "site": "pulmonary",
        "susceptibility": "susceptible",
        "cavitation": False,
        "weight_kg": 58.0,
        "regimen": "2HRZE/4HR",
        "start_date": TODAY,
        "dot_site": "centre",
    }
    data.update(overrides)
    return data


def episode_command(**overrides: Any) -> StartEpisode:
    """episode_data as the command the service takes (a custom regimen's phases as dicts)."""
    data = episode_data(**overrides)
    phases = tuple(PhaseSpec(**p) for p in data.pop("phases", ()))
    return StartEpisode(**data, phases=phases)


def start(
    session: Session, app: Flask, world: World, applicant: Applicant, **overrides: Any
) -> service.Treatment:
    return service.start_episode(session, world.actor("panel_physician"), catalogue_of(app),
                                 applicant.id, episode_command(**overrides))  # fmt: skip


def authorization_episode(ctx: Any) -> Any:
    """For tests/test_authorization.py: a treatment episode of the context's principal, made
    once per test (the principal is not a TB patient: the episode is what the routes need)."""
    found = getattr(ctx, "_tb_episode", None)
    if found is None:
        session = object_session(ctx.applicant)
        assert session is not None
        found = service.start_episode(
            session,
            ctx.world.actor("panel_physician"),
            load_catalogue(_rules_dir()),
            ctx.applicant.id,
            episode_command(
                start_date=TODAY - dt.timedelta(days=3), diagnosed_on=TODAY - dt.timedelta(days=5)
            ),
        ).episode
        session.commit()
        ctx._tb_episode = found
    return found


def authorization_classified(ctx: Any) -> Any:
    """For tests/test_authorization.py: the context's principal with facts and a normal chest
    X-ray, so the rules derive a TB class the physician can confirm (once per test)."""
    if getattr(ctx, "_tb_classified", False):
        return ctx.applicant
    session = object_session(ctx.applicant)
    assert session is not None
    from pmha.rules import load_rules
    from pmha.workflow.models import ClinicalFacts

    rules = load_rules(_rules_dir())
    facts = session.get(ClinicalFacts, ctx.applicant.id)
    data: dict[str, Any] = {
        "exam_date": TODAY,
        **NO_TB,
        "version": facts.version if facts else None,
    }
    if ctx.applicant.sex.value == "female":
        data["pregnant"] = False
    physician = ctx.world.actor("panel_physician")
    workflow.set_facts(session, physician, rules, ctx.applicant.id, FactsUpdate(**data))
    result = {"code": "chest_xray", "value": "normal", "date": TODAY}
    settle_as_owner(session, ctx.world.actor("radiologist"), rules, ctx.applicant.id, result)
    session.commit()
    ctx._tb_classified = True
    return ctx.applicant


def _rules_dir() -> str:
    from pmha.config import PROJECT_ROOT

    return str(PROJECT_ROOT / "country_rules")


def tb_episode_body() -> dict[str, Any]:
    """A JSON or form body that starts treatment (2HRZE/4HR from today)."""
    data = episode_data()
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()
            if k != "cavitation"}  # fmt: skip
