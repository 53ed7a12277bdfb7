"""Pages: a case's workflow (steps, results, clearance), the worklists and the clearance board."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for

from pmha.cases.views import country_choices
from pmha.core.auth import Actor, actor, require
from pmha.core.context import rulebook
from pmha.core.db import get_session, utcnow
from pmha.core.errors import Conflict, NotFound, StaleVersion
from pmha.core.forms import Failed, form_action, form_data, form_load, load_form, shown
from pmha.rules import vocabulary as vocab
from pmha.web.pages import Pages
from pmha.workflow import clearance as cl
from pmha.workflow import lists, owners, schemas, service, validity
from pmha.workflow.commands import Move
from pmha.workflow.facts import FLAGS
from pmha.workflow.labels import (
    CLEARANCE,
    FACT_LABELS,
    MOVES,
    awaited,
    blocker_groups,
    label,
    move_names,
    outcome_label,
)
from pmha.workflow.models import Step, StepState
from pmha.workflow.roles import PERMISSION, WORKLIST_PERMISSION, group_of
from pmha.workflow.steps import TRANSITIONS, IllegalTransition

bp = Blueprint("workflow", __name__)
pages = Pages(bp)
F = TypeVar("F", bound=Callable[..., Any])

# Who may open a case's workflow page: anyone who works on its steps or reads its clearance.
# What each of them then sees is narrowed by `_view_rights` (operations: no result values).
WORKFLOW_READ = ("exams:read", "labs:read", "radiology:read", "clearance:read")
# Which permission shows the result values of each group's steps.
RESULT_READ = {
    "physician": "exams:read",
    "nurse": "exams:read",
    "radiology": "radiology:read",
    "lab": "labs:read",
    "travel": "clearance:read",
}
TITLES = {
    "physician": "Physician worklist",
    "nurse": "Nurse worklist",
    "radiology": "Chest X-rays to read",
    "lab": "Lab worklist",
}
WORKLISTS = {group: (WORKLIST_PERMISSION[group], title) for group, title in TITLES.items()}
TRI_STATE = {"yes": True, "no": False}

# --- the words the pages use ----------------------------------------------------------------------


def can_see_workflow(who: Actor | None) -> bool:
    return who is not None and any(who.can(p) for p in WORKFLOW_READ)


@bp.app_template_global("can_see_workflow")
def _can_see_workflow(who: Actor | None) -> bool:
    return can_see_workflow(who)


# An outcome's validity and reporting deadline in words, on every page that shows outcomes.
bp.add_app_template_global(validity.validity_words, "validity_words")
bp.add_app_template_global(validity.report_words, "report_words")


@dataclass
class Rights:
    clinical: bool  # reasons (rule, source, note)
    plan: bool  # the plan's outcomes and traces: the physician's
    facts: bool  # may record the clinical facts
    read: frozenset[str]  # groups whose result values show
    act: frozenset[str]  # groups whose steps this user may move or record


def _view_rights(who: Actor) -> Rights:
    return Rights(
        clinical=any(who.can(p) for p in ("exams:read", "labs:read", "radiology:read")),
        plan=who.can("exams:sign"),
        facts=who.can("exams:write"),
        read=frozenset(g for g, p in RESULT_READ.items() if who.can(p)),
        act=frozenset(g for g, p in PERMISSION.items() if who.can(p)),
    )


def _plan_notes(record: Any) -> dict[str, dict[str, Any]]:
    plan = record.plan or {}
    return {item["code"]: item for item in plan.get("requirements", [])}


def _order(record: Any) -> dict[str, int]:
    return {code: i for i, code in enumerate(_plan_notes(record))}


def next_action(w: service.Workflow, facts: Any, steps: list[Step]) -> str:
    """What should happen next for this applicant, in words."""
    status = w.decision.status
    if facts is None or facts.exam_date is None:
        return "Record the clinical facts (exam date, TB questions) — physician or nurse."
    open_steps = [
        s
        for s in steps
        if s.state
        in {StepState.PENDING, StepState.IN_PROGRESS, StepState.BLOCKED, StepState.NOT_DONE}
        and group_of(s.code) != "travel"
        and s.planned_status in {"required", "conditional", "blocked"}
    ]
    open_steps.sort(key=lambda s: s.planned_status != "required")  # stable: plan order kept
    if open_steps:
        s = open_steps[0]
        who = {"physician": "physician", "nurse": "nurse", "radiology": "radiology", "lab": "lab"}
        verb = {StepState.BLOCKED: "Unblock", StepState.NOT_DONE: "Settle (not done)"}.get(
            s.state, "Record"
        )
        required = sum(1 for x in open_steps if x.planned_status == "required") - 1
        more = f" (then {required} more to do)" if required > 0 else ""
        return f"{verb}: {label(s.code)} — {who.get(group_of(s.code), 'physician')}{more}."
    if status in {cl.CLEARED, cl.WITH_CONDITIONS}:
        return "Medically cleared: ready for the travel checks."
    blockers = [b for b in w.decision.blockers if b.kind == "outcome"]
    if blockers:
        return f"Waiting: {outcome_label(blockers[0].code)} — {blockers[0].detail}."
    return "Nothing to record: see what blocks clearance."


FORM_WORDS = {
    **FACT_LABELS,
    "code": "Test",
    "value": "Result",
    "date": "Date of the result",
    "to": "Move",
    "waiver_reason": "Reason for the waiver",
    "not_done_reason": "Why it was not done",
    "note": "What blocks the step",
}
# The residence form's fields ("to" is a date here, not a step's move).
RESIDENCE_FIELDS = {"country": "Country", "from": "From", "to": "To"}


def _errors(failed: Failed | None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The refused form's errors for the summary at the top, each linked to its field."""
    if failed is None:
        return {}, {}
    errors: dict[str, list[str]] = {}
    words: dict[str, str] = {}
    known = RESIDENCE_FIELDS if failed.target.startswith("res-") else FORM_WORDS
    for name, messages in failed.errors.items():
        if name.startswith("_") or name not in known:
            errors[name if name.startswith("_") else f"_{name}"] = messages
            continue
        key = f"{failed.target}-{name}"
        errors[key] = messages
        words[key] = known[name]
    return errors, words


def _residence(db: Any, me: Actor, applicant_id: uuid.UUID) -> list[Any] | None:
    """The member's residence periods (None for those who may not read clinical facts)."""
    from pmha.workflow import residence

    return residence.periods(db, me, applicant_id) if me.can("exams:read") else None


def _tb_certificate(db: Any, me: Actor, w: service.Workflow) -> Any:
    """The UK TB certificate of a UK-bound member, for those who may read exams (audited)."""
    if w.applicant.case.destination.value != "GB" or not me.can("exams:read"):
        return None
    from pmha.travel import tb_certificate  # the certificate's words live with the certificates

    return tb_certificate.read_for_workflow(db, me, rulebook(), w, utcnow().date())


def _treatment(db: Any, me: Actor, w: service.Workflow) -> Any:
    """The presumptive treatment the rules give a member whose plan has the step: drugs to
    give, each left out or held with its reason [S16, S17, S18] (exam readers; audited)."""
    planned = any(
        s.code == "presumptive_treatment" and s.state != StepState.NOT_APPLICABLE for s in w.steps
    )
    if not planned or not me.can("exams:read"):
        return None
    from pmha.travel import handover  # the plan's drugs live with the travel policy

    rule, _given = handover.suggested_treatment(db, me, w.applicant.id)
    return rule


@pages.page("/cases/<uuid:case_id>/workflow", WORKFLOW_READ, endpoint="case_workflow")
def _case_page(case_id: uuid.UUID, failed: Failed | None = None, status: int = 200) -> Any:
    db, me = get_session(), actor()
    found = service.case_clearance(db, me, rulebook(), case_id)
    details = lists.member_details(db, found.members)
    members = []
    for w in found.members:
        order = _order(w.record)
        steps = sorted(w.steps, key=lambda s: (order.get(s.code, 999), s.code))
        detail = details[w.applicant.id]
        members.append(
            {
                "w": w,
                "changes": service.pending_changes(db, me, w.applicant.id)
                if me.can("exams:sign")
                else [],
                "steps": [s for s in steps if s.state != StepState.NOT_APPLICABLE],
                "waivers": {
                    s.code: service.allowed_moves(db, rulebook(), w.applicant, s) for s in steps
                },
                "hints": service.settle_hints(rulebook(), w),
                "offers": service.not_done_offers(rulebook(), w),
                "tb": _tb_certificate(db, me, w),
                "not_needed": [s for s in steps if s.state == StepState.NOT_APPLICABLE],
                "results": detail.results,
                "facts": detail.facts,
                "notes": _plan_notes(w.record),
                "residence": _residence(db, me, w.applicant.id),
                "treatment": _treatment(db, me, w),
                "next": next_action(w, detail.facts, steps),
            }
        )
    from pmha.exports import service as exports  # the export step's state, shown by the link
    from pmha.travel.departures import booking_of  # the traveller page a check is recorded on

    booked = booking_of(db, found.case.id)

    return render_template(
        "workflow/case.html",
        found=found,
        export_state=exports.export_state(db, me, case_id) if me.can("exports:create") else None,
        **shown(failed, *_errors(failed)),
        members=members,
        rights=_view_rights(me),
        result_values=vocab.RESULT_VALUES,
        waiver_words=vocab.WAIVER_WORDS,
        not_done_reasons=vocab.NOT_DONE_REASONS,
        transitions=TRANSITIONS,
        moves=MOVES,
        flags=FLAGS,
        countries=country_choices(),
        history_facts=service.HISTORY_FACTS,
        fact_labels=FACT_LABELS,
        clearance=CLEARANCE,
        awaited=awaited,
        blocker_groups=blocker_groups,
        group_of=group_of,
        owners=owners.OWNERS,
        departure_id=booked.id if booked else None,
        nav="cases",
    ), status


def _done(case_id: uuid.UUID, applicant_id: uuid.UUID, found: service.Workflow, text: str) -> Any:
    if found.applicant.case_id != case_id:
        raise NotFound("No such case.", code="cases.not_found")  # rolled back: nothing kept
    flash(text)
    return redirect(url_for(".case_workflow", case_id=case_id, _anchor=f"m-{applicant_id}"))


@pages.post("/cases/<uuid:case_id>/workflow/applicants/<uuid:applicant_id>/results", "cases:read")
def record_result(case_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    raw = form_data(request.form, ["code", "value", "date"])

    def page(failed: Failed) -> Any:
        failed.errors = _result_words(failed.errors)
        return _case_page(case_id, failed)

    found = form_action(
        f"r-{applicant_id}-{raw.get('code', '')}",
        raw,
        lambda cmd: service.record_result(get_session(), actor(), rulebook(), applicant_id, cmd),
        page,
        schema=schemas.ResultIn(),
    )
    return _done(case_id, applicant_id, found, f"{label(raw['code'])}: result recorded.")


def _ints(raw: dict[str, Any], *names: str) -> dict[str, Any]:
    """Whole numbers typed into a form as numbers (the API's schemas take no strings)."""
    out = dict(raw)
    for name in names:
        value = out.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            out[name] = int(value)
    return out


def _result_words(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    words = {"value": "Choose the result.", "date": "Enter the date of the result.",
             "code": "Choose the test."}  # fmt: skip
    return {
        k: [words.get(k, m) if m == "Missing data for required field." else m for m in v]
        for k, v in errors.items()
    }


@pages.post("/cases/<uuid:case_id>/workflow/steps/<uuid:step_id>", "cases:read")
def move_step(case_id: uuid.UUID, step_id: uuid.UUID) -> Any:
    raw = form_data(request.form, ["to", "waiver_reason", "not_done_reason", "note", "version"])

    def act(move: Move) -> service.Workflow:
        # The page showed the plan as it is today; a step new today is kept before it moves.
        service.keep_case_current(get_session(), actor(), rulebook(), case_id)
        return service.transition(get_session(), actor(), rulebook(), step_id, move)

    def page(failed: Failed) -> Any:
        if isinstance(failed.problem, IllegalTransition):
            allowed = move_names(failed.problem.extra.get("allowed", []))
            said = f"That move is not allowed from where the step is now. Allowed: {allowed}."
            failed.errors = {"_form": [said]}
        elif isinstance(failed.problem, StaleVersion):
            failed.errors = {"_form": [STEP_CHANGED]}
        return _case_page(case_id, failed)

    move = form_load(f"t-{step_id}", raw, page, schemas.TransitionIn(), _ints(raw, "version"))
    found = form_action(f"t-{step_id}", raw, lambda _: act(move), page)
    step = next(s for s in found.steps if s.id == step_id)
    text = f"{label(step.code)}: {MOVES[move.to][1]}."
    return _done(case_id, found.applicant.id, found, text)


@pages.post("/cases/<uuid:case_id>/workflow/changes/<uuid:change_id>", "exams:sign")
def review_change(case_id: uuid.UUID, change_id: uuid.UUID) -> Any:
    decision = request.form.get("decision", "")
    found = service.review_change(get_session(), actor(), rulebook(), change_id, decision)
    text = "Change accepted: the step is open again." if decision == "accept" else "Kept as it was."
    return _done(case_id, found.applicant.id, found, text)


@pages.post("/cases/<uuid:case_id>/workflow/applicants/<uuid:applicant_id>/facts", "exams:write")
def record_facts(case_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    raw = form_data(request.form, ["exam_date", "gestation_weeks", "version"])
    target = f"f-{applicant_id}"
    values = {**raw, **{f: request.form.get(f, "") for f in FLAGS}}
    unclear: dict[str, list[str]] = {}
    for flag in FLAGS:
        choice = request.form.get(flag, "")
        if choice and choice not in TRI_STATE:
            unclear[flag] = ["Choose yes, no or not asked."]
        raw[flag] = TRI_STATE.get(choice)
    raw.setdefault("exam_date", None)
    raw.setdefault("gestation_weeks", None)
    data, errors = load_form(schemas.FactsIn(), _ints(raw, "version", "gestation_weeks"))
    if data is None or unclear:
        return _case_page(case_id, Failed(target, values, {**errors, **unclear}), 422)

    def page(failed: Failed) -> Any:
        if isinstance(failed.problem, Conflict):  # changed by someone else meanwhile
            failed.errors = {"_form": [FACTS_CHANGED]}
        return _case_page(case_id, failed)

    found = form_action(
        target,
        values,
        lambda _: service.set_facts(get_session(), actor(), rulebook(), applicant_id, data),
        page,
    )
    return _done(case_id, applicant_id, found, "Clinical facts recorded; the plan follows them.")


@pages.post(
    "/cases/<uuid:case_id>/workflow/applicants/<uuid:applicant_id>/residence", "exams:write"
)
def add_residence(case_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    from pmha.workflow import residence
    from pmha.workflow.residence_api import ResidenceIn

    raw = form_data(request.form, ["country", "from", "to"])
    if "country" in raw:
        raw["country"] = raw["country"].upper()

    def worded(failed: Failed) -> Any:
        failed.errors = {
            k: [RESIDENCE_WORDS.get(m, m) for m in v] for k, v in failed.errors.items()
        }
        return _case_page(case_id, failed)

    data = form_load(f"res-{applicant_id}", dict(raw), worded, ResidenceIn(), raw)
    row = form_action(
        f"res-{applicant_id}",
        dict(raw),
        lambda _: residence.add_period(get_session(), actor(), rulebook(), applicant_id, data),
        functools.partial(_case_page, case_id),
    )
    found = service.current(get_session(), actor(), rulebook(), row.applicant_id)
    return _done(case_id, applicant_id, found, "Residence recorded; the plan follows it.")


@pages.post(
    "/cases/<uuid:case_id>/workflow/applicants/<uuid:applicant_id>/residence/<uuid:period_id>",
    "exams:write",
)
def remove_residence(case_id: uuid.UUID, applicant_id: uuid.UUID, period_id: uuid.UUID) -> Any:
    from pmha.workflow import residence

    residence.remove_period(get_session(), actor(), rulebook(), applicant_id, period_id)
    found = service.current(get_session(), actor(), rulebook(), applicant_id)
    return _done(case_id, applicant_id, found, "Residence period removed; the plan follows.")


STEP_CHANGED = "Someone changed this step meanwhile: here it is as it is now. Try again."
FACTS_CHANGED = "Someone changed these facts meanwhile: here they are as they are now."
RESIDENCE_WORDS = {
    "Missing data for required field.": "Give this date.",
    "Not a valid date.": "Give a date like 2015-03-01.",
}


# --- worklists ------------------------------------------------------------------------------------


def _worklist_view(group: str, permission: str, title: str) -> Callable[[], Any]:
    @require(permission)
    def view() -> Any:
        db, me = get_session(), actor()
        items = lists.worklist(db, me, group)
        return render_template(
            "workflow/worklist.html",
            items=items,
            group=group,
            title=title,
            nav="today",
        )

    view.__name__ = f"worklist_{group}"
    return view


for _group, (_permission, _title) in WORKLISTS.items():
    bp.add_url_rule(
        f"/worklists/{_group}",
        endpoint=f"worklist_{_group}",
        view_func=_worklist_view(_group, _permission, _title),
    )

SORTS = {
    "departure": "Departure, soonest first",
    "-departure": "Departure, latest first",
    "status": "Clearance, most blocked first",
}


@pages.get("/worklists/operations", "clearance:read")
def clearance_board() -> Any:
    db, me = get_session(), actor()
    sort = request.args.get("sort", "departure")
    if sort not in SORTS:
        sort = "departure"
    rows = lists.clearance_board(db, me, rulebook())
    if sort == "-departure":
        dated = [r for r in rows if r.case.planned_departure]
        rows = dated[::-1] + [r for r in rows if not r.case.planned_departure]
    elif sort == "status":
        rows.sort(key=lambda r: cl.ORDER.index(r.decision.status))
    return render_template(
        "workflow/board.html",
        rows=rows,
        sort=sort,
        sorts=SORTS,
        clearance=CLEARANCE,
        blocker_groups=blocker_groups,
        nav="today",
    )
