"""JSON API for an applicant's residence periods (the countries lived in, with dates) under
/api/v1/, and the presumptive treatment plan that follows them (BRIEF 1.6 [S16, S17, S18])."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.core.context import rulebook
from pmha.core.endpoint import Api
from pmha.core.schemas import CommandSchema, StrictSchema, date_in_range
from pmha.workflow import residence
from pmha.workflow.commands import NewResidence

bp = Blueprint("residence_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="workflow")
on_applicant = api.under("/applicants/<uuid:applicant_id>")


class ResidenceIn(CommandSchema):
    command = NewResidence
    country = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code (e.g. CD)."),
        metadata={"description": "ISO 3166-1 alpha-2 code of the country lived in"},
    )
    started_on = fields.Date(required=True, data_key="from", validate=date_in_range)
    ended_on = fields.Date(
        load_default=None,
        allow_none=True,
        data_key="to",
        validate=date_in_range,
        metadata={"description": "leave out (or null) while still living there"},
    )


class ResidenceOut(StrictSchema):
    id = fields.UUID()
    country = fields.String()
    started_on = fields.Date(data_key="from")
    ended_on = fields.Date(data_key="to", allow_none=True)
    recorded_at = fields.DateTime()


class ResidenceListOut(StrictSchema):
    residence = fields.List(fields.Nested(ResidenceOut))


class DrugOut(StrictSchema):
    drug = fields.String()
    dose = fields.String()


class LeftOutOut(StrictSchema):
    drug = fields.String()
    reason = fields.String()


class GivenOut(StrictSchema):
    drug = fields.String()
    dose = fields.String()
    given_on = fields.Date()


class PresumptivePlanOut(StrictSchema):
    rule_id = fields.String(
        allow_none=True, metadata={"description": "the rule file's entry; null: none applies"}
    )
    drugs = fields.List(fields.Nested(DrugOut), metadata={"description": "to give"})
    omitted = fields.List(fields.Nested(LeftOutOut), metadata={"description": "not given, why"})
    held = fields.List(
        fields.Nested(LeftOutOut), metadata={"description": "held for the physician, why"}
    )
    cautions = fields.List(fields.String())
    given = fields.List(fields.Nested(GivenOut))


@on_applicant.get("/residence", "exams:read", response=ResidenceListOut)
def list_residence(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The countries an applicant lived in, with dates, oldest first"""
    rows = residence.periods(db, me, applicant_id)
    return ResidenceListOut().dump({"residence": rows})


@on_applicant.create("/residence", "exams:write", body=ResidenceIn, response=ResidenceOut)
def add_residence(db: Session, me: Actor, body: NewResidence, applicant_id: uuid.UUID) -> Any:
    """Record a country the applicant lived in (from, to: leave out while still there); the plan
    follows (presumptive treatment by residence)"""
    row = residence.add_period(db, me, rulebook(), applicant_id, body)
    return ResidenceOut().dump(row)


@on_applicant.delete("/residence/<uuid:period_id>", "exams:write", status=204)
def remove_residence(db: Session, me: Actor, applicant_id: uuid.UUID, period_id: uuid.UUID) -> Any:
    """Remove a residence period recorded in error; the plan follows"""
    residence.remove_period(db, me, rulebook(), applicant_id, period_id)
    return ""


@on_applicant.get("/presumptive-treatment", "exams:read", response=PresumptivePlanOut)
def presumptive_plan(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The presumptive treatment the rules give this applicant (exam country, countries lived in,
    age, pregnancy): drugs to give, each drug left out or held with its reason, and those given"""
    from pmha.travel import handover

    plan, given = handover.suggested_treatment(db, me, applicant_id)
    return PresumptivePlanOut().dump(
        {
            "rule_id": plan.id if plan else None,
            "drugs": list(plan.drugs) if plan else [],
            "omitted": [{"drug": d.drug, "reason": why} for d, why in plan.omitted] if plan else [],
            "held": [{"drug": d.drug, "reason": why} for d, why in plan.held] if plan else [],
            "cautions": list(plan.cautions) if plan else [],
            "given": given,
        }
    )
