"""What the worklists, the clearance board and the case page list, read from the kept plans
(one or two queries a list, no re-planning per row)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from pmha.cases.models import Applicant, FamilyCase
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.rules import RuleBook
from pmha.workflow import clearance as cl
from pmha.workflow.models import ClinicalFacts, PlanRecord, Step, StepResult, StepState
from pmha.workflow.roles import GROUPS
from pmha.workflow.service import Workflow, decision_of


def _latest(applicant_ids: Any) -> Select[PlanRecord]:
    """The latest plan of each applicant (a window over their plans, one query)."""
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
    return select(PlanRecord).join(ranked, ranked.c.id == PlanRecord.id).where(ranked.c.rank == 1)


def _latest_records(session: Session, applicant_ids: Any) -> dict[uuid.UUID, PlanRecord]:
    """The latest plan of each applicant, in one query (only the columns a list shows)."""
    rows = session.scalars(
        _latest(applicant_ids).options(
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


@dataclass(frozen=True)
class KeptPlan:
    """An applicant's latest kept plan as other domains read it: the clearance decision and the
    plan body (requirements, outcomes with the exam's validity)."""

    decision: cl.Decision
    plan: dict[str, Any] | None


def kept_plans(
    session: Session, applicant_ids: list[uuid.UUID], parts: tuple[str, ...] | None = None
) -> dict[uuid.UUID, KeptPlan]:
    """The latest kept plan of each applicant with its body, in one query (no re-planning);
    an applicant never planned is absent. `parts` reads only those keys of the body (a board of
    300 travellers decoded 2 MB of JSON it did not show)."""
    if not applicant_ids:
        return {}
    if parts is None:
        rows = session.scalars(_latest(applicant_ids))
        return {r.applicant_id: KeptPlan(decision_of(r), r.plan) for r in rows}
    query = _latest(applicant_ids).with_only_columns(
        PlanRecord.applicant_id,
        PlanRecord.clearance,
        PlanRecord.blockers,
        *(PlanRecord.plan[p] for p in parts),
    )
    return {
        i: KeptPlan(
            cl.Decision(clearance, tuple(cl.Blocker(**b) for b in blockers or [])),
            dict(zip(parts, body, strict=True)),
        )
        for i, clearance, blockers, *body in session.execute(query)
    }


# Days before the planned departure a step must be done by when the plan gives no due date:
# a sputum culture (and its susceptibility test) is final only after 8 weeks of incubation
# (CDC TI for panel physicians, 2024: cultures are held 8 weeks); a live vaccine is not given
# within 4 weeks of departure (BRIEF §1.6); any other result must be in before the traveller
# leaves. Steps without a departure keep no due date.
LEAD_DAYS = {"sputum_culture": 56, "dst": 56, "vaccination_review": 28}


def step_due(step: Step, departure: date | None) -> tuple[date | None, str]:
    """When a step is due: the plan's date, else worked out from the departure ("" if none)."""
    if step.due_by is not None:
        return step.due_by, "plan"
    if departure is not None:
        return departure - timedelta(days=LEAD_DAYS.get(step.code, 0)), "departure"
    return None, ""


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
    def due(self) -> tuple[date | None, str]:
        """The earliest due date of its steps, by the plan or worked out from the departure."""
        found = [d for d in (step_due(s, self.case.planned_departure) for s in self.steps) if d[0]]
        return min(found, key=lambda d: d[0] or date.max, default=(None, ""))

    @property
    def waiting_since(self) -> Any:
        return min(s.created_at for s in self.steps)


def _urgency(item: WorkItem) -> tuple[date, date, Any]:
    return (
        item.due[0] or date.max,
        item.case.planned_departure or date.max,
        item.waiting_since,
    )


def worklist(
    session: Session, actor: Actor, group: str, only: frozenset[str] | None = None
) -> list[WorkItem]:
    """Applicants at the actor's sites with required steps of this group (or only of the codes
    `only` names) to do or in progress, most urgent first (earliest due date, then earliest
    departure, then waiting longest)."""
    codes = GROUPS[group] if only is None else GROUPS[group] & only
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
                decision_of(record)
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
