"""Pages: departures, the departure board (sort, filter, CSV), a traveller's checks, escort and
certificate, and the public certificate verification page."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from jinja2.filters import do_truncate
from marshmallow import fields, validate

from pmha.accounts.web_auth import confirm_signature
from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core.auth import actor
from pmha.core.db import get_session
from pmha.core.errors import NotFound
from pmha.core.forms import Failed, form_action, form_data, form_load, sent_back
from pmha.core.schemas import StrictSchema
from pmha.travel import certificates, checks, context, departures, handover, schemas, tb_certificate
from pmha.travel.models import CheckKind, EscortType, Fitness, MedifStatus, Mobility
from pmha.travel.policy import COMMUNICABLE, MENTAL_STATES
from pmha.travel.rows import FILTERS, SORTS, blocker_lines, select_rows, to_csv, traveller_rows
from pmha.travel.status import CHECK_NAMES
from pmha.web import localtime
from pmha.web.files import sent_file
from pmha.web.pages import RECORD, Pages
from pmha.web.words import FITNESS
from pmha.workflow.labels import CLEARANCE, blocker_groups

bp = Blueprint("travel", __name__)
pages = Pages(bp)
record_pages = Pages(bp, prefix=RECORD)

MOBILITY = {
    "none": "Walks unaided",
    "WCHR": "WCHR: wheelchair to the aircraft door",
    "WCHS": "WCHS: wheelchair, cannot climb steps",
    "WCHC": "WCHC: immobile, carried to the seat",
    "stretcher": "Stretcher",
}
ESCORTS = {"non_medical": "Non-medical escort", "nurse": "Nurse", "doctor": "Doctor"}
MEDIF = {
    "not_needed": "Not needed",
    "to_send": "To send",
    "sent": "Sent, awaiting airline",
    "approved": "Approved by the airline",
    "refused": "Refused by the airline",
}


class DepartureForm(StrictSchema):
    carrier = fields.String(required=True)
    flight_number = fields.String(required=True)
    departs_at = fields.String(required=True)
    route = fields.String(required=True)
    destination = fields.String(required=True)


class BookForm(StrictSchema):
    case_number = fields.String(required=True, validate=validate.Length(min=3, max=24))


NO_CASE = "No case with this number at your sites."


def _common(**extra: Any) -> dict[str, Any]:
    return {"clearance": CLEARANCE, "fitness": FITNESS, "nav": "departures", **extra}


def _when(text: str) -> datetime:
    """A datetime-local input, read in the site's local time (the page says so), as UTC."""
    return localtime.from_local(text)


@pages.page("/departures", "clearance:read", endpoint="departure_list")
def _departures_page(failed: Failed | None = None) -> Any:
    found = departures.list_departures(get_session(), actor())
    return render_template(
        "travel/departures.html", departures=found, **sent_back(failed), **_common()
    )


@pages.post("/departures", "travel:write")
def create_departure() -> Any:
    form = form_data(request.form, list(DepartureForm._declared_fields))
    data = form_load("departure", form, _departures_page, DepartureForm())
    try:
        data["departs_at"] = _when(data["departs_at"]).isoformat()
    except ValueError:
        when = {"departs_at": ["Give the date and time of departure."]}
        return _departures_page(Failed("departure", form, when)), 422
    made = form_action(
        "departure",
        form,
        lambda cmd: departures.create_departure(get_session(), actor(), cmd),
        _departures_page,
        schema=schemas.DepartureIn(),
        typed=data,
        status=422,
    )
    flash(f"Departure {made.label} created.")
    return redirect(url_for("travel.departure_board", departure_id=made.id))


_SLOT = uuid.UUID(int=0)  # stands for an id in a link built once per page


@pages.page("/departures/<uuid:departure_id>", "clearance:read", endpoint="departure_board")
def _board_page(
    departure_id: uuid.UUID, errors: dict[str, list[str]] | None = None, status: int = 200
) -> Any:
    found = departures.board(get_session(), actor(), departure_id)
    sort = request.args.get("sort", "case")
    show = request.args.get("show", "all")
    rows = select_rows(
        traveller_rows(found), sort if sort in SORTS else "case", show if show in FILTERS else "all"
    )
    # Per row in Python, not in the template: a full board is 300 rows (BRIEF 9), and the links
    # are built once and filled in (url_for per row was a tenth of the page).
    truncate = functools.partial(do_truncate, current_app.jinja_env, length=60)
    case_url = url_for("workflow.case_workflow", case_id=_SLOT)
    traveller_url = url_for("travel.traveller", departure_id=departure_id, applicant_id=_SLOT)
    slot = str(_SLOT)
    for r in rows:
        r["lines"], r["more"], r["holds"] = blocker_lines(r["_traveller"], FITNESS, truncate)
        r["case_url"] = case_url.replace(slot, str(r["case_id"]))
        r["traveller_url"] = traveller_url.replace(slot, str(r["applicant_id"]))
    return render_template(
        "travel/board.html",
        board=found,
        rows=rows,
        sort=sort,
        show=show,
        sorts=SORTS,
        filters=FILTERS,
        counts=found.counts(),
        errors=errors or {},
        **_common(),
    ), status


@pages.get("/departures/<uuid:departure_id>/board.csv", "clearance:read")
def board_csv(departure_id: uuid.UUID) -> Any:
    found = departures.board(get_session(), actor(), departure_id)
    text = to_csv(select_rows(traveller_rows(found), "case", "all"))
    return sent_file(text, "text/csv", f"departure-{departure_id}.csv", download=True)


@pages.post("/departures/<uuid:departure_id>/cases", "travel:write")
def book_case(departure_id: uuid.UUID) -> Any:
    db, me = get_session(), actor()
    departures.load_departure(db, me, departure_id)
    raw = form_data(request.form, ["case_number"])

    def page(failed: Failed) -> Any:
        # One field on the board: whatever is wrong is said next to the case number.
        return _board_page(departure_id, {"case_number": failed.messages})

    data = form_load("book", raw, page, BookForm())
    case = cases.find_case_number(db, me, data["case_number"])
    if case is None:
        return _board_page(departure_id, {"case_number": [NO_CASE]}, 422)
    form_action(
        "book",
        raw,
        lambda _: departures.book_case(db, me, departure_id, case.id),
        page,
        status=422,
    )
    flash(f"Case {case.case_number} booked on this departure.")
    return redirect(url_for("travel.departure_board", departure_id=departure_id))


@pages.page(
    "/departures/<uuid:departure_id>/travellers/<uuid:applicant_id>",
    "clearance:read",
    endpoint="traveller",
)
def _traveller_page(
    departure_id: uuid.UUID,
    applicant_id: uuid.UUID,
    failed: Failed | None = None,
    status: int = 200,
) -> Any:
    db, me = get_session(), actor()
    departure = departures.load_departure(db, me, departure_id)
    booked, row, applicant, traveller = departures.traveller_on_board(db, me, applicant_id)
    if booked.id != departure.id:
        raise NotFound("No such traveller on this departure.", code="travel.not_on_departure")
    history = checks.checks_of(db, me, applicant.id) if me.can("exams:read") else []
    follow = handover.follow_up(db, me, applicant.id)
    rule, given = (
        handover.suggested_treatment(db, me, applicant.id) if me.can("exams:read") else (None, [])
    )
    target, errors, form = (failed.target, failed.errors, failed.values) if failed else ("", {}, {})
    tb_cert = None  # the UK TB certificate (health details): for those who may read exams
    if departure.destination == "GB" and me.can("exams:read"):
        tb_cert = tb_certificate.tb_certificate(
            db, me, context.rulebook(), applicant.id, datetime.now(UTC).date()
        )
    return render_template(
        "travel/traveller.html",
        tb=tb_cert,
        departure=departure,
        row=row,
        a=applicant,
        t=traveller,
        cert=row.certificates.get(applicant.id),
        history=history,
        follow=follow,
        rule=rule,
        given=given,
        target=target,
        errors=errors,
        form=form,
        blocker_groups=blocker_groups,
        kinds=[(k.value, CHECK_NAMES[k.value]) for k in CheckKind],
        symptoms=COMMUNICABLE,
        mental=MENTAL_STATES,
        mobility=MOBILITY,
        escorts=ESCORTS,
        medif=MEDIF,
        outcomes=[f.value for f in Fitness],
        now=datetime.now(UTC),
        mobility_values=[m.value for m in Mobility],
        escort_values=[e.value for e in EscortType],
        medif_values=[m.value for m in MedifStatus],
        outcome_options=[("suggested", "As the rules suggest")]
        + [(k, v[0]) for k, v in FITNESS.items()],
        escort_version=checks.escort_version(db, departure.id, applicant.id),
        **_common(),
    ), status


CHECK_FIELDS = [
    "kind",
    "checked_at",
    "temperature_c",
    "pulse",
    "systolic",
    "diastolic",
    "spo2",
    "pregnancy_weeks",
    "mobility",
    "mental_state",
    "journey_medications",
    "outcome",
    "override_reason",
]


@pages.post("/departures/<uuid:departure_id>/travellers/<uuid:applicant_id>/check", "exams:sign")
def record_check(departure_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    departures.load_departure(get_session(), actor(), departure_id)
    form = form_data(request.form, CHECK_FIELDS)
    data: dict[str, Any] = dict(form)
    errors: dict[str, list[str]] = {}
    try:
        if "checked_at" in data:
            data["checked_at"] = _when(data["checked_at"]).isoformat()
    except ValueError:
        errors["checked_at"] = ["Give the date and time of the check."]
    for name in ("pulse", "systolic", "diastolic", "spo2", "pregnancy_weeks"):
        if name in data:
            try:
                data[name] = int(data[name])
            except ValueError:
                errors[name] = ["Give a whole number."]
    data["symptoms"] = request.form.getlist("symptoms")
    data["oxygen"] = request.form.get("oxygen") == "y"
    data["pregnancy_multiple"] = request.form.get("pregnancy_multiple") == "y"
    if data.get("outcome") == "suggested":
        data.pop("outcome")
    page = functools.partial(_traveller_page, departure_id, applicant_id)
    if errors:
        return page(Failed("check", form, errors), 422)
    found = form_action(
        "check",
        form,
        lambda cmd: checks.record_check(get_session(), actor(), applicant_id, cmd),
        page,
        schema=schemas.CheckIn(),
        typed=data,
        status=422,
    )
    flash(
        f"{CHECK_NAMES[found.kind.value]} recorded: {FITNESS[found.outcome.value][0]}."
        + ("" if found.in_window else " It is outside its window: it does not count.")
    )
    return _to_traveller(departure_id, applicant_id)


@pages.post("/departures/<uuid:departure_id>/travellers/<uuid:applicant_id>/escort", "travel:write")
def set_escort(departure_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    departures.load_departure(get_session(), actor(), departure_id)
    form = form_data(
        request.form,
        ["escort_type", "medif_status", "plan", "handover_note", "equipment", "version"],
    )
    data: dict[str, Any] = dict(form)
    data["equipment"] = [e.strip() for e in form.get("equipment", "").split(",") if e.strip()]
    if "version" in data:
        data["version"] = int(data["version"]) if data["version"].isdigit() else -1
    form_action(
        "escort",
        form,
        lambda cmd: checks.set_escort(get_session(), actor(), applicant_id, cmd),
        functools.partial(_traveller_page, departure_id, applicant_id),
        schema=schemas.EscortIn(),
        typed=data,
        status=422,
    )
    flash("Escort saved.")
    return _to_traveller(departure_id, applicant_id)


def _to_traveller(departure_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    return redirect(
        url_for("travel.traveller", departure_id=departure_id, applicant_id=applicant_id)
    )


@pages.post(
    "/departures/<uuid:departure_id>/travellers/<uuid:applicant_id>/certificate", "travel:write"
)
def issue_certificate(departure_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    departures.load_departure(get_session(), actor(), departure_id)

    def act(_: None) -> Any:
        signature = confirm_signature(request.form.get("password", "")[:200], "travel:write")
        return certificates.issue_certificate(get_session(), actor(), applicant_id, signature)

    page = functools.partial(_traveller_page, departure_id, applicant_id)
    cert = form_action("certificate", {}, act, page)
    flash(f"Certificate {cert.code} issued.")
    return _to_traveller(departure_id, applicant_id)


@pages.get(
    "/departures/<uuid:departure_id>/travellers/<uuid:applicant_id>/certificate.pdf", "travel:write"
)
def certificate_pdf(departure_id: uuid.UUID, applicant_id: uuid.UUID) -> Any:
    departures.load_departure(get_session(), actor(), departure_id)
    data = certificates.render_certificate(get_session(), actor(), applicant_id)
    return sent_file(data, "application/pdf", "certificate.pdf")


@record_pages.get("/tb-certificate.pdf", "exams:read")
def tb_certificate_pdf(applicant: Applicant) -> Any:
    """The UK TB certificate PDF for a signed-in page user (the API's needs a token)."""
    db, me = get_session(), actor()
    cert = tb_certificate.tb_certificate(
        db, me, context.rulebook(), applicant.id, datetime.now(UTC).date()
    )
    pdf = tb_certificate.render_pdf(cert, applicant.case.site.name)
    return sent_file(pdf, "application/pdf", "tb-certificate.pdf")


@pages.post("/departures/<uuid:departure_id>/cases/<uuid:case_id>/certificates.pdf", "travel:write")
def case_certificates(departure_id: uuid.UUID, case_id: uuid.UUID) -> Any:
    departures.load_departure(get_session(), actor(), departure_id)

    def act(_: None) -> bytes:
        signature = confirm_signature(request.form.get("password", "")[:200], "travel:write")
        return certificates.render_case_certificates(get_session(), actor(), case_id, signature)

    data = form_action("certificates", {}, act, lambda f: _board_page(departure_id, f.errors))
    return sent_file(data, "application/pdf", "certificates.pdf", download=True)


VERIFY_WORDS = {
    "valid": ("Valid", "ok", "The certificate stands: the traveller below is cleared to travel."),
    "revoked": ("Revoked", "bad", "The certificate was revoked: do not accept it."),
    "expired": ("Expired", "bad", "The certificate's validity has ended."),
    "unknown": ("Not found", "bad", "No certificate has this code. Check the code and try again."),
    "forged": ("Not genuine", "bad", "The signature does not match: the document was altered."),
    "other_key": (
        "Cannot check here",
        "wait",
        "It was signed with a key that is not in this service's published key list: ask the "
        "issuing centre.",
    ),
    "malformed": (
        "Not a certificate code",
        "bad",
        "This is neither a verification code (TRV-...) nor a certificate's signed code (HC1:...).",
    ),
}


@pages.route("/verify", None, methods=("GET", "POST"))
def verify() -> Any:
    result = None
    code = ""
    if request.method == "POST":
        code = request.form.get("code", "").strip()[:4000]
        if code:
            result = certificates.verify(get_session(), code)
    return render_template(
        "travel/verify.html",
        result=result,
        code=code,
        words=VERIFY_WORDS,
        nav="verify",
        keys_url=url_for("travel.certificate_keys", _external=False),
    )


@pages.get("/.well-known/pmha-certificate-keys", None)
def certificate_keys() -> Any:
    """The published certificate keys (a JWK Set): every key that ever signed a certificate,
    for verifiers offline. Public, like /verify: public keys only."""
    response = jsonify(certificates.key_list(get_session()))
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
