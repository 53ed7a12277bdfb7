"""JSON API for departures, the departure board, fitness checks, escorts, certificates,
follow-up and presumptive treatment; and certificate verification for staff (the public page
is /verify)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response
from sqlalchemy.orm import Session

from pmha.accounts.web_auth import confirm_signature
from pmha.cases import service as cases
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.endpoint import Api
from pmha.core.http import load_json
from pmha.core.schemas import StrictSchema, password_again
from pmha.travel import certificates, checks, context, departures, handover, schemas
from pmha.travel import tb_certificate as tb
from pmha.travel.commands import FollowUpDone, NewCheck, NewDeparture, NewTreatment, SetEscort
from pmha.travel.rows import traveller_rows

bp = Blueprint("travel_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="travel")
on_applicant = api.under("/applicants/<uuid:applicant_id>")
on_departure = api.under("/departures/<uuid:departure_id>")
TAG = "travel"


def _departure(d: Any) -> dict[str, Any]:
    out: dict[str, Any] = schemas.DepartureOut().dump(d)
    return out


@api.get("/departures", "clearance:read")
def list_departures(db: Session, me: Actor) -> Any:
    """Upcoming departures at your sites"""
    found = departures.list_departures(db, me)
    return {"departures": [{**_departure(d), "cases": n} for d, n in found]}


@api.create("/departures", "travel:write", body=schemas.DepartureIn, response=schemas.DepartureOut)
def create_departure(db: Session, me: Actor, body: NewDeparture) -> Any:
    """Create a departure; a flight in the past or a carrier with no rule in the destination's file
    is a 422"""
    return _departure(departures.create_departure(db, me, body))


@on_departure.get("/board", "clearance:read", response=schemas.DepartureBoardOut)
def board(db: Session, me: Actor, departure_id: uuid.UUID) -> Any:
    """The departure board: each traveller's clearance, blockers, due checks and escort"""
    found = departures.board(db, me, departure_id)
    rows = [
        {
            k: v
            for k, v in r.items()
            if not k.startswith("_") and k not in {"certifiable", "family_status"}
        }
        for r in traveller_rows(found)
    ]
    return schemas.DepartureBoardOut().dump(
        {
            "departure": found.departure,
            "travellers": rows,
            "ready": found.ready,
            "total": found.travellers,
        }
    )


@on_departure.create("/cases", "travel:write", body=schemas.BookingIn, also=(409,))
def book_case(db: Session, me: Actor, body: dict[str, Any], departure_id: uuid.UUID) -> Any:
    """Book a family case on the departure (its planned departure follows)"""
    departures.book_case(db, me, departure_id, body["case_id"])
    return {"departure_id": str(departure_id), "case_id": str(body["case_id"])}


@on_applicant.create(
    "/fitness-checks", "exams:sign", body=schemas.CheckIn, response=schemas.CheckOut, also=(409,)
)
def record_check(db: Session, me: Actor, body: NewCheck, applicant_id: uuid.UUID) -> Any:
    """Record a PDMS, PEC or DHC with the suggested outcome and the physician's (an override needs
    a reason); a check dated after the flight is a 422"""
    found = checks.record_check(db, me, applicant_id, body)
    return schemas.CheckOut().dump(
        {
            **{k: getattr(found, k) for k in ("id", "checked_at", "reasons", "in_window")},
            "kind": found.kind.value,
            "suggested": found.suggested.value,
            "outcome": found.outcome.value,
        }
    ), 201


@on_applicant.put("/escort", "travel:write", body=schemas.EscortIn)
def set_escort(db: Session, me: Actor, body: SetEscort, applicant_id: uuid.UUID) -> Any:
    """Arrange the traveller's escort on their departure (type, MEDIF, plan, equipment)"""
    escort = checks.set_escort(db, me, applicant_id, body)
    return {
        "id": str(escort.id),
        "escort_type": escort.escort_type.value,
        "medif_status": escort.medif_status.value,
        "version": escort.version,
    }


class IssueIn(StrictSchema):
    password = password_again("issuer")


@on_applicant.create(
    "/certificate", "travel:write", body=IssueIn, response=schemas.CertificateOut, also=(409, 423)
)
def issue_certificate(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Issue the traveller's clearance certificate, signed with the issuer's password (409
    travel.clearance_blocked while any blocker is open)"""
    signature = confirm_signature(load_json(IssueIn())["password"], "travel:write")
    cert = certificates.issue_certificate(db, me, applicant_id, signature)
    return schemas.CertificateOut().dump(
        {
            "code": cert.code,
            "valid_until": cert.valid_until,
            "revoked": cert.revoked_at is not None,
            "statement": cert.statement,
            "token": certificates.code_of(cert),
        }
    ), 201


@on_applicant.get("/certificate.pdf", "travel:write", also=(409,))
def certificate_pdf(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The traveller's clearance certificate as PDF"""
    data = certificates.render_certificate(db, me, applicant_id)
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": "inline; filename=certificate.pdf"},
    )


@on_applicant.get("/tb-certificate", "exams:read")
def tb_certificate(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The UK TB clearance certificate as the current plan gives it: issued or not (and why),
    whether the chest X-ray was taken and, if not, the reason in the UK's words, and the sputum
    results"""
    cert = tb.tb_certificate(db, me, context.rulebook(), applicant_id, utcnow().date())
    return tb.as_dict(cert)


@on_applicant.get("/tb-certificate.pdf", "exams:read", also=(409,))
def tb_certificate_pdf(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The UK TB clearance certificate as PDF (409 for other destinations)"""
    session = db
    cert = tb.tb_certificate(session, me, context.rulebook(), applicant_id, utcnow().date())
    site = cases.load_applicant(session, me, applicant_id).case.site.name
    return Response(
        tb.render_pdf(cert, site),
        mimetype="application/pdf",
        headers={"Content-Disposition": "inline; filename=tb-certificate.pdf"},
    )


@on_applicant.get("/follow-up", "clearance:read")
def follow_up(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The post-arrival handover: follow-ups, medications in progress, escort notes"""
    return {"items": handover.follow_up(db, me, applicant_id)}


@api.post(
    "/follow-ups/<uuid:follow_up_id>/completion", "exports:import", body=schemas.FollowUpDoneIn
)
def complete_follow_up(db: Session, me: Actor, body: FollowUpDone, follow_up_id: uuid.UUID) -> Any:
    """The receiving side records a post-arrival follow-up as done"""
    row = handover.complete_follow_up(db, me, follow_up_id, body)
    return {
        "id": str(row.id),
        "completed_on": row.completed_on.isoformat() if row.completed_on else None,
    }


@on_applicant.create("/treatments", "exams:write", body=schemas.TreatmentIn)
def record_treatment(db: Session, me: Actor, body: NewTreatment, applicant_id: uuid.UUID) -> Any:
    """Record presumptive treatment given under the rule file (drug, dose, date)"""
    row = handover.record_treatment(db, me, applicant_id, body)
    return {
        "id": str(row.id),
        "rule": row.rule_id,
        "drug": row.drug,
        "dose": row.dose,
        "given_on": row.given_on.isoformat(),
    }, 201


@api.post(
    "/certificates/verify",
    "clearance:read",
    body=schemas.VerifyIn,
    response=schemas.VerificationOut,
)
def verify(db: Session, body: dict[str, Any]) -> Any:
    """Verify a certificate's code or its signed code (HC1:..., or an older PMHA1 token): valid,
    revoked, expired, unknown, forged, other_key (a key not published) or malformed (shows no
    health details; the public page is /verify, the keys /.well-known/pmha-certificate-keys)"""
    found = certificates.verify(db, body["code"])
    return schemas.VerificationOut().dump(
        {
            "status": found.status,
            "statement": found.statement,
            "revoked_on": found.revoked_on,
            "message": found.message,
            "kid": found.kid,
        }
    )
