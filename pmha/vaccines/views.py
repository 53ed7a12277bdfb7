"""The nurse's pages: today's vaccination queue, an applicant's vaccinations (history, forecast,
requirements and a dose from a lot, confirmed on a summary before it is recorded), the stock, a
lot's recall list and the printable vaccination record."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from pmha.accounts import service as accounts
from pmha.cases.models import Applicant, Site
from pmha.codes import CVX, HL70162, HL70163, MVX, NIP001, NIP002
from pmha.core.auth import actor
from pmha.core.context import rulebook
from pmha.core.db import get_session, utcnow
from pmha.core.errors import NotFound
from pmha.core.forms import Failed, error_summary, form_action, form_data
from pmha.documents.service import document_language
from pmha.vaccines import dosing, live, observations, outcome, records, review, service, stock
from pmha.vaccines.models import RecordKind, VaccinationRecord, VaccineLot, VaccineObservation
from pmha.vaccines.record_pdf import render_record
from pmha.vaccines.requirements import STATUSES
from pmha.vaccines.schemas import (
    CorrectionIn,
    LotIn,
    ObservationIn,
    ObservationRemoveIn,
    VaccinationIn,
)
from pmha.web.files import sent_file
from pmha.web.localtime import from_local
from pmha.web.pages import RECORD, Pages
from pmha.web.record import page_context, version_of
from pmha.workflow import lists
from pmha.workflow import service as workflow

bp = Blueprint("vaccines", __name__)
pages = Pages(bp)
record_pages = Pages(bp, prefix=RECORD)

STATUS_WORDS = {
    "done": "Done",
    "give_today": "Give today",
    "due_now": "Due, not yet",
    "waived": "Waived",
    "not_required": "Not required",
    "conditional": "Waits for a fact",
    "refused": "Refused (not a waiver)",
}
assert set(STATUS_WORDS) == set(STATUSES)
KIND_WORDS = {
    RecordKind.ADMINISTERED: "Given here",
    RecordKind.HISTORICAL: "From papers",
    RecordKind.REFUSED: "Refused",
    RecordKind.SUBPOTENT: "Sub-potent",
    RecordKind.EVIDENCE_OF_IMMUNITY: "Immune",
}
DOSE_FIELDS = ["kind", "cvx", "lot_id", "given_at", "date", "lot", "amount", "unit", "route",
               "body_site", "information_source", "refusal_reason", "immunity_evidence",
               "immunity_disease", "pregnancy_override", "outbreak_override", "immunosuppressed",
               "immunosuppression_override", "mvx", "pregnant", "screening_note"]  # fmt: skip
GIVEN_KINDS = ("administered", "subpotent")
# What the summary carries from the Give button or the any-lot form to "Confirm and record".
CONFIRM_FIELDS = ["kind", "lot_id", "given_at", "amount", "unit", "route", "body_site"]
WORDS = {
    "cvx": "Vaccine",
    "lot_id": "Lot",
    "given_at": "Given at",
    "date": "Date",
    "amount": "Amount",
    "route": "Route",
    "body_site": "Site",
    "information_source": "Source",
    "refusal_reason": "Refusal reason",
    "immunity_disease": "Immune to",
    "immunity_evidence": "Evidence",
    "pregnancy_override": "Reason to give in pregnancy",
    "outbreak_override": "Outbreak declared",
    "immunosuppression_override": "Reason to give despite immunosuppression",
    "immunosuppressed": "Immunosuppression",
    "pregnant": "Pregnancy",
    "screening_note": "Why the answer differs from the clinical facts",
    "reason": "Reason",
    "code": "Condition",
    "begin": "From",
    "end": "Until",
}
# Vaccines a nurse picks for a record of papers or a refusal: the commonly given ones first.
COMMON_CVX = ["03", "94", "21", "20", "106", "115", "10", "110", "120", "08", "43", "83", "17",
              "133", "152", "62", "165", "114", "136", "141", "88", "208", "213", "02", "19",
              "116", "119", "37", "25", "09", "113", "139"]  # fmt: skip


def _word(name: str) -> str:
    return WORDS.get(name, name.replace("_", " "))


def _lists() -> dict[str, Any]:
    common = [c for c in COMMON_CVX if c in CVX]
    return {
        "cvx_choices": [(c, f"{CVX[c]} (CVX {c})") for c in common],
        "sources": {k: v for k, v in NIP001.items() if k != "00"},
        "refusals": NIP002,
        "immunity": dosing.IMMUNITY,
        "routes": HL70162,
        "body_sites": HL70163,
        "mvx": MVX,
        "status_words": STATUS_WORDS,
        "kind_words": KIND_WORDS,
        "vaccine_name": dosing.name,
        "is_live": live.is_live,
        "defaults": dosing.defaults,
        "season_note": outcome.season_note,
        "state_words": outcome.STATE_WORDS,
        "condition_choices": observations.choices(),
        "condition_title": observations.title,
        "condition_period": observations.period,
    }


@record_pages.page("/vaccinations", "vaccines:read", endpoint="applicant")
def _page(applicant: Applicant, failed: Failed | None = None, status: int = 200) -> Any:
    view = service.overview(get_session(), actor(), rulebook(), applicant.id)
    facts = workflow.clinical_facts(get_session(), applicant.id)
    flow = workflow.view(get_session(), actor(), rulebook(), applicant.id)
    review_step = next(
        (s for s in flow.steps if s.code == review.CODE and s.state.value != "not_applicable"),
        None,
    )
    return render_template(
        "vaccines/applicant.html",
        view=view,
        review=review.latest_review(get_session(), applicant.id),
        review_step=review_step,
        facts=facts,
        **error_summary(failed, _word),
        can_write=actor().can("vaccines:write"),
        can_confirm=actor().can(review.PHYSICIAN),
        now=utcnow(),
        **_lists(),
        **page_context(applicant, "vaccines.applicant"),
    ), status


def _to(applicant: Applicant, anchor: str) -> Any:
    """Back to the applicant's vaccinations, at the part just changed."""
    return redirect(
        url_for(".applicant", case_id=applicant.case_id, applicant_id=applicant.id, _anchor=anchor)
    )


def _dose_input(raw: dict[str, Any]) -> dict[str, Any]:
    """The form as the API's input: `now` for a dose given this minute, ticks as booleans."""
    data = dict(raw)
    if data.get("kind") in ("administered", "subpotent") and not data.get("given_at"):
        data["given_at"] = "now"
    if data.get("given_at") == "now":
        data["given_at"] = utcnow().replace(microsecond=0).isoformat()
    elif data.get("given_at"):
        # Entered in the site's local time (datetime-local, issue 18); stored and sent as UTC.
        try:
            given = data["given_at"]
            data["given_at"] = from_local(given).isoformat() if len(given) == 16 else ""
        except ValueError:
            data["given_at"] = ""
    for question in ("immunosuppressed", "pregnant"):
        # No default: anything but an explicit Yes or No is no answer.
        answer = {"yes": True, "no": False}.get(str(data.pop(question, "")))
        if answer is not None:
            data[question] = answer
    return data


@record_pages.post("/vaccinations", "vaccines:write", endpoint="record")
def record_dose(applicant: Applicant) -> Any:
    raw = form_data(request.form, DOSE_FIELDS)
    target = request.form.get("form", "dose")[:60]
    if raw.get("kind") in GIVEN_KINDS and target != "confirm":
        # A dose given here is recorded only from its summary ("Confirm and record").
        return _confirm_page(applicant, raw)

    def page(failed: Failed) -> Any:
        if target == "confirm":
            return _confirm_page(applicant, raw, failed)
        return _page(applicant, failed)

    made = form_action(
        target,
        raw,
        lambda cmd: records.record_vaccination(get_session(), actor(), applicant.id, cmd),
        page,
        schema=VaccinationIn(),
        typed=_dose_input(raw),
    )
    flash(f"{KIND_WORDS[made.kind]}: {dosing.name(made.cvx)} on {made.occurred_on} recorded.")
    return _to(applicant, "history")


@record_pages.post("/vaccinations/review", "vaccines:write")
def complete_review(applicant: Applicant) -> Any:
    form_action(
        "review",
        {},
        lambda _: review.complete_review(
            get_session(),
            actor(),
            rulebook(),
            applicant.id,
            confirm_refusal=request.form.get("confirm_refusal") == "yes",
            individual_waivers=request.form.getlist("individual_waiver"),
        ),
        # The review's refusal is about the whole review: one message on top, not by field.
        lambda failed: _page(applicant, failed.as_a_whole()),
    )
    flash("Vaccination review completed: the plan's vaccination step is settled.")
    return _to(applicant, "review")


@record_pages.post("/vaccinations/conditions", "vaccines:write")
def add_condition(applicant: Applicant) -> Any:
    made = form_action(
        "condition",
        form_data(request.form, ["code", "begin", "end"]),
        lambda cmd: observations.add(get_session(), actor(), applicant.id, cmd),
        lambda failed: _page(applicant, failed),
        schema=ObservationIn(),
    )
    flash(f"{observations.title(made.code)} ({observations.period(made)}) recorded.")
    return _to(applicant, "conditions")


@record_pages.post("/vaccinations/conditions/<uuid:observation_id>/remove", "vaccines:write")
def remove_condition(observation_id: uuid.UUID, applicant: Applicant) -> Any:
    found = get_session().get(VaccineObservation, observation_id)
    if found is None or found.applicant_id != applicant.id:
        raise NotFound(observations.NOT_FOUND, code="vaccines.observation_not_found")
    form_action(
        f"condition-{observation_id}",
        form_data(request.form, ["reason"]),
        lambda data: observations.remove(get_session(), actor(), observation_id, data["reason"]),
        lambda failed: _page(applicant, failed),
        schema=ObservationRemoveIn(),
    )
    flash("The condition is removed; it stays on file.")
    return _to(applicant, "conditions")


def _giver() -> str:
    """The full name of the person giving the dose (the signed-in user)."""
    me = actor()
    try:
        return accounts.get_user(get_session(), me.username).full_name
    except NotFound:
        return me.username


def _confirm_page(
    applicant: Applicant,
    values: dict[str, Any],
    failed: Failed | None = None,
    status: int = 200,
) -> Any:
    """The summary of a dose before it is recorded: what, from which lot, how, by whom, to whom,
    and the questions before a live vaccine, unanswered. Reading it writes nothing."""
    view = service.overview(get_session(), actor(), rulebook(), applicant.id)
    lot_id = _uuid(values.get("lot_id"))
    lot = view.lot(lot_id)
    if lot is None:
        # The lot is gone (used up, expired) or was never chosen: back to the page, saying so.
        refused_form = Failed("given", values, {"lot_id": ["Choose a lot in this site's stock."]})
        return _page(applicant, refused_form, 422)
    dose = {**dosing.defaults(lot.cvx), **{k: v for k, v in values.items() if v}}
    dose["kind"] = dose.get("kind") if dose.get("kind") in GIVEN_KINDS else "administered"
    dose.setdefault("given_at", "now")
    facts = workflow.clinical_facts(get_session(), applicant.id)
    departure = applicant.case.planned_departure
    today = utcnow().date()
    return render_template(
        "vaccines/confirm.html",
        lot=lot,
        dose=dose,
        dose_fields=CONFIRM_FIELDS,
        dose_number=view.dose_number(lot.cvx),
        giver=_giver(),
        facts=facts,
        asks_pregnancy=records.asks_pregnancy(applicant),
        live_vaccine=live.is_live(lot.cvx),
        near_departure=departure is not None
        and today <= departure < today + timedelta(days=live.DEPARTURE_DAYS),
        departure=departure,
        **error_summary(failed, _word, prefix="confirm"),
        **_lists(),
        **page_context(applicant, "vaccines.applicant"),
    ), status


def _uuid(raw: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


@record_pages.get("/vaccinations/confirm", "vaccines:write", endpoint="confirm")
def confirm_dose(applicant: Applicant) -> Any:
    """The Give button's summary; only its "Confirm and record" writes."""
    values = form_data(request.args, CONFIRM_FIELDS)
    return _confirm_page(applicant, values)


@record_pages.post("/vaccinations/<uuid:record_id>/correct", "vaccines:write", endpoint="correct")
def correct_record(record_id: uuid.UUID, applicant: Applicant) -> Any:
    raw = form_data(request.form, ["reason", "version"])
    found = get_session().get(VaccinationRecord, record_id)
    if found is None or found.applicant_id != applicant.id:
        raise NotFound("No such vaccination record.", code="vaccines.record_not_found")
    form_action(
        f"correct-{record_id}",
        raw,
        lambda data: records.correct(
            get_session(), actor(), record_id, data["reason"], data["version"]
        ),
        lambda failed: _page(applicant, failed),
        schema=CorrectionIn(),
        typed={**raw, "version": version_of(raw.get("version"))} if raw else raw,
    )
    flash("The record is marked as entered in error; it stays on file.")
    return _to(applicant, "history")


@record_pages.get("/vaccinations/record.pdf", "vaccines:read")
def record_pdf(applicant: Applicant) -> Any:
    lang = document_language(get_session(), actor(), applicant, request.args.get("lang"))
    body = render_record(get_session(), actor(), applicant.id, rules=rulebook(), lang=lang)
    # A generic file name: nothing identifying in names that browsers and disks keep.
    return sent_file(body, "application/pdf", "vaccination-record.pdf")


@pages.get("/vaccinations", "vaccines:read")
def queue() -> Any:
    db, me = get_session(), actor()
    items = lists.worklist(db, me, "nurse", only=frozenset({"vaccination_review"}))
    today = utcnow().date()
    given_today = db.scalar(
        select(func.count(VaccinationRecord.id)).where(
            VaccinationRecord.kind == RecordKind.ADMINISTERED,
            VaccinationRecord.occurred_on == today,
            VaccinationRecord.deleted_at.is_(None),
            VaccinationRecord.administered_by == me.user_id,
        )
    )
    low = [lot for lot in stock.lots(db, me) if _low(lot, today)]
    return render_template(
        "vaccines/queue.html",
        items=items,
        given_today=given_today or 0,
        low=low,
        today=today,
        vaccine_name=dosing.name,
        nav="vaccinations",
    )


def _low(lot: VaccineLot, today: date) -> bool:
    return lot.quantity_left > 0 and (lot.quantity_left <= 5 or (lot.expiry - today).days <= 30)


@pages.page("/vaccinations/stock", "vaccines:read", endpoint="stock")
def _stock_page(failed: Failed | None = None, status: int = 200) -> Any:
    db, me = get_session(), actor()
    today = utcnow().date()
    return render_template(
        "vaccines/stock.html",
        lots=stock.lots(db, me),
        sites=_sites(me),
        failed=failed,
        today=today,
        can_write=me.can("vaccines:write"),
        cvx_choices=[(c, f"{CVX[c]} (CVX {c})") for c in COMMON_CVX if c in CVX],
        mvx=MVX,
        vaccine_name=dosing.name,
        nav="vaccinations",
    ), status


def _sites(me: Any) -> list[Site]:
    return list(
        get_session().scalars(select(Site).where(Site.id.in_(me.site_ids)).order_by(Site.code))
    )


@pages.post("/vaccinations/stock", "vaccines:write")
def receive() -> Any:
    raw = form_data(
        request.form, ["site_code", "cvx", "mvx", "lot", "expiry", "quantity", "received_on"]
    )
    typed = dict(raw)
    if "quantity" in typed:
        typed["quantity"] = version_of(typed["quantity"]) or typed["quantity"]
    lot = form_action(
        "lot",
        raw,
        lambda cmd: stock.receive_lot(get_session(), actor(), cmd),
        _stock_page,
        schema=LotIn(),
        typed=typed,
    )
    flash(f"Lot {lot.lot} of {dosing.name(lot.cvx)}: {lot.quantity_received} doses received.")
    return redirect(url_for(".stock"))


@pages.get("/vaccinations/stock/<uuid:lot_id>/recall", "vaccines:read")
def recall(lot_id: uuid.UUID) -> Any:
    db, me = get_session(), actor()
    applicants = stock.recall(db, me, lot_id)
    lot = next(lot for lot in stock.lots(db, me) if lot.id == lot_id)
    return render_template(
        "vaccines/recall.html",
        lot=lot,
        applicants=applicants,
        vaccine_name=dosing.name,
        nav="vaccinations",
    )
