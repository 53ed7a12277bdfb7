"""Fitness-to-travel checks (PDMS, PEC, DHC) and medical escorts.

A check is dated; it counts only inside its window before the departure (the rule file's
`[[travel.check]]`) and never after the flight. The carrier's rules suggest an outcome that the
physician confirms or overrides with a reason. An outcome that does not travel revokes the
traveller's certificate: a new finding at the check outranks the paper.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, StaleVersion, ValidationFailed
from pmha.travel import context
from pmha.travel.commands import NewCheck, SetEscort
from pmha.travel.departures import booking_of
from pmha.travel.models import (
    Certificate,
    CheckKind,
    Escort,
    EscortType,
    Fitness,
    FitnessCheck,
    MedifStatus,
    Mobility,
)
from pmha.travel.policy import TRAVELS, Findings, suggest
from pmha.travel.status import in_window
from pmha.workflow import service as workflow
from pmha.workflow.commands import NewResult
from pmha.workflow.models import StepState

REVOKED_AT_CHECK = "new finding at a fitness-to-travel check"


def _findings(data: NewCheck, dob: date, day: date) -> Findings:
    return Findings(
        temperature_c=data.temperature_c,
        spo2=data.spo2,
        symptoms=tuple(data.symptoms or ()),
        pregnancy_weeks=data.pregnancy_weeks,
        pregnancy_multiple=bool(data.pregnancy_multiple),
        mobility=str(data.mobility or "none"),
        oxygen=bool(data.oxygen),
        mental_state=str(data.mental_state or "stable"),
        age_days=(day - dob).days,
    )


def revoke_certificates(
    session: Session, actor: Actor, applicant_id: uuid.UUID, site_id: uuid.UUID, reason: str
) -> int:
    """Revoke the traveller's standing certificates (the verification page then says so)."""
    count = 0
    for cert in session.scalars(
        select(Certificate).where(
            Certificate.applicant_id == applicant_id, Certificate.revoked_at.is_(None)
        )
    ):
        cert.revoked_at, cert.revoked_reason = utcnow(), reason
        audit.record(
            session,
            actor,
            "revoke",
            "certificate",
            cert.id,
            site_id=site_id,
            details={"reason": reason},
        )
        count += 1
    return count


def record_check(
    session: Session, actor: Actor, applicant_id: uuid.UUID, data: NewCheck
) -> FitnessCheck:
    """Record a PDMS, PEC or DHC for the departure the traveller is booked on, with the
    suggested outcome and the physician's (an override needs a reason)."""
    actor.check("exams:sign")
    applicant = cases.load_applicant(session, actor, applicant_id)
    departure = booking_of(session, applicant.case_id)
    if departure is None:
        raise Conflict("The traveller is not booked on a departure.", code="travel.not_booked")
    checked_at = data.checked_at
    errors: dict[str, list[str]] = {}
    if checked_at > departure.departs_at:
        errors["checked_at"] = ["The check is dated after the flight."]
    elif checked_at > utcnow():
        errors["checked_at"] = ["The check is dated in the future."]
    weeks = data.pregnancy_weeks
    if weeks is not None and applicant.sex.value == "male":
        errors["pregnancy_weeks"] = ["The traveller is recorded as male."]
    carrier = context.policy(departure.destination).carrier(departure.carrier)
    if carrier is None:
        errors["carrier"] = [f"No carrier rule for {departure.carrier} any more."]
    if errors:
        raise ValidationFailed(errors=errors)
    assert carrier is not None
    suggestion = suggest(_findings(data, applicant.dob, departure.departs_at.date()), carrier)
    outcome = data.outcome or suggestion.outcome
    override = (data.override_reason or "").strip() or None
    if outcome != suggestion.outcome and not override:
        raise ValidationFailed(
            errors={"override_reason": ["Say why the outcome differs from the suggestion."]}
        )
    kind = CheckKind(data.kind)
    hours = context.policy(departure.destination).windows.get(kind.value)
    check = FitnessCheck(
        applicant_id=applicant.id,
        departure_id=departure.id,
        kind=kind,
        checked_at=checked_at,
        temperature_c=data.temperature_c,
        pulse=data.pulse,
        systolic=data.systolic,
        diastolic=data.diastolic,
        spo2=data.spo2,
        symptoms=list(data.symptoms or []),
        pregnancy_weeks=weeks,
        pregnancy_multiple=bool(data.pregnancy_multiple),
        mobility=Mobility(data.mobility or "none"),
        oxygen=bool(data.oxygen),
        mental_state=data.mental_state or "stable",
        journey_medications=data.journey_medications,
        suggested=Fitness(suggestion.outcome),
        reasons=list(suggestion.reasons),
        outcome=Fitness(outcome),
        override_reason=override if outcome != suggestion.outcome else None,
        in_window=in_window(checked_at, departure.departs_at, hours),
        carrier_rule=carrier.rule_id,
        recorded_by=actor.user_id,
    )
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "fitness_check",
        check.id,
        site_id=departure.site_id,
        after={"kind": kind.value, "outcome": outcome, "suggested": suggestion.outcome},
    )
    if check.in_window and outcome not in TRAVELS:
        revoke_certificates(session, actor, applicant.id, departure.site_id, REVOKED_AT_CHECK)
    if check.in_window:
        _tell_the_plan(session, actor, applicant.id, check)
    return check


def _tell_the_plan(
    session: Session, actor: Actor, applicant_id: uuid.UUID, check: FitnessCheck
) -> None:
    """The check settles its workflow step (one record per fact): the PEC gives its outcome,
    a PDMS or DHC that it was done. A check outside its window does not count, and a check the
    destination's plan does not ask for is kept here only."""
    rules = context.rulebook()
    found = workflow.current(session, actor, rules, applicant_id)
    code = check.kind.value
    if not any(s.code == code and s.state != StepState.NOT_APPLICABLE for s in found.steps):
        return
    workflow.record_result(
        session,
        actor,
        rules,
        applicant_id,
        NewResult(
            code=code,
            value=check.outcome.value if check.kind == CheckKind.PEC else "completed",
            date=check.checked_at.date(),
        ),
        owner=True,
        source=("fitness_check", check.id),
    )


def checks_of(session: Session, actor: Actor, applicant_id: uuid.UUID) -> list[FitnessCheck]:
    """The traveller's checks, newest first (audited read)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    audit.record(
        session, actor, "read", "fitness_checks", applicant.id, site_id=applicant.case.site_id
    )
    return list(
        session.scalars(
            select(FitnessCheck)
            .where(FitnessCheck.applicant_id == applicant.id)
            .order_by(FitnessCheck.checked_at.desc(), FitnessCheck.recorded_at.desc())
        )
    )


ESCORT_FIELDS = ("escort_type", "medif_status", "plan", "equipment", "handover_note")


def set_escort(session: Session, actor: Actor, applicant_id: uuid.UUID, data: SetEscort) -> Escort:
    """Arrange (or change) the traveller's escort on their departure: type, MEDIF, plan, kit."""
    actor.check("travel:write")
    applicant = cases.load_applicant(session, actor, applicant_id)
    departure = booking_of(session, applicant.case_id)
    if departure is None:
        raise Conflict("The traveller is not booked on a departure.", code="travel.not_booked")
    escort = session.scalar(
        select(Escort).where(
            Escort.applicant_id == applicant.id, Escort.departure_id == departure.id
        )
    )
    if data.escort_type != EscortType.NON_MEDICAL.value and not data.plan:
        raise ValidationFailed(errors={"plan": ["A medical escort needs an escort plan."]})
    version = data.version
    if escort is not None and version != escort.version:
        raise StaleVersion(extra={"current_version": escort.version})
    if escort is None:
        escort = Escort(applicant_id=applicant.id, departure_id=departure.id)
        session.add(escort)
    before = {f: getattr(escort, f) for f in ESCORT_FIELDS}
    escort.escort_type = EscortType(data.escort_type)
    escort.medif_status = MedifStatus(data.medif_status or "not_needed")
    escort.plan = data.plan
    escort.equipment = list(data.equipment or [])
    escort.handover_note = data.handover_note
    escort.changed_by = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "escort",
        escort.id,
        site_id=departure.site_id,
        before=before,
        after={f: getattr(escort, f) for f in ESCORT_FIELDS},
    )
    return escort


def escort_version(
    session: Session, departure_id: uuid.UUID, applicant_id: uuid.UUID
) -> int | None:
    """The escort's version for the next edit (the caller has checked the site)."""
    found = session.scalar(
        select(Escort.version).where(
            Escort.applicant_id == applicant_id, Escort.departure_id == departure_id
        )
    )
    return found
