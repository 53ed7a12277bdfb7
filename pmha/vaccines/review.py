"""The vaccination review: the nurse completes it once every required vaccine is settled, and
that record (not a result typed on the workflow page) settles the vaccination_review step.

One record per fact (issue 14): the doses, papers, immunity and waivers are the vaccination
records; the review says that, on this day, they settled every requirement of the plan. A
requirement still to give, due later, waiting for a fact or refused keeps the review open
(a refusal never settles it: the physician decides [S13f])."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.errors import Conflict
from pmha.rules import RuleBook
from pmha.vaccines import service
from pmha.vaccines.models import VaccinationReview
from pmha.workflow import service as workflow
from pmha.workflow.models import StepState

CODE = "vaccination_review"
_OPEN_WORDS = {
    "give_today": "to give",
    "due_now": "due, not yet given",
    "conditional": "waiting for a fact",
    "refused": "refused: the physician decides",
}


class ReviewOpen(Conflict):
    code = "vaccines.review_open"
    title = "The vaccination review cannot be completed yet"


def complete_review(
    session: Session, actor: Actor, rules: RuleBook, applicant_id: uuid.UUID
) -> VaccinationReview:
    """Complete the applicant's vaccination review (409 while any requirement is open); the
    review settles the workflow's vaccination_review step and is linked from it."""
    actor.check("vaccines:write")
    view = service.overview(session, actor, rules, applicant_id)
    applicant = view.applicant
    flow = workflow.current(session, actor, rules, applicant.id)
    step = next((s for s in flow.steps if s.code == CODE), None)
    if step is None or step.state == StepState.NOT_APPLICABLE:
        raise ReviewOpen("The applicant's plan has no vaccination review to complete.")
    if view.problems:
        raise ReviewOpen(
            "The vaccine requirements could not be worked out: " + "; ".join(view.problems)
        )
    still_open = view.still_open()
    if still_open:
        listed = ", ".join(
            f"{r.vaccine} ({_OPEN_WORDS.get(r.status, r.status.replace('_', ' '))})"
            for r in still_open
        )
        raise ReviewOpen(
            f"These vaccines are not settled yet: {listed}. Give, document or waive each "
            "first; nothing was recorded.",
            extra={"open": [r.vaccine for r in still_open]},
        )
    review = VaccinationReview(
        applicant_id=applicant.id,
        completed_by=actor.user_id,
        rules_version=view.rules_version,
        requirements=[
            {"vaccine": r.vaccine, "status": r.status, "waiver": r.waiver}
            for r in view.requirements
        ],
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "vaccination_review",
        review.id,
        site_id=applicant.case.site_id,
        after={"requirements": len(review.requirements)},
    )
    workflow.record_result(
        session,
        actor,
        rules,
        applicant.id,
        {"code": CODE, "value": "completed", "date": review.completed_at.date()},
        owner=True,
        source=(CODE, review.id),
    )
    return review


def latest_review(session: Session, applicant_id: uuid.UUID) -> VaccinationReview | None:
    """The applicant's last completed review (the caller has checked the site and audits)."""
    return session.scalar(
        select(VaccinationReview)
        .where(VaccinationReview.applicant_id == applicant_id)
        .order_by(VaccinationReview.completed_at.desc())
        .limit(1)
    )
