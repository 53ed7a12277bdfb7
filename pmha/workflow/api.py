"""JSON API for plans, steps, results and clearance under /api/v1/."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from sqlalchemy.orm import Session

from pmha.core.auth import Actor, actor, require
from pmha.core.context import rulebook
from pmha.core.db import get_session
from pmha.core.endpoint import Api
from pmha.core.http import load_command
from pmha.core.openapi import doc
from pmha.workflow import lists, schemas, service
from pmha.workflow.commands import FactsUpdate, Move, NewResult
from pmha.workflow.roles import WORKLIST_PERMISSION

bp = Blueprint("workflow_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="workflow")
on_applicant = api.under("/applicants/<uuid:applicant_id>")


def dump_workflow(found: service.Workflow) -> dict[str, Any]:
    return schemas.WorkflowOut().dump(  # type: ignore[no-any-return]
        {
            "applicant_id": found.applicant.id,
            "rules_version": found.record.rules_version,
            "planned_at": found.record.planned_at,
            "clearance": found.decision.to_dict(),
            "steps": sorted(found.steps, key=lambda s: s.code),
            "plan": found.record.plan,
            "problems": found.record.problems,
            "settling": service.settling(rulebook(), found),
        }
    )


@on_applicant.get("/workflow", "exams:read", response=schemas.WorkflowOut)
def read_workflow(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """An applicant's plan, steps and clearance as they stand today: when something the plan
    depends on changed since it was kept (a new day, a rule update), it is worked out again for
    this answer; a read writes nothing but its audit event"""
    return dump_workflow(service.view(db, me, rulebook(), applicant_id))


@on_applicant.put("/facts", "exams:write", body=schemas.FactsIn, response=schemas.WorkflowOut)
def put_facts(db: Session, me: Actor, body: FactsUpdate, applicant_id: uuid.UUID) -> Any:
    """Record the clinical facts the rules ask about (TB history, contact, symptoms, HIV,
    pregnancy, exam date); send the version you read once they exist"""
    return dump_workflow(service.set_facts(db, me, rulebook(), applicant_id, body))


@on_applicant.create("/results", "cases:read", body=schemas.ResultIn, response=schemas.WorkflowOut)
def post_result(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Record a result for a step of the plan (the role needed depends on the test)"""
    result = load_command(schemas.ResultIn(), NewResult)
    found = service.record_result(db, me, rulebook(), applicant_id, result)
    return dump_workflow(found)


@api.post(
    "/steps/<uuid:step_id>/transition",
    "cases:read",
    body=schemas.TransitionIn,
    response=schemas.WorkflowOut,
)
def transition(db: Session, me: Actor, step_id: uuid.UUID) -> Any:
    """Move a step: start it, mark it not done (with a coded reason; it never clears), waive it
    (only with a reason the destination's rules allow for that step: a 422
    workflow.waiver_not_allowed names them), block it (with a note) or reopen it; an illegal
    move is a 409 naming the allowed ones"""
    move = load_command(schemas.TransitionIn(), Move)
    return dump_workflow(service.transition(db, me, rulebook(), step_id, move))


@api.get("/cases/<uuid:case_id>/clearance", "clearance:read", response=schemas.CaseClearanceOut)
def case_clearance(db: Session, me: Actor, case_id: uuid.UUID) -> Any:
    """Each traveller's clearance and the family's, with what still blocks it"""
    found = service.case_clearance(db, me, rulebook(), case_id)
    return schemas.CaseClearanceOut().dump(
        {
            "case_id": found.case.id,
            "case_number": found.case.case_number,
            "clearance": found.decision.to_dict(),
            "members": [
                {
                    "applicant_id": w.applicant.id,
                    "name": f"{w.applicant.given_names} {w.applicant.family_name}",
                    "clearance": w.decision.to_dict(),
                }
                for w in found.members
            ],
        }
    )


@on_applicant.get("/plan-changes", "exams:sign", response=schemas.PlanChangesOut)
def plan_changes(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Changes a rule update would make to signed steps, and new requirements, awaiting review"""
    changes = service.pending_changes(db, me, applicant_id)
    return schemas.PlanChangesOut().dump({"changes": changes})


@api.post(
    "/plan-changes/<uuid:change_id>/review",
    "exams:sign",
    body=schemas.ReviewIn,
    response=schemas.WorkflowOut,
)
def review_change(db: Session, me: Actor, body: dict[str, Any], change_id: uuid.UUID) -> Any:
    """Review a change: accept (reopen the step under the new rules) or keep"""
    return dump_workflow(service.review_change(db, me, rulebook(), change_id, body["decision"]))


def _name(applicant: Any) -> str:
    return f"{applicant.given_names} {applicant.family_name}"


def _worklist_api(group: str, permission: str) -> Any:
    @require(permission)
    @doc(
        f"The {group} worklist: applicants at your sites with its steps to do, most urgent first",
        response=schemas.WorklistOut,
        tag="workflow",
    )
    def view() -> Any:
        session, me = get_session(), actor()
        items = lists.worklist(session, me, group)
        return schemas.WorklistOut().dump(
            {
                "items": [
                    {
                        "applicant_id": i.applicant.id,
                        "case_id": i.case.id,
                        "case_number": i.case.case_number,
                        "name": _name(i.applicant),
                        "planned_departure": i.case.planned_departure,
                        "due_by": i.due_by,
                        "steps": i.steps,
                    }
                    for i in items
                ]
            }
        )

    view.__name__ = f"worklist_{group}"
    return view


for _group, _permission in WORKLIST_PERMISSION.items():
    bp.add_url_rule(
        f"/worklists/{_group}",
        endpoint=f"worklist_{_group}",
        view_func=_worklist_api(_group, _permission),
    )


@api.get("/clearance-board", "clearance:read", response=schemas.BoardOut)
def clearance_board(db: Session, me: Actor) -> Any:
    """Families at your sites with each traveller's clearance and the family's"""
    session, me = db, me
    rows = lists.clearance_board(session, me, rulebook())
    return schemas.BoardOut().dump(
        {
            "cases": [
                {
                    "case_id": r.case.id,
                    "case_number": r.case.case_number,
                    "destination": r.case.destination.value,
                    "planned_departure": r.case.planned_departure,
                    "clearance": r.decision.to_dict(),
                    "members": [
                        {"applicant_id": a.id, "name": _name(a), "clearance": d.to_dict()}
                        for a, d in r.members
                    ],
                }
                for r in rows
            ]
        }
    )
