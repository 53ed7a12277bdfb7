"""Reads across episodes: today's DOT list, the programme summary, the nightly check, and the
applicant's TB summary for export bundles (`tb_summary`)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.context import rulebook
from pmha.core.db import utcnow
from pmha.rules import RuleBook
from pmha.tb_dot import classify as cls
from pmha.tb_dot import service as svc
from pmha.tb_dot.context import catalogue as app_catalogue
from pmha.tb_dot.models import EpisodeStatus, TbAlert, TbEpisode

# Adherence bands of the programme summary (a display choice, not a clinical threshold).
BANDS = ((0.95, "95% or more"), (0.90, "90-95%"), (0.80, "80-90%"), (0.0, "under 80%"))


@dataclass
class ListRow:
    episode: TbEpisode
    applicant: Applicant
    case_number: str
    treatment: svc.Treatment
    today: str | None  # today's entry, if any
    alerts: list[str]


def _episodes(session: Session, actor: Actor, status: EpisodeStatus | None) -> list[TbEpisode]:
    query = (
        select(TbEpisode)
        .where(TbEpisode.site_id.in_(actor.site_ids))
        .options(selectinload(TbEpisode.observations), selectinload(TbEpisode.sputum))
        .order_by(TbEpisode.start_date)
    )
    if status is not None:
        query = query.where(TbEpisode.status == status)
    return list(session.scalars(query))


def dot_list(
    session: Session, actor: Actor, catalogue: svc.Catalogue, day: date | None = None
) -> list[ListRow]:
    """Everyone on treatment at the actor's sites whose doses the centre watches, with today's
    entry and what needs attention (audited)."""
    actor.check("tb_dot:read")
    day = day or utcnow().date()
    rows = []
    active = _episodes(session, actor, EpisodeStatus.ACTIVE)
    episodes = [e for e in active if e.dot_site == "centre"]
    found_people = cases.load_applicants(session, actor, [e.applicant_id for e in episodes])
    people = {a.id: (a, a.case.case_number) for a in found_people}
    for episode in episodes:
        applicant, number = people[episode.applicant_id]
        found = svc.treatment_of(episode, catalogue, day)
        entry = next((o.status.value for o in episode.observations if o.dose_date == day), None)
        rows.append(ListRow(episode, applicant, number, found, entry, flags(found)))
    audit.record(session, actor, "read", "tb_dot_list", details={"episodes": len(rows)})
    return rows


def flags(found: svc.Treatment) -> list[str]:
    p = found.progress
    flags = []
    if p.lost_to_follow_up:
        flags.append("lost_to_follow_up")
    elif p.interruption:
        flags.append("interruption")
    elif p.missed_run:
        flags.append("missed_dose")
    if p.sputum_overdue:
        flags.append("sputum_overdue")
    if any(ph.late for ph in p.phases):
        flags.append("phase_late")
    if p.complete:
        flags.append("doses_complete")
    return flags


def programme_summary(session: Session, actor: Actor, catalogue: svc.Catalogue) -> dict[str, Any]:
    """Patients on treatment, adherence distribution, culture conversions and outcomes at the
    actor's sites (counts only; audited)."""
    actor.check("tb_dot:read")
    today = utcnow().date()
    episodes = _episodes(session, actor, None)
    bands: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    regimens: Counter[str] = Counter()
    on_treatment = interrupted = converted = positive_start = overdue = 0
    for episode in episodes:
        found = svc.treatment_of(episode, catalogue, today)
        p = found.progress
        if any(s.culture == "positive" for s in episode.sputum) or p.conversion:
            positive_start += 1
            converted += p.conversion is not None
        if episode.status == EpisodeStatus.CLOSED:
            outcomes[episode.outcome or "not_evaluated"] += 1
            continue
        on_treatment += 1
        regimens[episode.regimen_code] += 1
        interrupted += p.interruption
        overdue += bool(p.sputum_overdue)
        if p.adherence is not None:
            bands[next(label for floor, label in BANDS if p.adherence >= floor)] += 1
    audit.record(session, actor, "read", "tb_programme", details={"episodes": len(episodes)})
    return {
        "on_treatment": on_treatment,
        "by_regimen": dict(regimens),
        "adherence": {label: bands[label] for _, label in BANDS},
        "interrupted": interrupted,
        "sputum_overdue": overdue,
        "conversions": {"converted": converted, "monitored": positive_start},
        "outcomes": dict(outcomes),
    }


def nightly_check(
    session: Session, catalogue: svc.Catalogue, as_of: date | None = None
) -> dict[str, int]:
    """Flag missed doses, interruptions, loss to follow-up and overdue sputum checks of every
    active episode (all sites); one alert per episode, kind and day, so a re-run adds nothing."""
    as_of = as_of or utcnow().date()
    episodes = list(
        session.scalars(
            select(TbEpisode)
            .where(TbEpisode.status == EpisodeStatus.ACTIVE)
            .options(selectinload(TbEpisode.observations), selectinload(TbEpisode.sputum))
        )
    )
    existing = {
        (a.episode_id, a.kind)
        for a in session.scalars(select(TbAlert).where(TbAlert.raised_on == as_of))
    }
    counts: Counter[str] = Counter()
    for episode in episodes:
        rules = svc.treatment_rules(catalogue, episode.destination)
        # The night after: today's doses are not due yet, so judge up to yesterday.
        p = svc.progress_of(episode, rules, as_of)
        found: list[tuple[str, str]] = []
        if p.lost_to_follow_up:
            found.append(("lost_to_follow_up", f"{p.missed_run} days without a dose"))
        elif p.interruption:
            found.append(("interruption", f"{p.missed_run} consecutive doses not taken"))
        elif p.missed_run and not p.complete:
            found.append(("missed_dose", f"{p.missed_run} dose(s) not taken"))
        for month in p.sputum_overdue:
            found.append(("sputum_overdue", f"month {month} sputum check overdue"))
        for kind, detail in found:
            if (episode.id, kind) in existing:
                continue
            existing.add((episode.id, kind))
            session.add(TbAlert(episode_id=episode.id, kind=kind, raised_on=as_of, detail=detail))
            counts[kind] += 1
    session.flush()
    counts["episodes"] = len(episodes)
    return dict(counts)


def alerts(session: Session, episode: TbEpisode, since: date | None = None) -> list[TbAlert]:
    since = since or utcnow().date() - timedelta(days=7)
    return list(
        session.scalars(
            select(TbAlert)
            .where(TbAlert.episode_id == episode.id, TbAlert.raised_on >= since)
            .order_by(TbAlert.raised_on.desc(), TbAlert.kind)
        )
    )


def episode_dict(found: svc.Treatment) -> dict[str, Any]:
    e = found.episode
    return {
        "id": str(e.id),
        "status": e.status.value,
        "diagnosed_on": e.diagnosed_on.isoformat(),
        "site": e.disease_site,
        "susceptibility": e.susceptibility,
        "resistance": e.resistance,
        "cavitation": e.cavitation,
        "weight_kg": e.weight_kg,
        "start_date": e.start_date.isoformat(),
        "dot_site": e.dot_site,
        "referral_centre": e.referral_centre,
        "version": e.version,
        "regimen": {
            "code": e.regimen_code,
            "title": found.regimen_title,
            "phases": [p.to_dict() for p in found.progress.phases],
            "extended": e.extended,
            "dose": found.dose,
        },
        "outcome": None
        if e.outcome is None
        else {"value": e.outcome, "date": e.outcome_date.isoformat() if e.outcome_date else None},
    }


def tb_summary(
    session: Session,
    actor: Actor,
    applicant_id: uuid.UUID,
    rules: RuleBook | None = None,
    catalogue: svc.Catalogue | None = None,
) -> dict[str, Any]:
    """Classification, episode, regimen, adherence and outcome as plain data (export bundles).
    Without `rules` and `catalogue`, the running app's are used."""
    rules, catalogue = rules or rulebook(), catalogue or app_catalogue()
    actor.check("tb_dot:read")
    applicant = cases.load_applicant(session, actor, applicant_id)
    found = cls.classify(session, actor, rules, applicant.id)
    episode = svc.latest_episode(session, applicant.id)
    treatment = svc.treatment_of(episode, catalogue) if episode is not None else None
    audit.record(session, actor, "read", "tb_summary", applicant.id, site_id=applicant.case.site_id)
    return {
        "applicant_id": str(applicant.id),
        "classification": found.to_dict(),
        "episode": None if treatment is None else episode_dict(treatment),
        "adherence": None if treatment is None else treatment.progress.to_dict(),
        "outcome": None if treatment is None else episode_dict(treatment)["outcome"],
    }
