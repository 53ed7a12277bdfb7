"""Fitness-to-travel clearance certificates: issued only while nothing blocks the traveller,
signed (who, what, until when; no health details), printed in English and the destination's
language where it differs, and verifiable by code or QR. Revoked certificates say so.
"""

from __future__ import annotations

import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import segno
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.accounts.signatures import Signature
from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict
from pmha.core.pdf import Document
from pmha.travel import context, handover
from pmha.travel.departures import CaseRow, build_board, traveller_on_board
from pmha.travel.models import Certificate, Departure
from pmha.travel.signing import Signer, load_signer, parse_token, token
from pmha.travel.texts import TEXTS, destination_name

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


class ClearanceBlocked(Conflict):
    code = "travel.clearance_blocked"
    title = "The traveller is not cleared to travel"


def signer() -> Signer:
    config = current_app.extensions["pmha.config"]
    return load_signer(config.CERTIFICATE_KEY, config.production, config.STORAGE_DIR)


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"TRV-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _statement(
    code: str, applicant: Applicant, departure: Departure, until: date, site: str
) -> dict[str, Any]:
    return {
        "v": 1,
        "code": code,
        "who": {
            "name": f"{applicant.family_name.upper()}, {applicant.given_names}",
            "dob": applicant.dob.isoformat(),
            "case": applicant.case.case_number,
        },
        "what": "fit_to_travel",
        "to": departure.destination,
        "flight": departure.label,
        "departs": departure.departs_at.date().isoformat(),
        "until": until.isoformat(),
        "issued": utcnow().date().isoformat(),
        "by": site,
    }


def _issue(
    session: Session,
    actor: Actor,
    departure: Departure,
    row: CaseRow,
    applicant: Applicant,
    signature: Signature | None = None,
) -> Certificate:
    standing = row.certificates.get(applicant.id)
    if standing is not None and standing.revoked_at is None:
        return standing
    if applicant.id not in row.readiness.certifiable:
        # Which blockers, by kind only: the reasons are health data and stay on the board.
        raise ClearanceBlocked(
            "Certificates cannot be generated while a blocker is open: see the departure board."
        )
    traveller = next(t for a, t in row.travellers if a.id == applicant.id)
    until = traveller.valid_until or departure.departs_at.date()
    key = signer()
    code = new_code()
    statement = _statement(code, applicant, departure, until, applicant.case.site.code)
    cert = Certificate(
        code=code,
        applicant_id=applicant.id,
        departure_id=departure.id,
        statement=statement,
        signature=key.sign(statement),
        key_id=key.key_id,
        valid_until=until,
        issued_by=actor.user_id,
        issued_by_name=signature.line if signature else None,
    )
    session.add(cert)
    session.flush()
    row.certificates[applicant.id] = cert
    audit.record(
        session,
        actor,
        "issue",
        "certificate",
        cert.id,
        site_id=departure.site_id,
        details={"applicant": str(applicant.id), "departure": str(departure.id)},
    )
    handover.open_follow_ups(session, actor, applicant.id, departure.departs_at.date())
    return cert


def issue_certificate(
    session: Session, actor: Actor, applicant_id: uuid.UUID, signature: Signature | None = None
) -> Certificate:
    """The traveller's standing certificate for their departure, issued now if none stands;
    a 409 (travel.clearance_blocked) while any blocker is open. Every HTTP edge passes the
    issuer's confirmed signature (password again); None is for the seeded demo and tests."""
    actor.check("travel:write")
    departure, row, applicant, _ = traveller_on_board(session, actor, applicant_id)
    return _issue(session, actor, departure, row, applicant, signature)


def issue_case_certificates(
    session: Session, actor: Actor, case_id: uuid.UUID, signature: Signature | None = None
) -> list[Certificate]:
    """Certificates for every traveller of a case (the family rule decides who may have one)."""
    actor.check("travel:write")
    case = cases.load_case(session, actor, case_id)
    from pmha.travel.departures import booking_of

    departure = booking_of(session, case.id)
    if departure is None:
        raise Conflict("The case is not booked on a departure.", code="travel.not_booked")
    board = build_board(session, actor, departure)
    row = next(r for r in board.rows if r.case.id == case.id)
    return [_issue(session, actor, departure, row, a, signature) for a, _ in row.travellers]


# --- the PDF -------------------------------------------------------------------------------------


def _qr_png(data: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="png", scale=4, border=2)
    out.seek(0)
    return out


def _page(doc: Document, cert: Certificate, languages: tuple[str, ...], verify_url: str) -> None:
    s = cert.statement
    first = True
    for lang in languages:
        t = TEXTS[lang]
        if not first:
            doc.ln(3)
        first = False
        doc.heading(t["title"])
        doc.fields(
            [
                (t["name"], s["who"]["name"]),
                (t["dob"], s["who"]["dob"]),
                (t["case"], s["who"]["case"]),
                (t["destination"], destination_name(s["to"], lang, bare=True)),
                (t["flight"], f"{s['flight']}, {s['departs']}"),
                (t["until"], s["until"]),
            ],
            label_width=52,
        )
        doc.paragraph(t["statement"].format(destination=destination_name(s["to"], lang)))
    if cert.revoked_at is not None:
        doc.ln(2)
        doc.set_text_color(170, 0, 0)
        doc.heading(" / ".join(TEXTS[lang]["revoked"] for lang in languages))
        doc.set_text_color(0)
    doc.ln(2)
    y = doc.get_y()
    doc.image(_qr_png(token(cert.statement, cert.signature)), x=doc.l_margin, y=y, w=38)
    doc.set_xy(doc.l_margin + 44, y + 2)
    doc.set_font("DejaVu", "B", 13)
    doc.cell(0, 8, cert.code)
    doc.set_xy(doc.l_margin + 44, y + 11)
    lines = [TEXTS[lang]["verify"].format(url=verify_url, code=cert.code) for lang in languages]
    doc.set_font("DejaVu", "", 8.5)
    doc.multi_cell(0, 4.5, "\n".join(lines))
    doc.set_y(y + 42)


def _pdf(certs: list[Certificate], destination: str, centre: str) -> bytes:
    languages = context.policy(destination).languages or ("en",)
    title = " / ".join(TEXTS[lang]["doc_title"] for lang in languages)
    doc = Document(title, centre)
    for i, cert in enumerate(certs):
        if i:
            doc.add_page()
        _page(doc, cert, languages, "/verify")
    return doc.render()


def render_certificate(session: Session, actor: Actor, applicant_id: uuid.UUID) -> bytes:
    """The traveller's standing clearance certificate as PDF: for the pages, the API and the
    export bundle. Printing never issues one: issuing is a signature (issue_certificate)."""
    actor.check("travel:write")
    _, row, applicant, _ = traveller_on_board(session, actor, applicant_id)
    cert = row.certificates.get(applicant.id)
    if cert is None or cert.revoked_at is not None:
        if applicant.id not in row.readiness.certifiable:
            raise ClearanceBlocked(
                "Certificates cannot be generated while a blocker is open: see the departure board."
            )
        raise Conflict(
            "No certificate has been issued for this traveller yet: issue it on the traveller "
            "page, signed with your password.",
            code="travel.certificate_not_issued",
        )
    departure = session.get(Departure, cert.departure_id)
    assert departure is not None
    applicant = cases.load_applicant(session, actor, applicant_id)
    audit.record(session, actor, "print", "certificate", cert.id, site_id=departure.site_id)
    return _pdf([cert], departure.destination, applicant.case.site.name)


def render_case_certificates(
    session: Session, actor: Actor, case_id: uuid.UUID, signature: Signature | None = None
) -> bytes:
    """Every traveller's certificate of a case in one PDF, one page each."""
    certs = issue_case_certificates(session, actor, case_id, signature)
    case = cases.load_case(session, actor, case_id)
    for cert in certs:
        audit.record(session, actor, "print", "certificate", cert.id, site_id=case.site_id)
    return _pdf(certs, case.destination.value, case.site.name)


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    status: str  # valid, revoked, expired, unknown, forged, other_key
    statement: dict[str, Any] | None = None
    revoked_on: date | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def verify(session: Session, text: str) -> Verification:
    """Check a verification code or a QR token: its signature, and whether it still stands.
    Public: it tells who, what and until when, never a health detail."""
    text = text.strip()
    parsed = parse_token(text)
    code = parsed[0].get("code") if parsed else text.upper()
    cert = session.scalar(select(Certificate).where(Certificate.code == str(code)))
    key = signer()
    if cert is not None and cert.key_id != key.key_id:
        return Verification("other_key")  # the signing key was replaced since
    if parsed is not None:
        statement, signature = parsed
        if not key.verify(statement, signature):
            return Verification("forged")
        if cert is None:
            return Verification("unknown")
    elif cert is None:
        return Verification("unknown")
    else:
        statement = cert.statement
        if not key.verify(statement, cert.signature):
            return Verification("forged")
    audit.record(session, Actor.system("verify"), "verify", "certificate", cert.id)
    if cert.revoked_at is not None:
        return Verification("revoked", statement, cert.revoked_at.date())
    if cert.valid_until < utcnow().date():
        return Verification("expired", statement)
    return Verification("valid", statement)
