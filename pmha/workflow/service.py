"""Workflow verbs: plan an applicant, record facts and results, move steps, decide clearance.

Every verb takes the session, the actor and the rule book (from the app); plans are re-made
whenever something they depend on changes, and each is kept with its rule version.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.models import Applicant, FamilyCase
from pmha.core import audit, changes
from pmha.core.auth import Actor
from pmha.core.commands import given
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, StaleVersion, ValidationFailed
from pmha.rules import FactsError, Plan, RuleBook, plan
from pmha.rules import vocabulary as vocab
from pmha.rules.model import RuleSet
from pmha.workflow import clearance as cl
from pmha.workflow import owners
from pmha.workflow.commands import FactsUpdate, Move, NewResult
from pmha.workflow.facts import FLAGS, build_facts
from pmha.workflow.labels import label
from pmha.workflow.models import ClinicalFacts, PlanChange, PlanRecord, Step, StepResult, StepState
from pmha.workflow.roles import permission_for
from pmha.workflow.steps import (
    SETTLED,
    NotDoneReasonMissing,
    allowed_waivers,
    check_transition,
    check_waiver,
    settle_hint,
    sync,
)


@dataclass
class Workflow:
    """An applicant's current plan, steps and clearance, as the pages and the API show them."""

    applicant: Applicant
    record: PlanRecord
    steps: list[Step]
    decision: cl.Decision


def _steps(session: Session, applicant_id: uuid.UUID) -> list[Step]:
    return list(session.scalars(select(Step).where(Step.applicant_id == applicant_id)))


def _latest(session: Session, applicant_id: uuid.UUID) -> PlanRecord | None:
    return session.scalar(
        select(PlanRecord)
        .where(PlanRecord.applicant_id == applicant_id)
        .order_by(PlanRecord.planned_at.desc(), PlanRecord.id)
        .limit(1)
    )


def _decide(
    rules: RuleBook,
    applicant: Applicant,
    found: Plan | None,
    problems: dict[str, list[str]] | None,
    steps: list[Step],
) -> cl.Decision:
    try:
        policy = rules.for_destination(applicant.case.destination.value).clearance
    except KeyError:
        policy = None
    # What the plan says NOW, not what the step kept: a rule update holds a signed step for
    # review with its old planned status, but a result the new rules no longer count (e.g.
    # expired under a shorter validity) must not clear while the review waits.
    now = {item.code: item.status for item in found.requirements} if found else {}
    states = {s.code: (s.state.value, now.get(s.code, s.planned_status)) for s in steps}
    return cl.applicant_clearance(found, problems, states, policy)


@dataclass
class _Evaluation:
    found: Plan | None
    new: list[Step]
    held: list[PlanChange]  # a rule update's changes to signed steps, for review
    steps: list[Step]
    decision: cl.Decision
    record: PlanRecord


def _evaluate(
    session: Session,
    rules: RuleBook,
    applicant: Applicant,
    steps: list[Step],
    trigger: str,
    as_of: date,
) -> _Evaluation:
    """The plan as it is today, with the steps brought in line (`steps` are changed in place)
    and its record: nothing is added to the session here."""
    facts, problems = build_facts(session, applicant, steps, as_of, _ruleset(rules, applicant))
    found: Plan | None = None
    if not problems:
        try:
            found = plan(facts, rules, as_of, check=False)
        except (FactsError, KeyError) as exc:
            problems = (
                exc.errors
                if isinstance(exc, FactsError)
                else {"destination": [f"No rule file for {applicant.case.destination.value}."]}
            )
    new: list[Step] = []
    held: list[PlanChange] = []
    if found is not None:
        new, held = sync(applicant.id, steps, found, hold_signed=trigger == "rules_update")
    steps = steps + new
    decision = _decide(rules, applicant, found, problems or None, steps)
    record = PlanRecord(
        id=uuid.uuid4(),
        applicant_id=applicant.id,
        planned_at=utcnow(),
        as_of=as_of,
        trigger=trigger,
        rules_version=found.rules_version if found else None,
        rules_sha256=found.rules_sha256 if found else None,
        clearance=decision.status,
        blockers=[b.to_dict() for b in decision.blockers],
        plan=found.to_dict() if found else None,
        problems=problems or None,
    )
    return _Evaluation(found, new, held, steps, decision, record)


def replan(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant: Applicant,
    trigger: str,
    as_of: date | None = None,
) -> Workflow:
    """Plan the applicant again and bring their steps in line; the plan is kept on record."""
    done = _evaluate(
        session, rules, applicant, _steps(session, applicant.id), trigger, as_of or utcnow().date()
    )
    session.add_all(done.new)
    session.add_all(done.held)
    record = done.record
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor,
        "plan",
        "applicant",
        applicant.id,
        site_id=applicant.case.site_id,
        details={
            "rules_version": record.rules_version,
            "clearance": done.decision.status,
            "trigger": trigger,
        },
    )
    return Workflow(applicant, record, done.steps, done.decision)


def _detached(step: Step) -> Step:
    """A copy of a kept step that the session does not track: a projection may change it."""
    return Step(**{c.key: getattr(step, c.key) for c in Step.__mapper__.column_attrs})


def _stale(record: PlanRecord | None, applicant: Applicant, rules: RuleBook, today: date) -> str:
    """Why the kept plan no longer holds ('' when it does)."""
    if record is None:
        return "first_plan"
    if record.as_of < today:
        return "new_day"
    latest_change = max(applicant.updated_at, applicant.case.updated_at)
    if latest_change > record.planned_at:
        return "registry_change"
    try:
        sha = rules.for_destination(applicant.case.destination.value).sha256
    except KeyError:
        return ""
    return "rules_update" if record.rules_sha256 not in (None, sha) else ""


def current(session: Session, actor: Actor, rules: RuleBook, applicant_id: uuid.UUID) -> Workflow:
    """The applicant's workflow for a change about to be made: re-planned and kept first if
    anything it depends on changed (audited). A read uses `view`, which writes nothing."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    record = _latest(session, applicant.id)
    why = _stale(record, applicant, rules, utcnow().date())
    if why or record is None:
        return replan(session, actor, rules, applicant, why or "first_plan")
    steps = _steps(session, applicant.id)
    audit.record(session, actor, "read", "workflow", applicant.id, site_id=applicant.case.site_id)
    return Workflow(applicant, record, steps, decision_of(record))


def view(session: Session, actor: Actor, rules: RuleBook, applicant_id: uuid.UUID) -> Workflow:
    """The applicant's workflow as it stands now, for a page or an API read: when the kept plan
    is out of date (a new day, a registry change, a rule update) it is worked out again in
    memory and shown, and nothing but the read's audit event is written. The next change to the
    applicant, or the nightly re-plan, keeps it."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    record = _latest(session, applicant.id)
    why = _stale(record, applicant, rules, utcnow().date())
    audit.record(session, actor, "read", "workflow", applicant.id, site_id=applicant.case.site_id)
    if record is not None and not why:
        return Workflow(applicant, record, _steps(session, applicant.id), decision_of(record))
    steps = [_detached(s) for s in _steps(session, applicant.id)]
    done = _evaluate(session, rules, applicant, steps, why or "first_plan", utcnow().date())
    return Workflow(applicant, done.record, done.steps, done.decision)


def keep_case_current(session: Session, actor: Actor, rules: RuleBook, case_id: uuid.UUID) -> None:
    """Keep every member's plan as it is today (re-planned where out of date), before a change
    to one of the steps a page showed: a step new today then exists under the id it was shown
    with (pmha.workflow.steps.step_id)."""
    case = cases.load_case(session, actor, case_id)
    for member in case.applicants:
        current(session, actor, rules, member.id)


def replan_out_of_date(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    today: date,
    *,
    after: uuid.UUID | None = None,
    limit: int = 200,
) -> tuple[int, int, uuid.UUID | None]:
    """Re-plan and keep the plans out of date today (a new day, a registry change, a rule
    update, or never planned), for up to `limit` applicants in id order from `after`: the
    nightly job's verb. Returns (looked at, re-planned, the last id looked at or None at the
    end)."""
    query = select(Applicant).order_by(Applicant.id).limit(limit)
    if after is not None:
        query = query.where(Applicant.id > after)
    batch = list(session.scalars(query))
    replanned = 0
    for applicant in batch:
        why = _stale(_latest(session, applicant.id), applicant, rules, today)
        if why:
            replan(session, actor, rules, applicant, why, today)
            replanned += 1
    return len(batch), replanned, batch[-1].id if len(batch) == limit else None


def replan_changed(rules: Callable[[], RuleBook]) -> changes.Handler:
    """The handler pmha.core.changes runs before a commit that changed applicants: each is
    re-planned once (`rules` gives the app's rule book at that moment)."""

    def handle(session: Session, changed: dict[uuid.UUID, Actor]) -> None:
        book = rules()
        for applicant_id, actor in changed.items():
            applicant = session.get(Applicant, applicant_id)
            if applicant is None:
                continue  # removed in the same transaction
            record = _latest(session, applicant.id)
            why = _stale(record, applicant, book, utcnow().date())
            replan(session, actor, book, applicant, why or "registry_change")

    return handle


def decision_of(record: PlanRecord) -> cl.Decision:
    """The clearance decision kept with a plan record."""
    blockers = tuple(cl.Blocker(**b) for b in record.blockers or [])
    return cl.Decision(record.clearance, blockers)


FACT_FIELDS = ("exam_date", "gestation_weeks", *FLAGS)
# The facts a signed medical history sets (pmha.exams): after it, only an amendment changes them.
HISTORY_FACTS = (
    "tb_history", "tb_contact", "tb_symptoms", "known_hiv", "extrapulmonary_tb", "pregnant",
    "gestation_weeks",
)  # fmt: skip


def set_facts(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    update: FactsUpdate,
    *,
    history: uuid.UUID | None = None,
) -> Workflow:
    """Record the clinical facts the rules ask about (send `version` once they exist). The
    exam record passes the signed medical history they come from (`history`); after that, the
    facts it sets change only by amending the history, never on the workflow page."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    facts = session.get(ClinicalFacts, applicant.id)
    data, version = given(update, leave_out=("version",)), update.version
    if facts is not None and version != facts.version:
        raise StaleVersion(extra={"current_version": facts.version})
    if history is None and facts is not None and facts.history_section_id is not None:
        changed = [f for f in HISTORY_FACTS if f in data and data[f] != getattr(facts, f)]
        if changed:
            words = "From the signed medical history: amend the history to change it."
            raise ValidationFailed(
                "These facts come from the signed medical history; amend the history on the "
                "exam record to change them. Nothing was changed.",
                errors={f: [words] for f in changed},
                code="workflow.fact_from_history",
            )
    if facts is None:
        facts = ClinicalFacts(applicant_id=applicant.id)
        session.add(facts)
    before = {f: getattr(facts, f) for f in FACT_FIELDS}
    for name, value in data.items():
        setattr(facts, name, value)
    if data.get("exam_date") and data["exam_date"] < applicant.dob:
        raise ValidationFailed(errors={"exam_date": ["The exam date is before the birth date."]})
    if history is not None:
        facts.history_section_id = history
    facts.updated_by = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "clinical_facts",
        applicant.id,
        site_id=applicant.case.site_id,
        before=before,
        after={f: getattr(facts, f) for f in FACT_FIELDS},
    )
    found = replan(session, actor, rules, applicant, "facts")
    if found.record.problems:
        raise ValidationFailed(errors=found.record.problems)
    return found


# Steps whose result has its own record (pmha.workflow.owners): code -> why a free result is
# refused, naming where to record it. Kept under this name for the callers that read it.
RECORDED_ELSEWHERE = {code: owners.refusal(code, label(code)) for code in owners.OWNERS}


def record_result(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    result: NewResult,
    *,
    owner: bool = False,
    source: tuple[str, uuid.UUID] | None = None,
) -> Workflow:
    """Record a result for a step of the applicant's plan; the plan follows. A step with a
    record of its own (owners.OWNERS) takes its result only from that record's service
    (`owner=True`, naming the record as `source`: kind and id)."""
    code, value, day = result.code, result.value, result.date
    actor.check(permission_for(code))
    if code in RECORDED_ELSEWHERE and not owner:
        cases.load_applicant(session, actor, applicant_id)  # another site's: 404, not a refusal
        raise ValidationFailed(
            RECORDED_ELSEWHERE[code],
            errors={"code": [RECORDED_ELSEWHERE[code]]},
            code="workflow.result_recorded_elsewhere",
        )
    if source is not None and source[0] not in owners.SOURCE_KINDS:
        raise ValueError(f"unknown source kind {source[0]!r}")
    found = current(session, actor, rules, applicant_id)  # the plan the result answers
    applicant = found.applicant
    step = next((s for s in found.steps if s.code == code), None)
    if step is None or step.state == StepState.NOT_APPLICABLE:
        raise ValidationFailed(errors={"code": ["This test is not in the applicant's plan."]})
    allowed = vocab.RESULT_VALUES[code]
    errors: dict[str, list[str]] = {}
    if allowed is None:
        try:
            if not 0 <= float(value) <= 100:
                raise ValueError
        except ValueError:
            errors["value"] = ["Give a number from 0 to 100 (e.g. induration in mm)."]
    elif value not in allowed:
        errors["value"] = [f"Use one of {', '.join(allowed)}."]
    if day < applicant.dob:
        errors["date"] = ["The result is dated before the date of birth."]
    if day > utcnow().date():
        errors["date"] = ["The result is dated in the future."]
    if errors:
        raise ValidationFailed(errors=errors)
    session.add(
        StepResult(
            applicant_id=applicant.id,
            code=code,
            value=value,
            result_date=day,
            treated=result.treated,
            recorded_by=actor.user_id,
            source_kind=source[0] if source else None,
            source_id=source[1] if source else None,
        )
    )
    step.state, step.changed_by = StepState.DONE, actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "result",
        "workflow_step",
        step.id,
        site_id=applicant.case.site_id,
        after={"code": code, "value": value, "source": source[0] if source else None},
    )
    return replan(session, actor, rules, applicant, "result")


def _ruleset(rules: RuleBook, applicant: Applicant) -> RuleSet | None:
    try:
        return rules.for_destination(applicant.case.destination.value)
    except KeyError:
        return None


def _exam_date(session: Session, step: Step) -> date:
    """The exam date that chooses the rules in force (today until one is recorded)."""
    clinical = session.get(ClinicalFacts, step.applicant_id)
    return clinical.exam_date if clinical and clinical.exam_date else utcnow().date()


def allowed_moves(session: Session, rules: RuleBook, applicant: Applicant, step: Step) -> list[str]:
    """The waiver reasons the applicant's rules allow for this step (for the move form)."""
    return sorted(allowed_waivers(_ruleset(rules, applicant), step.code, _exam_date(session, step)))


def _plan_day(found: Workflow) -> date:
    """The exam date the kept plan was made for (today before there is one)."""
    exam_date = found.record.plan.get("exam_date") if found.record.plan else None
    return date.fromisoformat(exam_date) if exam_date else utcnow().date()


def settling(rules: RuleBook, found: Workflow) -> dict[str, dict[str, Any]]:
    """For each step: the waivers its rules allow and, in words, what would settle it."""
    day, ruleset = _plan_day(found), _ruleset(rules, found.applicant)
    return {
        s.code: {
            "waivers_allowed": sorted(allowed_waivers(ruleset, s.code, day)),
            "settled_by": settle_hint(s.code, ruleset, day, s.reason_rule),
        }
        for s in found.steps
    }


def settle_hints(rules: RuleBook, found: Workflow) -> dict[str, str]:
    """For each open step the plan still wants, what would settle it, in words."""
    day, ruleset = _plan_day(found), _ruleset(rules, found.applicant)
    return {
        s.code: settle_hint(s.code, ruleset, day, s.reason_rule)
        for s in found.steps
        if s.planned_status not in SETTLED
        and (
            s.state in (StepState.NOT_DONE, StepState.BLOCKED)
            or (s.state == StepState.PENDING and s.waiver_reason)
        )
    }


def not_done_offers(rules: RuleBook, found: Workflow) -> dict[str, dict[str, Any]]:
    """For each step: the destination's words for each not-done reason and the alternative
    routes its rules declare (e.g. the UK X-ray: "Child (under 11 years)", sputum) [S25]."""
    from pmha.rules import not_done

    day, ruleset = _plan_day(found), _ruleset(rules, found.applicant)
    codes = [s.code for s in found.steps]
    planned_by = {s.code: s.reason_rule for s in found.steps}
    words = not_done.step_words(ruleset, codes, day)
    routes = not_done.routes(ruleset, codes, day, planned_by)
    return {
        code: {"words": words.get(code, {}), "routes": routes.get(code, [])}
        for code in codes
        if code in words or code in routes
    }


def transition(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    step_id: uuid.UUID,
    move: Move,
) -> Workflow:
    """Move a step (start, waive with a reason its rules allow, mark not done with a coded
    reason, block, reopen); illegal moves are a 409, a waiver the rules do not allow a 422."""
    step = session.get(Step, step_id)
    if step is None:
        raise NotFound("No such step.", code="workflow.step_not_found")
    try:
        applicant = cases.load_applicant(session, actor, step.applicant_id)
    except NotFound:
        raise NotFound("No such step.", code="workflow.step_not_found") from None
    actor.check(permission_for(step.code))
    if move.version != step.version:
        raise StaleVersion(extra={"current_version": step.version})
    target = StepState(move.to)
    check_transition(step, target)
    if target == StepState.WAIVED:
        if not move.waiver_reason:
            raise ValidationFailed(errors={"waiver_reason": ["Say why the step is waived."]})
        allowed = allowed_waivers(_ruleset(rules, applicant), step.code, _exam_date(session, step))
        check_waiver(step.code, move.waiver_reason, allowed)
    if target == StepState.NOT_DONE and move.not_done_reason not in vocab.NOT_DONE_REASONS:
        words = "Say why it was not done: " + "; ".join(
            w.lower() for w in vocab.NOT_DONE_REASONS.values()
        )
        raise NotDoneReasonMissing(words, errors={"not_done_reason": [words + "."]})
    if target == StepState.BLOCKED and not move.note:
        raise ValidationFailed(errors={"note": ["Say what blocks the step."]})
    before = {
        "state": step.state.value,
        "waiver_reason": step.waiver_reason,
        "not_done_reason": step.not_done_reason,
    }
    step.state, step.changed_by = target, actor.user_id
    step.waiver_reason = move.waiver_reason if target == StepState.WAIVED else None
    step.not_done_reason = move.not_done_reason if target == StepState.NOT_DONE else None
    step.note = move.note
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "workflow_step",
        step.id,
        site_id=applicant.case.site_id,
        before=before,
        after={
            "state": target.value,
            "waiver_reason": step.waiver_reason,
            "not_done_reason": step.not_done_reason,
        },
    )
    return replan(session, actor, rules, applicant, "step")


@dataclass
class CaseClearance:
    case: FamilyCase
    members: list[Workflow]
    decision: cl.Decision


def case_clearance(
    session: Session, actor: Actor, rules: RuleBook, case_id: uuid.UUID
) -> CaseClearance:
    """Every traveller's clearance and the family's, by the destination's family rule."""
    case = cases.load_case(session, actor, case_id)
    members = [view(session, actor, rules, a.id) for a in case.applicants]
    try:
        family = rules.for_destination(case.destination.value).clearance.family
    except KeyError:
        family = "all_travellers"
    decision = cl.case_clearance(
        {f"{w.applicant.given_names} {w.applicant.family_name}": w.decision for w in members},
        family,
    )
    return CaseClearance(case, members, decision)


def pending_changes(session: Session, actor: Actor, applicant_id: uuid.UUID) -> list[PlanChange]:
    """Changes a rule update would make to signed steps, awaiting a physician's review."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    changes = list(
        session.scalars(
            select(PlanChange).where(
                PlanChange.applicant_id == applicant.id, PlanChange.reviewed_at.is_(None)
            )
        )
    )
    audit.record(
        session,
        actor,
        "read",
        "plan_changes",
        applicant.id,
        site_id=applicant.case.site_id,
        details={"count": len(changes)},
    )
    return changes


def review_change(
    session: Session, actor: Actor, rules: RuleBook, change_id: uuid.UUID, decision: str
) -> Workflow:
    """A physician's review of a rule update's change: `accept` reopens a signed step the new
    rules still want (it must be done again under them); `keep` leaves the record as it is."""
    actor.check("exams:sign")
    change = session.get(PlanChange, change_id)
    if change is None or change.reviewed_at is not None:
        raise NotFound("No such change to review.", code="workflow.change_not_found")
    try:
        applicant = cases.load_applicant(session, actor, change.applicant_id)
    except NotFound:
        raise NotFound("No such change to review.", code="workflow.change_not_found") from None
    if decision not in {"accept", "keep"}:
        raise ValidationFailed(errors={"decision": ["Use accept or keep."]})
    step = session.scalar(
        select(Step).where(Step.applicant_id == applicant.id, Step.code == change.code)
    )
    if (
        decision == "accept"
        and step is not None
        and step.state in (StepState.DONE, StepState.WAIVED)
        and change.planned_after in ("required", "conditional")
    ):
        step.state, step.changed_by = StepState.PENDING, actor.user_id
    change.decision, change.reviewed_by, change.reviewed_at = decision, actor.user_id, utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "review",
        "plan_change",
        change.id,
        site_id=applicant.case.site_id,
        after={"decision": decision},
    )
    return replan(session, actor, rules, applicant, "review")


def clinical_facts(session: Session, applicant_id: uuid.UUID) -> ClinicalFacts | None:
    """The clinical facts recorded for the applicant (None before any): for other domains'
    checks, e.g. a live vaccine for a pregnant applicant. The caller has checked the site."""
    return session.get(ClinicalFacts, applicant_id)
