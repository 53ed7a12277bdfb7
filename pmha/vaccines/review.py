"""The vaccination review: the nurse completes it once every required vaccine is settled, and
that record (not a result typed on the workflow page) settles the vaccination_review step.

One record per fact (issue 14): the doses, papers, immunity and waivers are the vaccination
records; the review says that, on this day, they settled every requirement of the plan. A
requirement still to give, due later or waiting for a fact keeps the review open.

A refusal never settles a vaccine, but the review may be completed with one (issue 15): it then
records the destination's outcome (pmha.vaccines.outcome): `class_a` for the US [S13f], which the
rule file's `vaccination` outcome reads from the step's result and which holds clearance, or
`refused` where the policy only records it (Australia's voluntary DHC [S29f]). The panel
physician completing it confirms the refusal (`confirm_refusal`), and may record the individual
waiver the destination offers (USCIS's religious or moral waiver [S13d]) for refused vaccines:
with one, the outcome is `complete`. The completion is audited with the outcome."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.errors import Conflict
from pmha.rules import RuleBook
from pmha.vaccines import service
from pmha.vaccines.models import VaccinationReview
from pmha.vaccines.outcome import CLASS_A
from pmha.workflow import service as workflow
from pmha.workflow.commands import NewResult
from pmha.workflow.models import StepState

CODE = "vaccination_review"
PHYSICIAN = "exams:sign"  # what only a panel physician may do (pmha.core.auth)
_OPEN_WORDS = {
    "give_today": "to give",
    "due_now": "due, not yet given",
    "conditional": "waiting for a fact",
    "refused": "refused: confirm the refusal to complete the review",
}


class ReviewOpen(Conflict):
    code = "vaccines.review_open"
    title = "The vaccination review cannot be completed yet"


def complete_review(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    *,
    confirm_refusal: bool = False,
    individual_waivers: Collection[str] = (),
) -> VaccinationReview:
    """Complete the applicant's vaccination review (409 while any requirement is open, or a
    refusal not confirmed); the review settles the workflow's vaccination_review step, records
    the vaccination outcome, and is linked from the step."""
    actor.check("vaccines:write")
    view = service.overview(session, actor, rules, applicant_id)
    waived = sorted(set(individual_waivers))
    if waived or confirm_refusal:
        actor.check(PHYSICIAN)  # the panel physician confirms a refusal or records a waiver
    if waived:
        view = _with_individual_waivers(session, actor, rules, view, waived)
    applicant = view.applicant
    flow = workflow.current(session, actor, rules, applicant.id)
    step = next((s for s in flow.steps if s.code == CODE), None)
    if step is None or step.state == StepState.NOT_APPLICABLE:
        raise ReviewOpen("The applicant's plan has no vaccination review to complete.")
    if view.problems:
        raise ReviewOpen(
            "The vaccine requirements could not be worked out: " + "; ".join(view.problems)
        )
    outcome = view.outcome
    refused = set(outcome.refused) if outcome is not None and outcome.completable else set()
    still_open = [r for r in view.still_open() if r.vaccine not in refused]
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
    if refused and not confirm_refusal:
        raise ReviewOpen(
            f"Refused by the applicant: {', '.join(sorted(refused))}. A refusal is not a "
            f"waiver: {outcome.words if outcome else ''}. Confirm the refusal to complete the "
            "review; nothing was recorded.",
            extra={"refused": sorted(refused)},
        )
    value = outcome.value if outcome is not None else "complete"
    review = VaccinationReview(
        applicant_id=applicant.id,
        completed_by=actor.user_id,
        rules_version=view.rules_version,
        requirements=[
            {"vaccine": r.vaccine, "status": r.status, "waiver": r.waiver}
            for r in view.requirements
        ],
        outcome=value,
        individual_waivers=waived,
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
        after={
            "requirements": len(review.requirements),
            "outcome": value,
            "refused": sorted(refused),
            "individual_waivers": waived,
        },
    )
    workflow.record_result(
        session,
        actor,
        rules,
        applicant.id,
        NewResult(
            code=CODE,
            value="class_a" if value == CLASS_A else "completed",
            date=review.completed_at.date(),
        ),
        owner=True,
        source=(CODE, review.id),
    )
    return review


def _with_individual_waivers(
    session: Session, actor: Actor, rules: RuleBook, view: service.Overview, waived: list[str]
) -> service.Overview:
    """The overview with the individual waivers the reviewer records: only the route the
    destination offers, and only for a vaccine the applicant refused (a waiver is the
    authority's, granted for a refusal; nothing else is waived this way)."""
    route = view.policy.individual_waiver if view.policy is not None else None
    if route is None:
        raise ReviewOpen(
            f"{view.destination}'s rules name no individual waiver: nothing was recorded."
        )
    refused = set(view.outcome.refused) if view.outcome is not None else set()
    stray = [v for v in waived if v not in refused]
    if stray:
        raise ReviewOpen(
            f"An individual waiver is recorded only for a refused vaccine; not refused: "
            f"{', '.join(stray)}. Nothing was recorded."
        )
    return service.overview(session, actor, rules, view.applicant.id, waivers=waived)


def latest_review(session: Session, applicant_id: uuid.UUID) -> VaccinationReview | None:
    """The applicant's last completed review (the caller has checked the site and audits)."""
    return session.scalar(
        select(VaccinationReview)
        .where(VaccinationReview.applicant_id == applicant_id)
        .order_by(VaccinationReview.completed_at.desc())
        .limit(1)
    )
