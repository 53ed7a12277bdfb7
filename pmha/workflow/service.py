"""Workflow verbs: plan an applicant, record facts and results, move steps, decide clearance.

Every verb takes the session, the actor and the rule book (from the app); plans are re-made
whenever something they depend on changes, and each is kept with its rule version.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from pmha.cases import service as cases
from pmha.cases.models import Applicant, FamilyCase
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, StaleVersion, ValidationFailed
from pmha.rules import FactsError, Plan, RuleBook, plan
from pmha.rules import vocabulary as vocab
from pmha.workflow import clearance as cl
from pmha.workflow.facts import FLAGS, build_facts
from pmha.workflow.models import ClinicalFacts, PlanChange, PlanRecord, Step, StepResult, StepState
from pmha.workflow.roles import GROUPS, permission_for
from pmha.workflow.steps import check_transition, sync


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
    states = {s.code: (s.state.value, s.planned_status) for s in steps}
    return cl.applicant_clearance(found, problems, states, policy)


def replan(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant: Applicant,
    trigger: str,
    as_of: date | None = None,
) -> Workflow:
    """Plan the applicant again and bring their steps in line; the plan is kept on record."""
    as_of = as_of or utcnow().date()
    steps = _steps(session, applicant.id)
    facts, problems = build_facts(session, applicant, steps, as_of)
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
    if found is not None:
        new, changes = sync(applicant.id, steps, found, hold_signed=trigger == "rules_update")
        session.add_all(new)
        session.add_all(changes)
        steps += new
    decision = _decide(rules, applicant, found, problems or None, steps)
    record = PlanRecord(
        applicant_id=applicant.id,
        as_of=as_of,
        trigger=trigger,
        rules_version=found.rules_version if found else None,
        rules_sha256=found.rules_sha256 if found else None,
        clearance=decision.status,
        blockers=[b.to_dict() for b in decision.blockers],
        plan=found.to_dict() if found else None,
        problems=problems or None,
    )
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
            "clearance": decision.status,
            "trigger": trigger,
        },
    )
    return Workflow(applicant, record, steps, decision)


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
    """The applicant's workflow, re-planned first if anything it depends on changed (audited)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    record = _latest(session, applicant.id)
    why = _stale(record, applicant, rules, utcnow().date())
    if why or record is None:
        return replan(session, actor, rules, applicant, why or "first_plan")
    steps = _steps(session, applicant.id)
    audit.record(session, actor, "read", "workflow", applicant.id, site_id=applicant.case.site_id)
    return Workflow(applicant, record, steps, _decision_of(record))


def _decision_of(record: PlanRecord) -> cl.Decision:
    blockers = tuple(cl.Blocker(**b) for b in record.blockers or [])
    return cl.Decision(record.clearance, blockers)


FACT_FIELDS = ("exam_date", "gestation_weeks", *FLAGS)


def set_facts(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    data: dict[str, Any],
) -> Workflow:
    """Record the clinical facts the rules ask about (send `version` once they exist)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    facts = session.get(ClinicalFacts, applicant.id)
    version = data.pop("version", None)
    if facts is not None and version != facts.version:
        raise StaleVersion(extra={"current_version": facts.version})
    if facts is None:
        facts = ClinicalFacts(applicant_id=applicant.id)
        session.add(facts)
    before = {f: getattr(facts, f) for f in FACT_FIELDS}
    for name, value in data.items():
        setattr(facts, name, value)
    if data.get("exam_date") and data["exam_date"] < applicant.dob:
        raise ValidationFailed(errors={"exam_date": ["The exam date is before the birth date."]})
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


def record_result(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    data: dict[str, Any],
) -> Workflow:
    """Record a result for a step of the applicant's plan; the plan follows."""
    code, value, day = data["code"], str(data["value"]), data["date"]
    actor.check(permission_for(code))
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
            treated=bool(data.get("treated")),
            recorded_by=actor.user_id,
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
        after={"code": code, "value": value},
    )
    return replan(session, actor, rules, applicant, "result")


def transition(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    step_id: uuid.UUID,
    data: dict[str, Any],
) -> Workflow:
    """Move a step (start, waive with a reason, block, reopen); illegal moves are a 409."""
    step = session.get(Step, step_id)
    if step is None:
        raise NotFound("No such step.", code="workflow.step_not_found")
    try:
        applicant = cases.load_applicant(session, actor, step.applicant_id)
    except NotFound:
        raise NotFound("No such step.", code="workflow.step_not_found") from None
    actor.check(permission_for(step.code))
    if data["version"] != step.version:
        raise StaleVersion(extra={"current_version": step.version})
    target = StepState(data["to"])
    check_transition(step, target)
    if target == StepState.WAIVED and not data.get("waiver_reason"):
        raise ValidationFailed(errors={"waiver_reason": ["Say why the step is waived."]})
    if target == StepState.BLOCKED and not data.get("note"):
        raise ValidationFailed(errors={"note": ["Say what blocks the step."]})
    before = {"state": step.state.value, "waiver_reason": step.waiver_reason}
    step.state, step.changed_by = target, actor.user_id
    step.waiver_reason = data.get("waiver_reason") if target == StepState.WAIVED else None
    step.note = data.get("note")
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "workflow_step",
        step.id,
        site_id=applicant.case.site_id,
        before=before,
        after={"state": target.value, "waiver_reason": step.waiver_reason},
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
    members = [current(session, actor, rules, a.id) for a in case.applicants]
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
    return list(
        session.scalars(
            select(PlanChange).where(
                PlanChange.applicant_id == applicant.id, PlanChange.reviewed_at.is_(None)
            )
        )
    )


# --- lists: worklists and the clearance board, read from the kept plans --------------------------


def _latest_records(session: Session, applicant_ids: Any) -> dict[uuid.UUID, PlanRecord]:
    """The latest plan of each applicant, in one query (only the columns a list shows)."""
    ranked = (
        select(
            PlanRecord.id,
            func.row_number()
            .over(
                partition_by=PlanRecord.applicant_id,
                order_by=(PlanRecord.planned_at.desc(), PlanRecord.id),
            )
            .label("rank"),
        )
        .where(PlanRecord.applicant_id.in_(applicant_ids))
        .subquery()
    )
    rows = session.scalars(
        select(PlanRecord)
        .join(ranked, ranked.c.id == PlanRecord.id)
        .where(ranked.c.rank == 1)
        .options(
            load_only(
                PlanRecord.applicant_id,
                PlanRecord.planned_at,
                PlanRecord.as_of,
                PlanRecord.clearance,
                PlanRecord.blockers,
            )
        )
    )
    return {r.applicant_id: r for r in rows}


def plan_unplanned(session: Session, actor: Actor, rules: RuleBook, limit: int = 200) -> int:
    """Plan the applicants at the actor's sites that were never planned (at most `limit`).

    Worklists read the kept steps; an applicant registered but never opened has none yet.
    """
    never = (
        select(Applicant)
        .join(FamilyCase)
        .where(
            FamilyCase.site_id.in_(actor.site_ids),
            ~select(PlanRecord.id).where(PlanRecord.applicant_id == Applicant.id).exists(),
        )
        .order_by(Applicant.created_at)
        .limit(limit)
    )
    found = list(session.scalars(never))
    for applicant in found:
        replan(session, actor, rules, applicant, "first_plan")
    return len(found)


@dataclass
class WorkItem:
    """One applicant on a worklist, with the steps of that list still to do."""

    applicant: Applicant
    case: FamilyCase
    steps: list[Step]

    @property
    def due_by(self) -> date | None:
        return min((s.due_by for s in self.steps if s.due_by), default=None)

    @property
    def waiting_since(self) -> Any:
        return min(s.created_at for s in self.steps)


def _urgency(item: WorkItem) -> tuple[date, date, Any]:
    return (
        item.due_by or date.max,
        item.case.planned_departure or date.max,
        item.waiting_since,
    )


def worklist(session: Session, actor: Actor, group: str) -> list[WorkItem]:
    """Applicants at the actor's sites with required steps of this group to do or in progress,
    most urgent first (earliest due date, then earliest departure, then waiting longest)."""
    codes = GROUPS[group]
    rows = session.execute(
        select(Step, Applicant, FamilyCase)
        .join(Applicant, Applicant.id == Step.applicant_id)
        .join(FamilyCase, FamilyCase.id == Applicant.case_id)
        .where(
            FamilyCase.site_id.in_(actor.site_ids),
            Step.code.in_(codes),
            # Conditional steps still waiting on another result are nobody's work yet.
            or_(
                and_(Step.state == StepState.PENDING, Step.planned_status == "required"),
                Step.state == StepState.IN_PROGRESS,
            ),
        )
        .order_by(Step.created_at, Step.code)
    )
    items: dict[uuid.UUID, WorkItem] = {}
    for step, applicant, case in rows:
        item = items.setdefault(applicant.id, WorkItem(applicant, case, []))
        item.steps.append(step)
    ordered = sorted(items.values(), key=_urgency)
    audit.record(
        session, actor, "read", "worklist", None, details={"group": group, "rows": len(ordered)}
    )
    return ordered


@dataclass
class BoardRow:
    """A family case on the clearance board."""

    case: FamilyCase
    members: list[tuple[Applicant, cl.Decision]]
    decision: cl.Decision
    planned_on: date | None  # the oldest of its members' kept plans


def clearance_board(
    session: Session, actor: Actor, rules: RuleBook | None = None, limit: int = 500
) -> list[BoardRow]:
    """Cases at the actor's sites with each member's kept clearance and the family's, by
    planned departure (none last). Two queries; nothing is re-planned here."""
    case_rows = session.scalars(
        select(FamilyCase)
        .where(FamilyCase.site_id.in_(actor.site_ids))
        .options(selectinload(FamilyCase.applicants))
        .order_by(FamilyCase.planned_departure.is_(None), FamilyCase.planned_departure)
        .limit(limit)
    ).all()
    ids = [a.id for c in case_rows for a in c.applicants]
    records = _latest_records(session, ids) if ids else {}
    board: list[BoardRow] = []
    for case in case_rows:
        members: list[tuple[Applicant, cl.Decision]] = []
        for a in case.applicants:
            record = records.get(a.id)
            decision = (
                _decision_of(record)
                if record is not None
                else cl.Decision(cl.PENDING, (cl.Blocker("plan", "plan", "not planned yet"),))
            )
            members.append((a, decision))
        family = "all_travellers"
        if rules is not None:
            with contextlib.suppress(KeyError):
                family = rules.for_destination(case.destination.value).clearance.family
        decision = cl.case_clearance(
            {f"{a.given_names} {a.family_name}": d for a, d in members}, family
        )
        dates = [records[a.id].as_of for a in case.applicants if a.id in records]
        board.append(BoardRow(case, members, decision, min(dates, default=None)))
    audit.record(session, actor, "read", "clearance_board", None, details={"rows": len(board)})
    return board


@dataclass
class MemberDetail:
    """What the case workflow page shows beside an applicant's workflow."""

    results: dict[str, StepResult]
    facts: ClinicalFacts | None


def member_details(session: Session, members: list[Workflow]) -> dict[uuid.UUID, MemberDetail]:
    """The latest result per code and the clinical facts of workflows already loaded (and so
    already checked against the actor's sites and audited by `current`)."""
    ids = [w.applicant.id for w in members]
    if not ids:
        return {}
    out = {i: MemberDetail({}, None) for i in ids}
    for row in session.scalars(
        select(StepResult).where(StepResult.applicant_id.in_(ids)).order_by(StepResult.recorded_at)
    ):
        out[row.applicant_id].results[row.code] = row
    for facts in session.scalars(select(ClinicalFacts).where(ClinicalFacts.applicant_id.in_(ids))):
        out[facts.applicant_id].facts = facts
    return out
