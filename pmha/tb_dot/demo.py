"""Synthetic TB treatment for the demo: the Class A applicants, diagnosed (X-ray, smear, culture,
NAAT, DST) a few days before their first dose, each put on 2HRZE/4HR under DOT about six months
ago, with generated daily doses (a few missed) and monthly sputum checks, one dose short of
completion so that the last dose, the closing and the re-classification to B0 can be done in the
browser. The exam date stays today: the physician's re-evaluation at the end of treatment."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha import demo_records
from pmha.cases.models import Applicant
from pmha.core import audit
from pmha.core.auth import Actor, Role
from pmha.rules import RuleBook, add_months
from pmha.tb_dot import service
from pmha.tb_dot.commands import StartEpisode
from pmha.tb_dot.models import DoseStatus, DotObservation, SputumCheck, TbEpisode
from pmha.workflow import service as workflow

REGIMEN = "2HRZE/4HR"
# Days (from the start) whose dose was not taken under observation, and what happened instead.
NOT_OBSERVED = {
    20: DoseStatus.MISSED,
    75: DoseStatus.REFUSED,
    76: DoseStatus.MISSED,
    130: DoseStatus.SELF_ADMINISTERED,
}
DIAGNOSED_BEFORE_START = timedelta(days=3)


def _catalogue() -> service.Catalogue:
    from pathlib import Path

    from pmha.config import Config
    from pmha.tb_dot.regimens import load_catalogue

    return load_catalogue(Path(Config.from_env().RULES_DIR))


def timeline(
    today: date, destination: str = "US", catalogue: service.Catalogue | None = None
) -> tuple[date, date]:
    """(diagnosed, first dose) of a demo Class A applicant: the first dose far enough back that,
    with the days listed in NOT_OBSERVED, one dose of the regimen is left for today."""
    rule = (catalogue or _catalogue())[destination].regimens[REGIMEN]
    total = sum(p.doses for p in rule.phases)
    start = today - timedelta(days=total + len(NOT_OBSERVED) - 1)
    return start - DIAGNOSED_BEFORE_START, start


def generate_doses(
    session: Session,
    actor: Actor,
    episode: TbEpisode,
    until: date,
    not_observed: Mapping[int, DoseStatus],
) -> int:
    """One entry per day from the start to `until` (inclusive): observed unless listed."""
    rows = []
    day, i = episode.start_date, 0
    while day <= until:
        status = not_observed.get(i, DoseStatus.OBSERVED)
        rows.append(
            DotObservation(
                episode_id=episode.id, dose_date=day, status=status, recorded_by=actor.user_id
            )
        )
        day, i = day + timedelta(days=1), i + 1
    session.add_all(rows)
    session.flush()
    audit.record(session, actor, "create", "tb_dose", episode.id, site_id=episode.site_id,
                 details={"generated": len(rows)})  # fmt: skip
    return len(rows)


def generate_sputum(
    session: Session, actor: Actor, episode: TbEpisode, until: date, positive_months: int = 1
) -> None:
    """A check each month of treatment: positive in the first months, negative after."""
    month = 1
    while (day := add_months(episode.start_date, month)) <= until:
        result = "positive" if month <= positive_months else "negative"
        check = SputumCheck(episode_id=episode.id, month=month, collected_on=day, smear=result,
                            culture=result, recorded_by=actor.user_id)  # fmt: skip
        session.add(check)
        month += 1
    session.flush()


def _class_a(session: Session, actor: Actor, rules: RuleBook, applicant_id: object) -> bool:
    found = workflow.current(session, actor, rules, applicant_id)  # type: ignore[arg-type]
    for outcome in (found.record.plan or {}).get("outcomes", []):
        if outcome["kind"] == "tb_class" and "class_a" in outcome["values"]:
            return True
    return False


def seed(
    session: Session,
    clinic: Mapping[Role, Actor],
    rules: RuleBook,
    today: date,
    catalogue: service.Catalogue | None = None,
) -> int:
    """Put the demo's Class A applicants on treatment; returns how many."""
    catalogue = catalogue or _catalogue()
    physician = clinic[Role.PANEL_PHYSICIAN]
    dot = Actor(None, "demo-seed", frozenset({Role.DOT_WORKER}), physician.site_ids, via="cli")
    rng = random.Random(7)  # noqa: S311 (synthetic data)
    count = 0
    for applicant in session.scalars(select(Applicant).order_by(Applicant.created_at)):
        if not _class_a(session, physician, rules, applicant.id):
            continue
        diagnosed, start = timeline(today, applicant.case.destination.value, catalogue)
        for code, value in (("tb_naat", "positive"), ("dst", "susceptible")):
            demo_records.lab_result(session, clinic, rules, applicant.id, code, value, diagnosed)
        found = service.start_episode(
            session,
            physician,
            catalogue,
            applicant.id,
            StartEpisode(
                diagnosed_on=diagnosed,
                site="pulmonary",
                susceptibility="susceptible",
                cavitation=False,
                weight_kg=float(rng.choice([52, 58, 63])),
                regimen=REGIMEN,
                start_date=start,
                dot_site="centre",
            ),
        )
        generate_doses(session, dot, found.episode, today - timedelta(days=1), NOT_OBSERVED)
        generate_sputum(session, dot, found.episode, today - timedelta(days=1))
        count += 1
    return count
