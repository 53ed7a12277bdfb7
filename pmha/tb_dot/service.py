"""TB treatment verbs: start an episode, record doses and sputum checks, close with an outcome.

Closing records the outcome as the `tb_treatment_dot` result through the workflow service, so
the destination's rules re-classify (Class A -> B0) and re-plan, and clearance follows from
them: nothing here decides travel.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from pmha.rules import RuleBook
from pmha.tb_dot import adherence as adh
from pmha.tb_dot import regimens as rg
from pmha.tb_dot.commands import CloseEpisode, NewDose, NewSputum, StartEpisode
from pmha.tb_dot.models import (
    DoseStatus,
    DotObservation,
    EpisodeStatus,
    SputumCheck,
    TbEpisode,
)
from pmha.workflow import service as workflow
from pmha.workflow.commands import NewResult
from pmha.workflow.models import StepState

Catalogue = Mapping[str, rg.TreatmentRules]


@dataclass
class Treatment:
    """An episode with its progress as of a day, as the pages and the API show it."""

    episode: TbEpisode
    applicant: Applicant
    progress: adh.Progress
    regimen_title: str
    dose: str | None  # the weight-band dose


def treatment_rules(catalogue: Catalogue, destination: str) -> rg.TreatmentRules:
    found = catalogue.get(destination)
    if found is None:
        raise ValidationFailed(
            errors={"destination": [f"The {destination} rule file has no TB treatment rules."]}
        )
    return found


def phases_of(episode: TbEpisode, rules: rg.TreatmentRules) -> tuple[rg.Phase, ...]:
    phases = tuple(rg.Phase(**p) for p in episode.phases)
    regimen = rules.regimens.get(episode.regimen_code)
    if episode.extended and regimen is not None and regimen.extension is not None:
        ext = regimen.extension
        last = phases[-1]
        phases = (*phases[:-1], rg.Phase(last.name, last.drugs, ext.continuation_doses,
                                         ext.within_days))  # fmt: skip
    return phases


def progress_of(episode: TbEpisode, rules: rg.TreatmentRules, as_of: date) -> adh.Progress:
    doses = [(o.dose_date, o.status.value) for o in episode.observations]
    checks = [adh.Sputum(s.month, s.collected_on, s.smear, s.culture) for s in episode.sputum]
    regimen = rules.regimens.get(episode.regimen_code)
    schedule = regimen.sputum_schedule(episode.extended) if regimen else rules.custom_sputum
    return adh.compute(phases_of(episode, rules), episode.start_date, doses, checks, rules, as_of,
                       schedule)  # fmt: skip


def treatment_of(episode: TbEpisode, catalogue: Catalogue, as_of: date | None = None) -> Treatment:
    """The episode with its applicant, regimen and progress as of `as_of` (today when not given)."""
    rules = treatment_rules(catalogue, episode.destination)
    regimen = rules.regimens.get(episode.regimen_code)
    applicant = episode_applicant(episode)
    return Treatment(
        episode,
        applicant,
        progress_of(episode, rules, as_of or utcnow().date()),
        regimen.title if regimen else "Custom regimen (drug-resistant TB)",
        regimen.dose_for(episode.weight_kg) if regimen else None,
    )


def episode_applicant(episode: TbEpisode) -> Applicant:
    session = Session.object_session(episode)
    assert session is not None
    found = session.get(Applicant, episode.applicant_id)
    assert found is not None
    return found


def load_episode(session: Session, actor: Actor, episode_id: uuid.UUID) -> TbEpisode:
    """An episode at one of the actor's sites (404 otherwise); the caller audits."""
    episode = session.scalar(
        select(TbEpisode)
        .where(TbEpisode.id == episode_id, TbEpisode.site_id.in_(actor.site_ids))
        .options(selectinload(TbEpisode.observations), selectinload(TbEpisode.sputum))
    )
    if episode is None:
        raise NotFound("No such treatment episode.", code="tb_dot.episode_not_found")
    return episode


def active_episode(session: Session, applicant_id: uuid.UUID) -> TbEpisode | None:
    return session.scalar(
        select(TbEpisode).where(
            TbEpisode.applicant_id == applicant_id, TbEpisode.status == EpisodeStatus.ACTIVE
        )
    )


def latest_episode(session: Session, applicant_id: uuid.UUID) -> TbEpisode | None:
    return session.scalar(
        select(TbEpisode)
        .where(TbEpisode.applicant_id == applicant_id)
        .order_by(TbEpisode.start_date.desc(), TbEpisode.created_at.desc())
        .limit(1)
    )


def get_treatment(
    session: Session, actor: Actor, catalogue: Catalogue, episode_id: uuid.UUID
) -> Treatment:
    """An episode with its adherence, phases and suggested outcome (audited read)."""
    actor.check("tb_dot:read")
    episode = load_episode(session, actor, episode_id)
    audit.record(session, actor, "read", "tb_episode", episode.id, site_id=episode.site_id)
    return treatment_of(episode, catalogue)


def start_episode(
    session: Session,
    actor: Actor,
    catalogue: Catalogue,
    applicant_id: uuid.UUID,
    data: StartEpisode,
) -> Treatment:
    """Start treatment: diagnosis, susceptibility, a regimen the applicant is eligible for (or
    a custom one for drug-resistant TB), the start date and where the doses are watched."""
    actor.check("exams:sign")
    applicant = cases.load_applicant(session, actor, applicant_id)
    if active_episode(session, applicant.id) is not None:
        raise Conflict(
            "The applicant is already on treatment: close that episode first.",
            code="tb_dot.episode_active",
        )
    destination = applicant.case.destination.value
    rules = treatment_rules(catalogue, destination)
    errors: dict[str, list[str]] = {}
    today = utcnow().date()
    start: date = data.start_date
    if start > today:
        errors["start_date"] = ["The start date is in the future."]
    if start < applicant.dob or data.diagnosed_on < applicant.dob:
        errors["start_date"] = ["The date is before the date of birth."]
    if data.diagnosed_on > start:
        errors["diagnosed_on"] = ["The diagnosis is dated after the start of treatment."]
    if data.dot_site == "referral" and not data.referral_centre:
        errors["referral_centre"] = ["Name the programme DOT centre the applicant is referred to."]
    code = data.regimen
    if code == rg.CUSTOM:
        if not data.phases:
            errors["phases"] = ["A custom regimen lists its phases (drugs and doses)."]
        if data.susceptibility == "susceptible":
            errors["regimen"] = ["Custom regimens are for drug-resistant TB."]
        regimen = None if errors else rg.custom_regimen(data.phases, rules.custom_within_factor)
    else:
        regimen = rules.regimens.get(code)
        if regimen is None:
            errors["regimen"] = [f"Use one of {', '.join([*rules.regimens, rg.CUSTOM])}."]
        else:
            facts = workflow.clinical_facts(session, applicant.id)
            pregnant = False if applicant.sex.value == "male" else (
                facts.pregnant if facts else None
            )  # fmt: skip
            who = rg.Patient(applicant.dob, start, data.weight_kg, data.site,
                             data.susceptibility, pregnant)  # fmt: skip
            for field, messages in rg.ineligible(regimen, who).items():
                errors.setdefault(field, []).extend(messages)
    if errors or regimen is None:
        raise ValidationFailed(errors=errors, code="tb_dot.invalid_episode")
    episode = TbEpisode(
        applicant_id=applicant.id,
        site_id=applicant.case.site_id,
        destination=destination,
        status=EpisodeStatus.ACTIVE,
        diagnosed_on=data.diagnosed_on,
        disease_site=data.site,
        susceptibility=data.susceptibility,
        resistance=data.resistance,
        cavitation=bool(data.cavitation),
        weight_kg=data.weight_kg,
        regimen_code=regimen.code,
        phases=[p.to_dict() for p in regimen.phases],
        start_date=start,
        dot_site=data.dot_site,
        referral_centre=data.referral_centre,
        started_by=actor.user_id,
    )
    session.add(episode)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "tb_episode",
        episode.id,
        site_id=episode.site_id,
        after={"regimen": regimen.code, "start_date": start, "dot_site": episode.dot_site},
    )
    session.refresh(episode)
    return treatment_of(episode, catalogue)


def record_dose(
    session: Session,
    actor: Actor,
    catalogue: Catalogue,
    episode_id: uuid.UUID,
    data: NewDose,
) -> DotObservation:
    """Record what happened to one scheduled dose (one entry per day of treatment)."""
    actor.check("tb_dot:write")
    episode = load_episode(session, actor, episode_id)
    day: date = data.date
    status = DoseStatus(data.status)
    errors: dict[str, list[str]] = {}
    if episode.status != EpisodeStatus.ACTIVE:
        raise Conflict("The treatment episode is closed.", code="tb_dot.episode_closed")
    if day < episode.start_date:
        errors["date"] = ["The dose is dated before the start of treatment."]
    elif day > utcnow().date():
        errors["date"] = ["The dose is dated in the future."]
    if status == DoseStatus.ADVERSE_EVENT and not (data.description or "").strip():
        errors["description"] = ["Describe the adverse event."]
    if errors:
        raise ValidationFailed(errors=errors, code="tb_dot.invalid_dose")
    if any(o.dose_date == day for o in episode.observations):
        raise Conflict("This dose is already recorded.", code="tb_dot.dose_already_recorded")
    observation = DotObservation(
        episode_id=episode.id,
        dose_date=day,
        status=status,
        description=data.description or None,
        recorded_by=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(observation)
            session.flush()
    except IntegrityError:  # recorded by someone else a moment ago
        raise Conflict(
            "This dose is already recorded.", code="tb_dot.dose_already_recorded"
        ) from None
    audit.record(
        session,
        actor,
        "create",
        "tb_dose",
        observation.id,
        site_id=episode.site_id,
        after={"status": status.value},
    )
    return observation


def record_sputum(
    session: Session,
    actor: Actor,
    catalogue: Catalogue,
    episode_id: uuid.UUID,
    data: NewSputum,
) -> Treatment:
    """Record a monthly sputum check; a positive culture at the month the regimen names, with
    cavitation, extends the continuation phase (2HRZE/4HR: to 9 months in all)."""
    actor.check("tb_dot:write")
    episode = load_episode(session, actor, episode_id)
    if episode.status != EpisodeStatus.ACTIVE:
        raise Conflict("The treatment episode is closed.", code="tb_dot.episode_closed")
    day: date = data.collected_on
    errors: dict[str, list[str]] = {}
    if day < episode.start_date:
        errors["collected_on"] = ["The sample is dated before the start of treatment."]
    elif day > utcnow().date():
        errors["collected_on"] = ["The sample is dated in the future."]
    if not data.smear and not data.culture:
        errors["smear"] = ["Give the smear or the culture result."]
    rules = treatment_rules(catalogue, episode.destination)
    recorded = {s.month for s in episode.sputum}
    month = adh.check_month(episode.start_date, day, rules.sputum_grace_days, recorded)
    if not errors and any(s.collected_on == day for s in episode.sputum):
        errors["collected_on"] = [
            f"A sputum check collected on {day:%d %B %Y} is already recorded."
        ]
    elif not errors and month in recorded:
        errors["collected_on"] = [f"The check for treatment month {month} is already recorded."]
    if errors:
        raise ValidationFailed(errors=errors, code="tb_dot.invalid_sputum")
    check = SputumCheck(
        episode_id=episode.id,
        month=month,
        collected_on=day,
        smear=data.smear,
        culture=data.culture,
        recorded_by=actor.user_id,
    )
    session.add(check)
    regimen = rules.regimens.get(episode.regimen_code)
    ext = regimen.extension if regimen else None
    if (
        ext is not None
        and not episode.extended
        and (episode.cavitation or not ext.cavitation)
        and month == ext.positive_culture_month
        and check.culture == "positive"
    ):
        episode.extended = True
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "tb_sputum",
        check.id,
        site_id=episode.site_id,
        after={"month": month, "extended": episode.extended},
    )
    session.refresh(episode)
    return treatment_of(episode, catalogue)


def close_episode(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    catalogue: Catalogue,
    episode_id: uuid.UUID,
    data: CloseEpisode,
) -> tuple[Treatment, workflow.Workflow]:
    """Close the episode with its WHO outcome; the outcome goes to the workflow as the
    `tb_treatment_dot` result, which re-plans and re-classifies (e.g. Class A -> B0)."""
    actor.check("exams:sign")
    episode = load_episode(session, actor, episode_id)
    if data.version != episode.version:
        raise StaleVersion(extra={"current_version": episode.version})
    if episode.status != EpisodeStatus.ACTIVE:
        raise Conflict("The treatment episode is closed.", code="tb_dot.episode_closed")
    today = utcnow().date()
    found = treatment_of(episode, catalogue, today)
    progress = found.progress
    outcome: str = data.outcome
    errors: dict[str, list[str]] = {}
    if outcome in ("cured", "treatment_completed") and not progress.complete:
        errors["outcome"] = [f"{progress.outstanding} doses are still outstanding."]
    elif outcome == "cured" and not progress.cure_evidence:
        errors["outcome"] = ["Cure needs a negative sputum in the last month and one before it."]
    elif outcome == "lost_to_follow_up" and not progress.lost_to_follow_up:
        errors["outcome"] = ["Treatment was not interrupted long enough to be lost to follow-up."]
    elif outcome == "treatment_failed" and not progress.failure:
        errors["outcome"] = ["No positive sputum late enough in treatment to call it failed."]
    elif outcome in ("died", "not_evaluated") and not (data.note or "").strip():
        errors["note"] = ["Say what happened."]
    if errors:
        raise ValidationFailed(errors=errors, code="tb_dot.cannot_close")
    episode.status, episode.outcome = EpisodeStatus.CLOSED, outcome
    episode.outcome_date, episode.outcome_note = today, data.note or None
    episode.closed_by = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "close",
        "tb_episode",
        episode.id,
        site_id=episode.site_id,
        after={"outcome": outcome},
    )
    planned = workflow.current(session, actor, rules, episode.applicant_id)
    if any(s.code == "tb_treatment_dot" and s.state != StepState.NOT_APPLICABLE
           for s in planned.steps):  # fmt: skip
        planned = workflow.record_result(
            session,
            actor,
            rules,
            episode.applicant_id,
            NewResult(code="tb_treatment_dot", value=outcome, date=today),
            owner=True,
            source=("tb_episode", episode.id),
        )
    # Otherwise the destination's rules did not ask for this treatment: it is kept here only.
    return treatment_of(episode, catalogue, today), planned
