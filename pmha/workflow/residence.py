"""Residence periods: the countries an applicant lived in, with dates (issue 15).

Presumptive treatment of US-bound refugees depends on where they lived, not only on the exam
country (BRIEF 1.6 [S16, S17, S18]): ivermectin never after a Loa loa-endemic country,
artemether-lumefantrine only for those living in sub-Saharan Africa. Adding or removing a period
re-plans the applicant, in the same transaction, and is audited.
"""

from __future__ import annotations

import uuid
from datetime import date

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, ValidationFailed
from pmha.rules import RuleBook
from pmha.rules.facts import Residence, residence_errors
from pmha.workflow import service
from pmha.workflow.commands import NewResidence
from pmha.workflow.models import ClinicalFacts, ResidencePeriod


def periods(session: Session, actor: Actor, applicant_id: uuid.UUID) -> list[ResidencePeriod]:
    """The applicant's residence periods, oldest first (a read of health data: audited)."""
    actor.check("exams:read")
    applicant = cases.load_applicant(session, actor, applicant_id)
    rows = list(
        session.scalars(
            select(ResidencePeriod)
            .where(ResidencePeriod.applicant_id == applicant.id)
            .order_by(ResidencePeriod.started_on, ResidencePeriod.recorded_at)
        )
    )
    audit.record(session, actor, "read", "residence", applicant.id, site_id=applicant.case.site_id)
    return rows


def _errors(data: NewResidence, dob: date, exam_date: date) -> dict[str, list[str]]:
    country = data.country
    period = Residence(country, data.started_on, data.ended_on)
    found = residence_errors(period, dob, exam_date)
    if "country" not in found and pycountry.countries.get(alpha_2=country) is None:
        found["country"] = "No country has this code (use an ISO 3166-1 alpha-2 code, e.g. CD)."
    return {name: [message] for name, message in found.items()}  # from, to, country


def add_period(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    data: NewResidence,
) -> ResidencePeriod:
    """Record a country the applicant lived in (country, started_on, ended_on or None: still
    there); the plan follows. Dates must be in order, not before birth nor after the exam."""
    actor.check("exams:write")
    applicant = cases.load_applicant(session, actor, applicant_id)
    clinical = session.get(ClinicalFacts, applicant.id)
    exam_date = clinical.exam_date if clinical and clinical.exam_date else utcnow().date()
    errors = _errors(data, applicant.dob, exam_date)
    if errors:
        raise ValidationFailed(
            "The residence period was not recorded.", errors=errors, code="workflow.residence"
        )
    row = ResidencePeriod(
        applicant_id=applicant.id,
        country=data.country,
        started_on=data.started_on,
        ended_on=data.ended_on,
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "residence",
        row.id,
        site_id=applicant.case.site_id,
        after={"country": row.country, "from": row.started_on, "to": row.ended_on},
    )
    service.replan(session, actor, rules, applicant, "facts")
    return row


def remove_period(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    period_id: uuid.UUID,
) -> None:
    """Remove a residence period recorded in error; the plan follows."""
    actor.check("exams:write")
    applicant = cases.load_applicant(session, actor, applicant_id)
    row = session.get(ResidencePeriod, period_id)
    if row is None or row.applicant_id != applicant.id:
        raise NotFound("No such residence period.", code="workflow.residence_not_found")
    before = {"country": row.country, "from": row.started_on, "to": row.ended_on}
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor,
        "delete",
        "residence",
        period_id,
        site_id=applicant.case.site_id,
        before=before,
    )
    service.replan(session, actor, rules, applicant, "facts")


def residence_facts(session: Session, applicant_id: uuid.UUID) -> tuple[Residence, ...]:
    """The applicant's residence as the engine's facts, oldest first: for other domains'
    decisions (presumptive treatment). The caller has checked the site and audits its read."""
    from pmha.workflow.facts import residence_of

    return residence_of(session, applicant_id)
