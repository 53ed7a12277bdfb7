"""Post-arrival handover and pre-departure treatment.

What the destination asks after arrival follows from the traveller's outcomes and the rule
file's `[[travel.follow_up]]` (US B1 TB evaluation, Canadian medical surveillance within 30 days,
the Australian health undertaking within 28 days), with the medications for the journey and the
escort's handover note. The records are kept for the receiving side to complete. Presumptive
treatment follows `[[travel.presumptive]]` (by exam country, origin, age and pregnancy).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, ValidationFailed
from pmha.rules.dates import Age
from pmha.travel import context
from pmha.travel.commands import FollowUpDone, NewTreatment
from pmha.travel.models import ArrivalFollowUp, Escort, FitnessCheck, Treatment
from pmha.travel.policy import Exposure, FollowUpRule, TreatmentPlan
from pmha.workflow import service as workflow


def _due(
    rule: FollowUpRule, outcome: dict[str, Any], arrival: date | None
) -> tuple[int | None, date | None]:
    days = rule.within_days or outcome.get("report_within_days")
    return days, (arrival + timedelta(days=days) if days and arrival else None)


def required_follow_ups(
    session: Session, actor: Actor, applicant: Applicant, arrival: date | None
) -> list[dict[str, Any]]:
    """The follow-ups the destination's rules ask for, from the traveller's current outcomes."""
    rules = context.rulebook()
    found = workflow.view(session, actor, rules, applicant.id)
    plan = found.record.plan or {}
    policy = context.policy(applicant.case.destination.value)
    out: list[dict[str, Any]] = []
    for rule in policy.follow_ups:
        for outcome in plan.get("outcomes", []):
            tags = {f"{outcome['kind']}:{v}" for v in outcome.get("values", [])}
            if outcome.get("status") == "final" and tags & rule.outcomes:
                days, due = _due(rule, outcome, arrival)
                out.append({"rule": rule.id, "what": rule.what, "within_days": days, "due_by": due})
                break
    return out


def open_follow_ups(
    session: Session, actor: Actor, applicant_id: uuid.UUID, arrival: date
) -> list[ArrivalFollowUp]:
    """Keep a record of each required follow-up for the receiving side (idempotent)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    kept = {
        f.rule_id: f
        for f in session.scalars(
            select(ArrivalFollowUp).where(ArrivalFollowUp.applicant_id == applicant.id)
        )
    }
    for item in required_follow_ups(session, actor, applicant, arrival):
        row = kept.get(item["rule"])
        if row is None:
            row = ArrivalFollowUp(applicant_id=applicant.id, rule_id=item["rule"])
            session.add(row)
            kept[item["rule"]] = row
        if row.completed_on is None:
            row.what, row.within_days, row.due_by = (
                item["what"],
                item["within_days"],
                item["due_by"],
            )
    session.flush()
    return list(kept.values())


def follow_up(session: Session, actor: Actor, applicant_id: uuid.UUID) -> list[dict[str, Any]]:
    """The post-arrival handover of one traveller, as plain dicts (for the export bundle):
    required follow-ups (with their records), medications in progress, escort handover notes."""
    actor.check("clearance:read")
    applicant = cases.load_applicant(session, actor, applicant_id)
    from pmha.travel.departures import booking_of

    departure = booking_of(session, applicant.case_id)
    arrival = departure.departs_at.date() if departure else None
    kept = {
        f.rule_id: f
        for f in session.scalars(
            select(ArrivalFollowUp).where(ArrivalFollowUp.applicant_id == applicant.id)
        )
    }
    out: list[dict[str, Any]] = []
    for item in required_follow_ups(session, actor, applicant, arrival):
        row = kept.get(item["rule"])
        out.append(
            {
                "kind": "follow_up",
                **item,
                "due_by": item["due_by"].isoformat() if item["due_by"] else None,
                "id": str(row.id) if row else None,
                "completed_on": row.completed_on.isoformat() if row and row.completed_on else None,
            }
        )
    check = session.scalar(
        select(FitnessCheck)
        .where(
            FitnessCheck.applicant_id == applicant.id, FitnessCheck.journey_medications.is_not(None)
        )
        .order_by(FitnessCheck.checked_at.desc())
        .limit(1)
    )
    if check is not None and check.journey_medications:
        out.append({"kind": "medications", "what": check.journey_medications})
    for escort in session.scalars(select(Escort).where(Escort.applicant_id == applicant.id)):
        if escort.handover_note:
            out.append(
                {
                    "kind": "escort_handover",
                    "what": escort.handover_note,
                    "escort_type": escort.escort_type.value,
                }
            )
    audit.record(session, actor, "read", "follow_up", applicant.id, site_id=applicant.case.site_id)
    return out


def complete_follow_up(
    session: Session, actor: Actor, follow_up_id: uuid.UUID, data: FollowUpDone
) -> ArrivalFollowUp:
    """The receiving side records that a follow-up was done (its own destination's only)."""
    actor.check("exports:import")
    row = session.get(ArrivalFollowUp, follow_up_id)
    applicant = session.get(Applicant, row.applicant_id) if row else None
    if row is None or applicant is None or applicant.case.destination.value != actor.destination:
        raise NotFound("No such follow-up.", code="travel.follow_up_not_found")
    if data.completed_on > utcnow().date():
        raise ValidationFailed(errors={"completed_on": ["The date is in the future."]})
    row.completed_on, row.completed_by = data.completed_on, actor.user_id
    row.outcome_note = data.note
    session.flush()
    audit.record(
        session, actor, "complete", "follow_up", row.id, after={"completed_on": row.completed_on}
    )
    return row


# --- presumptive treatment and pre-departure procedures ------------------------------------------


def suggested_treatment(
    session: Session, actor: Actor, applicant_id: uuid.UUID
) -> tuple[TreatmentPlan | None, list[Treatment]]:
    """What the rule file says for this traveller (None: no rule applies), from the exam
    country, the countries lived in, age and pregnancy, each drug left out with its reason
    (BRIEF 1.6 [S16, S17, S18]); and what was given."""
    from pmha.workflow import residence

    actor.check("exams:read")
    applicant = cases.load_applicant(session, actor, applicant_id)
    facts = workflow.clinical_facts(session, applicant.id)
    policy = context.policy(applicant.case.destination.value)
    today = utcnow().date()
    male = applicant.sex.value == "male"
    rule = policy.plan_for(
        exposure=Exposure(
            applicant.case.site.country,
            facts.exam_date if facts and facts.exam_date else today,
            residence.residence_facts(session, applicant.id),
        ),
        origin=applicant.nationality,
        age=Age.between(applicant.dob, today),
        pregnant=False if male else (facts.pregnant if facts else None),
        gestation_weeks=facts.gestation_weeks if facts else None,
    )
    given = list(
        session.scalars(
            select(Treatment)
            .where(Treatment.applicant_id == applicant.id)
            .order_by(Treatment.given_on)
        )
    )
    audit.record(session, actor, "read", "treatments", applicant.id, site_id=applicant.case.site_id)
    return rule, given


def record_treatment(
    session: Session, actor: Actor, applicant_id: uuid.UUID, data: NewTreatment
) -> Treatment:
    """Record a drug of the rule's regimen given to the traveller, with its dose and date."""
    actor.check("exams:write")
    rule, _ = suggested_treatment(session, actor, applicant_id)
    applicant = cases.load_applicant(session, actor, applicant_id)
    errors: dict[str, list[str]] = {}
    drugs = {d.drug for d in rule.drugs} if rule else set()
    if rule is not None and actor.can("exams:sign"):  # a drug held for the physician's decision
        drugs |= {d.drug for d, _why in rule.held}
    omitted = {d.drug: why for d, why in rule.omitted} if rule else {}
    if data.drug in omitted:
        errors["drug"] = [f"{omitted[data.drug][:1].upper()}{omitted[data.drug][1:]}."]
    elif rule is None or not drugs:
        errors["drug"] = ["No presumptive treatment applies to this traveller under the rules."]
    elif data.drug not in drugs:
        errors["drug"] = [f"Use one of {', '.join(sorted(drugs))}."]
    if data.given_on > utcnow().date():
        errors["given_on"] = ["The date is in the future."]
    elif data.given_on < applicant.dob:
        errors["given_on"] = ["The date is before the date of birth."]
    if errors:
        raise ValidationFailed(errors=errors)
    assert rule is not None
    row = Treatment(
        applicant_id=applicant.id,
        rule_id=rule.id,
        drug=data.drug,
        dose=data.dose,
        given_on=data.given_on,
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "treatment",
        row.id,
        site_id=applicant.case.site_id,
        after={"drug": row.drug, "dose": row.dose},
    )
    return row
