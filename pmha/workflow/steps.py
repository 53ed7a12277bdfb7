"""The state machine of a step, and bringing steps in line with a new plan."""

from __future__ import annotations

import uuid
from datetime import date

from pmha.core.errors import Conflict, ValidationFailed
from pmha.rules import Plan, PlanItem
from pmha.rules import vocabulary as vocab
from pmha.rules.engine import allowed_waiver
from pmha.rules.model import RuleSet
from pmha.workflow.labels import label
from pmha.workflow.models import PlanChange, Step, StepState

S = StepState
# What a person may do to a step. `done` comes from recording a result; `not_applicable`
# from the plan. A signed (done) step changes only by a newer result. `not_done` (with a
# coded reason) and a waiver are reopened to pending; neither is a result.
TRANSITIONS: dict[StepState, frozenset[StepState]] = {
    S.PENDING: frozenset({S.IN_PROGRESS, S.WAIVED, S.BLOCKED, S.NOT_DONE}),
    S.IN_PROGRESS: frozenset({S.PENDING, S.WAIVED, S.BLOCKED, S.NOT_DONE}),
    S.BLOCKED: frozenset({S.PENDING, S.IN_PROGRESS, S.NOT_DONE}),
    S.WAIVED: frozenset({S.PENDING}),
    S.NOT_DONE: frozenset({S.PENDING, S.IN_PROGRESS}),
    S.DONE: frozenset(),
    S.NOT_APPLICABLE: frozenset(),
}
FINISHED = frozenset({S.DONE, S.WAIVED})
OPEN = frozenset({S.PENDING, S.IN_PROGRESS, S.BLOCKED, S.NOT_DONE})
WANTED = frozenset({"required", "conditional", "blocked"})
# Plan statuses that settle a step: its own result, an allowed waiver, an alternative route.
SETTLED = frozenset({"done", "waived", "alternative"})


class IllegalTransition(Conflict):
    code = "workflow.illegal_transition"
    title = "That step cannot move there from where it is"


def check_transition(step: Step, target: StepState) -> None:
    allowed = TRANSITIONS[step.state]
    if target not in allowed:
        names = ", ".join(sorted(a.value for a in allowed)) or "none (record a result instead)"
        raise IllegalTransition(
            f"A step that is {step.state.value} cannot become {target.value}. Allowed: {names}.",
            extra={"allowed": sorted(a.value for a in allowed)},
        )


class WaiverNotAllowed(ValidationFailed):
    code = "workflow.waiver_not_allowed"
    title = "That waiver is not allowed for this step"


class NotDoneReasonMissing(ValidationFailed):
    code = "workflow.not_done_reason"
    title = "Say why the step was not done"


def allowed_waivers(rules: RuleSet | None, code: str, exam_date: date) -> frozenset[str]:
    """The waiver reasons the destination's rules in force allow for this requirement."""
    if rules is None:
        return frozenset()
    found: set[str] = set()
    for rule in rules.rules_for(code, exam_date):
        found |= {r for r in vocab.WAIVER_REASONS if allowed_waiver(rule, code, r)}
    return frozenset(found)


def check_waiver(code: str, reason: str | None, allowed: frozenset[str]) -> None:
    """Refuse a waiver the rule file does not allow for this requirement, naming what it allows."""
    if reason in allowed:
        return
    if not allowed:
        words = (
            "The review is not waived as a whole: waive each vaccine on the Vaccinations tab "
            "(not age appropriate, contraindicated, ...), then complete the review there."
            if code == "vaccination_review"
            else "This test cannot be waived: record its result, or mark it not done with the "
            "reason."
            if code in vocab.SCREENING_TESTS
            else "This step cannot be waived: record its result, or mark it not done with the "
            "reason."
        )
    else:
        names = ", ".join(vocab.WAIVER_WORDS.get(r, r).lower() for r in sorted(allowed))
        words = f"This step may be waived only for: {names}."
        if reason == "refused":
            words += " A refusal is recorded as not done (declined), not as a waiver."
    raise WaiverNotAllowed(
        words,
        errors={"waiver_reason": [words]},
        extra={"allowed": sorted(allowed)},
    )


def settle_hint(
    code: str, rules: RuleSet | None, exam_date: date, rule_id: str | None = None
) -> str:
    """In words, what would settle the step: its result, or the alternative route (only the
    route of the rule that planned the step, `rule_id`, when known: a child is not told the
    pregnancy route of the adults' rule)."""
    found = rules.rules_for(code, exam_date) if rules else ()
    found = tuple(r for r in found if r.cite.id == rule_id) or found
    routes = [r.alternative for r in found]
    text = f"To settle it: record the {label(code)} result"
    for route in dict.fromkeys(r.note for r in routes if r is not None):
        text += f", or {route}"
    return text + "."


def _apply_plan(step: Step, item: PlanItem) -> None:
    step.planned_status = item.status
    step.reason_rule = item.reason.rule
    step.reason_source = list(item.reason.source)
    step.reason_detail = item.reason.detail[:300]
    step.due_by, step.not_before, step.valid_until = item.due_by, item.not_before, item.valid_until
    step.awaiting = list(item.awaiting)
    step.count = item.count


def _change(
    applicant_id: object, code: str, state: str, before: str, item: PlanItem, plan: Plan
) -> PlanChange:
    return PlanChange(
        applicant_id=applicant_id,
        code=code,
        state=state,
        planned_before=before,
        planned_after=item.status,
        rules_version=plan.rules_version,
    )


STEP_IDS = uuid.UUID("6f0f4d0e-2b1c-5d8a-9a57-3c2f6d1e8b40")  # the namespace of new steps' ids


def step_id(applicant_id: uuid.UUID, code: str) -> uuid.UUID:
    """A new step's id, the same whenever it is worked out: a plan shown before it is saved
    (a read writes nothing) names its new steps by the ids they get when it is saved."""
    return uuid.uuid5(STEP_IDS, f"{applicant_id}:{code}")


def sync(
    applicant_id: uuid.UUID, steps: list[Step], plan: Plan, *, hold_signed: bool
) -> tuple[list[Step], list[PlanChange]]:
    """Bring the steps in line with the plan: new ones for new requirements, not_applicable for
    those no longer wanted. With `hold_signed` (a rule update), a done or waived step whose
    planned status changes is left as it is and the change is returned for review."""
    by_code = {s.code: s for s in steps}
    new: list[Step] = []
    changes: list[PlanChange] = []
    for item in plan.requirements:
        step = by_code.pop(item.code, None)
        if step is None:
            if item.status not in WANTED:
                continue
            step = Step(
                id=step_id(applicant_id, item.code),
                applicant_id=applicant_id,
                code=item.code,
                state=S.PENDING,
                version=1,
            )
            new.append(step)
            if hold_signed:  # a new requirement for an open case: listed for review too
                changes.append(_change(applicant_id, step.code, "new", "none", item, plan))
        elif (
            hold_signed
            and step.state in FINISHED
            and (step.planned_status != item.status or step.reason_rule != item.reason.rule)
        ):
            changes.append(
                _change(applicant_id, step.code, step.state.value, step.planned_status, item, plan)
            )
            continue
        _apply_plan(step, item)
        if item.status in WANTED and step.state == S.NOT_APPLICABLE:
            step.state = S.PENDING
        elif item.status not in WANTED | SETTLED and step.state in OPEN:
            step.state = S.NOT_APPLICABLE
    for step in by_code.values():  # no longer in the plan at all
        if step.state in OPEN:
            step.state = S.NOT_APPLICABLE
            step.planned_status = "not_required"
    return new, changes
