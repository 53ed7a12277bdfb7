"""What the workflow API takes and gives."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from pmha.core.schemas import CommandSchema, StrictSchema, date_in_range, strict_integer
from pmha.rules import vocabulary as vocab
from pmha.workflow import owners
from pmha.workflow.commands import FactsUpdate, Move, NewResult
from pmha.workflow.models import StepState


class FactsIn(CommandSchema):
    command = FactsUpdate
    exam_date = fields.Date(allow_none=True, validate=date_in_range)
    pregnant = fields.Boolean(allow_none=True)
    gestation_weeks = strict_integer(allow_none=True, validate=validate.Range(min=0, max=45))
    tb_history = fields.Boolean(allow_none=True)
    tb_contact = fields.Boolean(
        allow_none=True, metadata={"description": "close contact in the past year"}
    )
    tb_symptoms = fields.Boolean(allow_none=True)
    known_hiv = fields.Boolean(allow_none=True)
    extrapulmonary_tb = fields.Boolean(allow_none=True)
    complex_condition = fields.Boolean(
        allow_none=True,
        metadata={"description": "a significant complex medical condition (US: PDMS)"},
    )
    urgent_surveillance = fields.Boolean(
        allow_none=True,
        metadata={"description": "urgent or complex non-infectious TB (Canada: report in 7 days)"},
    )
    version = strict_integer(
        load_default=None, metadata={"description": "The version you read, once facts exist."}
    )


class ResultIn(StrictSchema):
    code = fields.String(required=True, validate=validate.OneOf(sorted(vocab.RESULT_VALUES)))
    value = fields.Raw(
        required=True,
        metadata={"description": "A value of the code's vocabulary, or a number (TST mm)."},
    )
    date = fields.Date(required=True, validate=date_in_range)
    treated = fields.Boolean(load_default=False)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> NewResult:
        return NewResult(
            code=data["code"], value=str(data["value"]), date=data["date"], treated=data["treated"]
        )


class TransitionIn(StrictSchema):
    to = fields.Enum(StepState, by_value=True, required=True)
    waiver_reason = fields.String(
        load_default=None,
        validate=validate.OneOf(sorted(vocab.WAIVER_REASONS)),
        metadata={"description": "Only a reason the destination's rules allow for this step."},
    )
    not_done_reason = fields.String(
        load_default=None,
        validate=validate.OneOf(sorted(vocab.NOT_DONE_REASONS)),
        metadata={"description": "Why the step was not done (to=not_done); it never clears."},
    )
    note = fields.String(load_default=None, validate=validate.Length(min=1, max=500))
    version = strict_integer(required=True)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> Move:
        return Move(**data)


class StepOut(StrictSchema):
    id = fields.UUID()
    code = fields.String()
    state = fields.Enum(StepState, by_value=True)
    planned_status = fields.String()
    reason_rule = fields.String(allow_none=True)
    reason_source = fields.List(fields.String())
    reason_detail = fields.String()
    due_by = fields.Date(allow_none=True)
    not_before = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    awaiting = fields.List(fields.String())
    count = fields.Integer(allow_none=True)
    waiver_reason = fields.String(allow_none=True)
    not_done_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    version = fields.Integer()
    recorded_in = fields.Function(
        lambda step: owners.where_recorded(step.code),
        metadata={
            "type": "string",
            "nullable": True,
            "description": "Where its result is recorded when it has a record of its own (a "
            "result posted here is refused: workflow.result_recorded_elsewhere); null: by a "
            "result posted to the workflow.",
        },
    )


class BlockerOut(StrictSchema):
    kind = fields.String()
    code = fields.String()
    detail = fields.String()


class DecisionOut(StrictSchema):
    status = fields.String()
    blockers = fields.List(fields.Nested(BlockerOut))
    conditions = fields.List(fields.String())


class SettlingOut(StrictSchema):
    waivers_allowed = fields.List(fields.String())
    settled_by = fields.String(
        metadata={"description": "In words: its result, or the alternative route."}
    )


class WorkflowOut(StrictSchema):
    applicant_id = fields.UUID()
    rules_version = fields.String(allow_none=True)
    planned_at = fields.DateTime()
    clearance = fields.Nested(DecisionOut)
    steps = fields.List(fields.Nested(StepOut))
    plan = fields.Dict(
        allow_none=True, metadata={"description": "The plan as the rule engine gave it."}
    )
    problems = fields.Dict(allow_none=True)
    settling = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(SettlingOut),
        metadata={"description": "Per step code: the waivers its rules allow and, in words, "
                  "what would settle it (its result, or the alternative route)."},
    )  # fmt: skip


class MemberClearanceOut(StrictSchema):
    applicant_id = fields.UUID()
    name = fields.String()
    clearance = fields.Nested(DecisionOut)


class CaseClearanceOut(StrictSchema):
    case_id = fields.UUID()
    case_number = fields.String()
    clearance = fields.Nested(DecisionOut)
    members = fields.List(fields.Nested(MemberClearanceOut))


class PlanChangeOut(StrictSchema):
    id = fields.UUID()
    code = fields.String()
    state = fields.String(metadata={"description": "the step's state, or 'new'"})
    planned_before = fields.String()
    planned_after = fields.String()
    rules_version = fields.String()
    detected_at = fields.DateTime()


class ReviewIn(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["accept", "keep"]))


class PlanChangesOut(StrictSchema):
    changes = fields.List(fields.Nested(PlanChangeOut))


class WorkStepOut(StrictSchema):
    id = fields.UUID()
    code = fields.String()
    state = fields.Enum(StepState, by_value=True)
    due_by = fields.Date(allow_none=True)


class WorkItemOut(StrictSchema):
    applicant_id = fields.UUID()
    case_id = fields.UUID()
    case_number = fields.String()
    name = fields.String()
    planned_departure = fields.Date(allow_none=True)
    due_by = fields.Date(allow_none=True)
    steps = fields.List(fields.Nested(WorkStepOut))


class WorklistOut(StrictSchema):
    items = fields.List(fields.Nested(WorkItemOut))


class BoardRowOut(StrictSchema):
    case_id = fields.UUID()
    case_number = fields.String()
    destination = fields.String()
    planned_departure = fields.Date(allow_none=True)
    clearance = fields.Nested(DecisionOut)
    members = fields.List(fields.Nested(MemberClearanceOut))


class BoardOut(StrictSchema):
    cases = fields.List(fields.Nested(BoardRowOut))
