"""The clinical desk's lists: chest X-rays waiting for a reading, today's DOT doses on the
nurse's list, and how many wait on each list (the Today page's counts).

Each list is one query; counts are one COUNT query per list, at the caller's sites. Lists that
show people are audited reads; counts show no one and are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant, FamilyCase
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.exams.labs import LabOrder, OrderStatus
from pmha.exams.radiology import XrayReading, XrayStudy
from pmha.tb_dot.models import DotObservation, EpisodeStatus, TbEpisode
from pmha.workflow.lists import step_due
from pmha.workflow.models import Step, StepState
from pmha.workflow.roles import GROUPS

READING_CODES = ("chest_xray", "chest_xray_lateral")


@dataclass(frozen=True)
class ToRead:
    study: XrayStudy
    applicant: Applicant
    case: FamilyCase
    due: date | None
    due_from: str  # "plan", "departure" or ""


def _unread() -> Any:
    return ~select(XrayReading.id).where(XrayReading.study_id == XrayStudy.id).exists()


def xrays_to_read(session: Session, who: Actor) -> list[ToRead]:
    """Studies at the actor's sites with no reading yet, most urgent first (the chest X-ray
    step's due date, else worked out from the departure; then the oldest upload). Held studies
    are listed too: their identity must be confirmed before they can be read. Audited."""
    rows = session.execute(
        select(XrayStudy, Applicant, FamilyCase, Step)
        .join(Applicant, Applicant.id == XrayStudy.applicant_id)
        .join(FamilyCase, FamilyCase.id == Applicant.case_id)
        .outerjoin(Step, and_(Step.applicant_id == Applicant.id, Step.code == "chest_xray"))
        .where(FamilyCase.site_id.in_(who.site_ids), _unread())
        .order_by(XrayStudy.uploaded_at)
    )
    found = []
    for study, applicant, case, step in rows:
        due, source = (
            step_due(step, case.planned_departure)
            if step is not None
            else (case.planned_departure, "departure" if case.planned_departure else "")
        )
        found.append(ToRead(study, applicant, case, due, source))
    found.sort(key=lambda r: (r.due or date.max, r.study.uploaded_at))
    audit.record(session, who, "read", "xray_worklist", None, details={"rows": len(found)})
    return found


def _open_steps(codes: frozenset[str] | tuple[str, ...]) -> Any:
    return and_(
        Step.code.in_(codes),
        or_(
            and_(Step.state == StepState.PENDING, Step.planned_status == "required"),
            Step.state == StepState.IN_PROGRESS,
        ),
    )


def _people_with_steps(session: Session, who: Actor, codes: frozenset[str]) -> int:
    return int(
        session.scalar(
            select(func.count(distinct(Step.applicant_id)))
            .join(Applicant, Applicant.id == Step.applicant_id)
            .join(FamilyCase, FamilyCase.id == Applicant.case_id)
            .where(FamilyCase.site_id.in_(who.site_ids), _open_steps(codes))
        )
        or 0
    )


def dot_doses_left(session: Session, who: Actor, day: date) -> int:
    """Treatments observed at the centre with no dose recorded for `day` yet."""
    return int(
        session.scalar(
            select(func.count(TbEpisode.id)).where(
                TbEpisode.site_id.in_(who.site_ids),
                TbEpisode.status == EpisodeStatus.ACTIVE,
                TbEpisode.dot_site == "centre",
                ~select(DotObservation.id)
                .where(DotObservation.episode_id == TbEpisode.id, DotObservation.dose_date == day)
                .exists(),
            )
        )
        or 0
    )


def count(session: Session, who: Actor, endpoint: str, day: date) -> int | None:
    """How many wait on the list an endpoint shows (None: a page that is not a list of work)."""
    if endpoint == "exams.lab_worklist":
        return int(
            session.scalar(
                select(func.count(LabOrder.id))
                .join(Applicant, Applicant.id == LabOrder.applicant_id)
                .join(FamilyCase, FamilyCase.id == Applicant.case_id)
                .where(
                    FamilyCase.site_id.in_(who.site_ids),
                    LabOrder.status.in_([OrderStatus.ORDERED, OrderStatus.COLLECTED]),
                )
            )
            or 0
        )
    if endpoint == "exams.xray_worklist":
        return int(
            session.scalar(
                select(func.count(XrayStudy.id))
                .join(Applicant, Applicant.id == XrayStudy.applicant_id)
                .join(FamilyCase, FamilyCase.id == Applicant.case_id)
                .where(FamilyCase.site_id.in_(who.site_ids), _unread())
            )
            or 0
        )
    if endpoint == "tb_dot.dot_list":
        return dot_doses_left(session, who, day)
    if endpoint == "vaccines.queue":
        return _people_with_steps(session, who, frozenset({"vaccination_review"}))
    if endpoint == "workflow.worklist_nurse":
        return _people_with_steps(session, who, GROUPS["nurse"]) + dot_doses_left(session, who, day)
    if endpoint.startswith("workflow.worklist_"):
        group = endpoint.removeprefix("workflow.worklist_")
        return _people_with_steps(session, who, GROUPS[group]) if group in GROUPS else None
    return None
