"""The applicant's conditions that change the vaccine schedule: CDSi observations with the dates
they hold (issue 16), recorded by a nurse or physician and read by the forecast.

The codes are the observations of CDC's ScheduleSupportingData.xml, offered by their titles.
Pregnancy is not one of them: it is a clinical fact (the workflow's), dated from its gestation
(`service._pregnancy`); nor is evidence of immunity, which is a vaccination record. One fact,
one record. A condition is removed with a reason and stays on file.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, ValidationFailed
from pmha.vaccines.cdsi.data import supporting_data
from pmha.vaccines.cdsi.model import Observation
from pmha.vaccines.commands import NewObservation
from pmha.vaccines.models import VaccineObservation
from pmha.vaccines.records import mark_deleted

# Kept elsewhere (one fact, one record): 007 "Pregnant" and 170 "Onset of pregnancy" come from
# the clinical facts; 018-024 (laboratory or verified evidence of immunity) are vaccination
# records of the kind "evidence of immunity".
ELSEWHERE = frozenset({"007", "170", "018", "019", "020", "021", "022", "023", "024"})
# The conditions a panel physician meets most among refugees and immigrants, offered first.
COMMON = (
    "186",  # HIV Infection
    "160",  # Anatomical or functional asplenia
    "004",  # Recipient of a hematopoietic stem cell transplant
    "003",  # Immunocompromised
    "158",  # Immunosuppressive therapy
    "157",  # Solid organ transplantation
    "161",  # Chronic kidney disease
    "032",  # Dialysis patient
    "015",  # Chronic liver disease
    "005",  # Hepatitis C virus infection
    "014",  # Diabetes
    "016",  # Chronic heart disease
    "017",  # Chronic lung disease
    "120",  # Begin Date of antiviral therapy [ART]
    "055",  # Health care personnel
)
NOT_FOUND = "No such condition on file for this applicant."


@cache
def titles() -> Mapping[str, str]:
    """Every code that may be recorded here -> its title in words."""
    return {
        code: obs.title
        for code, obs in sorted(supporting_data().observations.items())
        if code not in ELSEWHERE
    }


def choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(the common conditions, the rest by title), each as (code, title)."""
    known = titles()
    common = [(code, known[code]) for code in COMMON if code in known]
    rest = sorted(
        ((code, title) for code, title in known.items() if code not in COMMON),
        key=lambda pair: pair[1].lower(),
    )
    return common, rest


def title(code: str) -> str:
    """The condition's title; a code the supporting data no longer has keeps a name."""
    known = supporting_data().observations.get(code)
    return known.title if known is not None else f"Condition no longer in CDC's list ({code})"


def period(obs: VaccineObservation) -> str:
    """When it holds, in words: 'since 10 March 2025', 'from ... until ...', 'dates not known'."""

    def day(d: date) -> str:
        return f"{d.day} {d:%B %Y}"

    if obs.begin and obs.end:
        return f"from {day(obs.begin)} until {day(obs.end)}"
    if obs.begin:
        return f"since {day(obs.begin)}"
    if obs.end:
        return f"until {day(obs.end)}"
    return "dates not known"


def _active(session: Session, applicant_id: uuid.UUID) -> list[VaccineObservation]:
    return list(
        session.scalars(
            select(VaccineObservation)
            .where(
                VaccineObservation.applicant_id == applicant_id,
                VaccineObservation.deleted_at.is_(None),
            )
            .order_by(VaccineObservation.begin, VaccineObservation.recorded_at)
        )
    )


def observations(
    session: Session, actor: Actor, applicant_id: uuid.UUID, *, removed: bool = False
) -> list[VaccineObservation]:
    """The applicant's recorded conditions, the removed ones too when asked (audited read)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    query = select(VaccineObservation).where(VaccineObservation.applicant_id == applicant.id)
    if not removed:
        query = query.where(VaccineObservation.deleted_at.is_(None))
    found = list(
        session.scalars(query.order_by(VaccineObservation.begin, VaccineObservation.recorded_at))
    )
    audit.record(
        session,
        actor,
        "read",
        "vaccine_observations",
        applicant.id,
        site_id=applicant.case.site_id,
    )
    return found


def for_forecast(found: list[VaccineObservation]) -> list[Observation]:
    """The CDSi engine's input for the conditions still on file."""
    return [Observation(o.code, o.begin, o.end) for o in found if o.deleted_at is None]


def add(
    session: Session, actor: Actor, applicant_id: uuid.UUID, data: NewObservation
) -> VaccineObservation:
    """Record a condition with its dates; a wrong one names the field and nothing is written."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    errors: dict[str, list[str]] = {}
    code, begin, end = data.code, data.begin, data.end
    today = utcnow().date()
    if code in ELSEWHERE:
        errors["code"] = [
            "Pregnancy is recorded in the clinical facts and evidence of immunity as a "
            "vaccination record, not here."
        ]
    elif code not in titles():
        errors["code"] = ["Choose a condition from the list."]
    if begin is not None and begin < applicant.dob:
        errors["begin"] = ["The date it began is before the applicant's birth."]
    elif begin is not None and begin > today:
        errors["begin"] = ["The date it began cannot be in the future."]
    if end is not None and begin is not None and end < begin:
        errors["end"] = ["The date it ended is before the date it began."]
    elif end is not None and end < applicant.dob:
        errors["end"] = ["The date it ended is before the applicant's birth."]
    if errors:
        raise ValidationFailed(errors=errors, code="vaccines.observation")
    if any(o.code == code and o.begin == begin for o in _active(session, applicant.id)):
        raise ValidationFailed(
            errors={"code": ["This condition is already on file from the same date."]},
            code="vaccines.observation_duplicate",
        )
    made = VaccineObservation(
        applicant_id=applicant.id, code=code, begin=begin, end=end, recorded_by=actor.user_id
    )
    session.add(made)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "vaccine_observation",
        made.id,
        site_id=applicant.case.site_id,
        after={"code": code, "begin": begin, "end": end},
    )
    return made


def remove(
    session: Session, actor: Actor, observation_id: uuid.UUID, reason: str
) -> VaccineObservation:
    """Mark a condition removed, with the reason; it stays on file (never erased)."""
    found = session.get(VaccineObservation, observation_id)
    if found is None:
        raise NotFound(NOT_FOUND, code="vaccines.observation_not_found")
    try:
        applicant = cases.load_applicant(session, actor, found.applicant_id)
    except NotFound:
        raise NotFound(NOT_FOUND, code="vaccines.observation_not_found") from None
    mark_deleted(
        session,
        actor,
        found,
        reason,
        record_type="vaccine_observation",
        site_id=applicant.case.site_id,
        already=("This condition is already removed.", "vaccines.observation_removed"),
    )
    return found
