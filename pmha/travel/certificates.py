"""Fitness-to-travel clearance certificates: issued only while nothing blocks the traveller,
signed (who, what, until when; no health details), printed in English and the destination's
language where it differs, and verifiable by code or QR. Revoked certificates say so.
"""

from __future__ import annotations

import base64
import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.accounts.signatures import Signature
from pmha.cases import service as cases
from pmha.cases.models import Applicant, DocumentType
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import AppError, Conflict
from pmha.core.pdf import Document
from pmha.travel import context, handover
from pmha.travel.departures import CaseRow, build_board, traveller_on_board
from pmha.travel.models import Certificate, CertificateKey, Departure
from pmha.travel.signing import (
    Signer,
    SigningKeyMissing,
    load_signer,
    parse_token,
    public_from_b64,
    retired_keys,
    token,
)
from pmha.travel.texts import TEXTS, destination_name
from pmha.travel.verifier import VerifyError, b64url, check, jwk, kid_of, raw_public

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


class ClearanceBlocked(Conflict):
    code = "travel.clearance_blocked"
    title = "The traveller is not cleared to travel"


def signer() -> Signer:
    config = current_app.extensions["pmha.config"]
    return load_signer(config.CERTIFICATE_KEY, config.production, config.STORAGE_DIR)


def verify_url() -> str:
    """The public verification page, in full (PMHA_PUBLIC_URL): printed on the certificate."""
    return str(current_app.extensions["pmha.config"].PUBLIC_URL).rstrip("/") + "/verify"


def record_key(session: Session, key: Signer) -> None:
    """Keep the public half of a key that signs, so the key list publishes it for ever."""
    if session.get(CertificateKey, key.key_id) is None:
        session.add(CertificateKey(key_id=key.key_id, public_key=b64url(raw_public(key.public))))
        session.flush()


def published_keys(session: Session) -> dict[bytes, tuple[Ed25519PublicKey, str]]:
    """Every key a certificate may have been signed with, by kid, and whether it is the current
    one: the configured key, the retired ones configured or kept under storage, and every key
    recorded as having signed."""
    config = current_app.extensions["pmha.config"]
    try:
        current: Signer | None = signer()
    except SigningKeyMissing:  # nothing signs today: what signed before still verifies
        current = None
    found: dict[bytes, tuple[Ed25519PublicKey, str]] = {}
    for row in session.scalars(select(CertificateKey).order_by(CertificateKey.first_used_at)):
        key = public_from_b64(row.public_key)
        found[kid_of(key)] = (key, "retired")
    for key in retired_keys(config.CERTIFICATE_OLD_KEYS, config.STORAGE_DIR):
        found[kid_of(key)] = (key, "retired")
    if current is not None:
        found[current.kid] = (current.public, "current")
    return found


def key_list(session: Session) -> dict[str, Any]:
    """The published key list (a JWK Set, RFC 7517 section 5): what the offline verifier and a
    receiving authority need to check any certificate this service ever issued."""
    keys = published_keys(session)
    return {
        "issuer": current_app.extensions["pmha.config"].PUBLIC_URL.rstrip("/"),
        "format": "COSE_Sign1 (EdDSA), zlib, base45, prefix HC1:; kid = SHA-256(raw key)[:8]",
        "keys": [jwk(key, status) for key, status in keys.values()],
    }


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"TRV-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class SignatoryUnregistered(AppError):
    status = 422
    code = "travel.signatory_unregistered"
    title = "The certificate needs a registered physician's signature"


# A travel document stands in for a passport when the traveller has none (refugees).
_DOCUMENTS = (DocumentType.PASSPORT, DocumentType.TRAVEL_DOCUMENT, DocumentType.REFUGEE_ID,
              DocumentType.NATIONAL_ID)  # fmt: skip


def _document(applicant: Applicant) -> dict[str, str] | None:
    for kind in _DOCUMENTS:
        for doc in applicant.documents:
            if doc.doc_type == kind:
                return {"type": kind.value, "number": doc.number, "country": doc.issuing_country}
    return None


def _statement(
    code: str,
    applicant: Applicant,
    departure: Departure,
    until: date,
    signature: Signature | None,
) -> dict[str, Any]:
    site = applicant.case.site
    statement: dict[str, Any] = {
        "v": 2,
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
        "by": site.code,
        "centre": site.name,
    }
    document = _document(applicant)
    if document is not None:
        statement["who"]["document"] = document
    if signature is not None:
        statement["signatory"] = {
            "name": signature.full_name,
            "role": signature.role_words,
            "registration": signature.registration_number,
        }
    return statement


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
    if signature is not None and not (signature.registration_number or "").strip():
        raise SignatoryUnregistered(
            "A clearance certificate names the physician who signs it and their registration "
            f"number, and {signature.full_name} ({signature.role_words}) has none: ask a panel "
            "physician to issue it.",
            errors={"password": ["Only a physician with a registration number can sign this."]},
        )
    traveller = next(t for a, t in row.travellers if a.id == applicant.id)
    until = traveller.valid_until or departure.departs_at.date()
    key = signer()
    code = new_code()
    statement = _statement(code, applicant, departure, until, signature)
    issued = utcnow()
    expires = datetime.combine(until, time(23, 59, 59), UTC)
    issuer = current_app.extensions["pmha.config"].PUBLIC_URL.rstrip("/")
    signed_code, _ = key.sign_code(statement, issuer, issued, expires)
    record_key(session, key)
    cert = Certificate(
        code=code,
        applicant_id=applicant.id,
        departure_id=departure.id,
        statement=statement,
        # the statement's own signature too: an older PMHA1 verifier still reads it
        signature=key.sign(statement),
        signed_code=signed_code,
        key_id=key.key_id,
        valid_until=until,
        issued_at=issued,
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


def code_of(cert: Certificate) -> str:
    """What the QR code holds: the signed code as issued (or the older PMHA1 form)."""
    return cert.signed_code or token(cert.statement, cert.signature)


def _document_line(doc: dict[str, str], lang: str) -> tuple[str, str]:
    label = TEXTS[lang]["passport" if doc["type"] == "passport" else "document"]
    return label, f"{doc['number']} ({doc['country']})"


def _page(doc: Document, cert: Certificate, languages: tuple[str, ...], verify_url: str) -> None:
    """One certificate: the same statement in each language, each part whole (its own labels,
    signatory and verification line) and set in its script's direction: Arabic right to left."""
    s = cert.statement
    who = s["who"]
    signatory = s.get("signatory")
    for n, lang in enumerate(languages):
        t = TEXTS[lang]
        with doc.language(lang):
            if n:
                doc.ln(2)
            doc.heading(t["title"])
            rows = [(t["name"], who["name"]), (t["dob"], who["dob"])]
            if who.get("document"):
                rows.append(_document_line(who["document"], lang))
            rows += [
                (t["case"], who["case"]),
                (t["destination"], destination_name(s["to"], lang, bare=True)),
                (t["flight"], f"{s['flight']}, {s['departs']}"),
                (t["until"], s["until"]),
            ]
            if signatory:
                reg = signatory.get("registration") or ""
                rows += [
                    (t["signatory"], signatory["name"]),
                    (t["registration"], f"{reg} ({signatory['role']})"),
                    (t["issued"], f"{s['issued']}, {s.get('centre') or s['by']}"),
                ]
            doc.fields(rows, label_width=52)
            doc.paragraph(t["statement"].format(destination=destination_name(s["to"], lang)))
            if cert.revoked_at is not None:
                doc.set_text_color(170, 0, 0)
                doc.heading(t["revoked"])
                doc.set_text_color(0)
    doc.ln(2)
    if doc.get_y() > doc.h - doc.b_margin - 50:
        doc.add_page()
    y = doc.get_y()
    doc.image(_qr_png(code_of(cert)), x=doc.l_margin, y=y, w=44)
    doc.set_xy(doc.l_margin + 50, y + 2)
    doc.set_font("DejaVu", "B", 13)
    doc.cell(0, 8, cert.code)
    doc.set_y(y + 11)
    for lang in languages:
        with doc.language(lang):
            doc.set_x(doc.l_margin + 50)
            doc.set_font(doc.family, "", 8.5)
            t = TEXTS[lang]
            if lang in RTL:
                doc.multi_cell(0, 4.5, doc.runs(t["verify_printed"]), align=doc.align)
                doc.set_x(doc.l_margin + 50)
                doc.multi_cell(0, 4.5, verify_url, align=doc.align)
            else:
                text = t["verify"].format(url=verify_url, code=cert.code)
                doc.multi_cell(0, 4.5, doc.runs(text), align=doc.align)
    doc.set_x(doc.l_margin + 50)
    doc.set_font("DejaVu", "", 8.5)
    doc.multi_cell(0, 4.5, f"Key id (kid): {base64.b64encode(bytes.fromhex(cert.key_id)).decode()}")
    doc.set_y(max(doc.get_y(), y + 48))


RTL = frozenset({"ar"})


def certificate_languages(destination: str, applicant_language: str | None) -> tuple[str, ...]:
    """English and the destination's language (policy), then the applicant's own language
    (Turkish or Arabic) when it is not among them: the traveller can read what they carry."""
    languages = tuple(context.policy(destination).languages or ("en",))
    if applicant_language in TEXTS and applicant_language not in languages:
        languages += (applicant_language,)
    return languages


def _pdf(certs: list[tuple[Certificate, str | None]], destination: str, centre: str) -> bytes:
    first = certificate_languages(destination, certs[0][1])
    # The running header is set left to right in the Latin font: right-to-left titles stay in
    # their own part of the page.
    title = " / ".join(TEXTS[lang]["doc_title"] for lang in first if lang not in RTL)
    doc = Document(title, centre)
    for i, (cert, language) in enumerate(certs):
        if i:
            doc.add_page()
        _page(doc, cert, certificate_languages(destination, language), verify_url())
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
    return _pdf(
        [(cert, applicant.preferred_language)], departure.destination, applicant.case.site.name
    )


def render_case_certificates(
    session: Session, actor: Actor, case_id: uuid.UUID, signature: Signature | None = None
) -> bytes:
    """Every traveller's certificate of a case in one PDF, one page each."""
    certs = issue_case_certificates(session, actor, case_id, signature)
    case = cases.load_case(session, actor, case_id)
    for cert in certs:
        audit.record(session, actor, "print", "certificate", cert.id, site_id=case.site_id)
    spoken = {a.id: a.preferred_language for a in case.applicants}
    return _pdf(
        [(c, spoken.get(c.applicant_id)) for c in certs], case.destination.value, case.site.name
    )


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    status: str  # valid, revoked, expired, unknown, forged, other_key, malformed
    statement: dict[str, Any] | None = None
    revoked_on: date | None = None
    message: str = ""  # why, in words, when the code itself does not verify
    kid: str = ""  # base64, as the key list writes it

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def _keys(session: Session) -> dict[bytes, Ed25519PublicKey]:
    return {kid: key for kid, (key, _) in published_keys(session).items()}


def verify(session: Session, text: str) -> Verification:
    """Check a verification code or a signed code (the QR's `HC1:...`, or an older PMHA1
    token) against every key ever published, and whether the certificate still stands.
    Public: it tells who, what and until when, never a health detail."""
    text = text.strip()
    keys = _keys(session)
    if text.startswith(("HC1:", "PMHA1.")):
        try:
            checked = check(text, keys)
        except VerifyError as exc:
            status = "other_key" if exc.status == "unknown_key" else exc.status
            if exc.status == "forged" and (parsed := parse_token(text)) is not None:
                # a PMHA1 code names no key: its certificate's key may not be published
                cert = session.scalar(
                    select(Certificate).where(Certificate.code == str(parsed[0].get("code")))
                )
                if cert is not None and bytes.fromhex(cert.key_id) not in keys:
                    status = "other_key"
            return Verification(status, message=exc.message)
        statement, kid = checked.statement, checked.kid
        cert = session.scalar(select(Certificate).where(Certificate.code == checked.code))
        if cert is None:
            return Verification("unknown", message="No certificate of this service has this code.")
        if cert.key_id != kid.hex() or cert.statement != statement:
            return Verification("forged", message="The code does not match the issued one.")
    else:
        cert = session.scalar(select(Certificate).where(Certificate.code == text.upper()))
        if cert is None:
            return Verification("unknown")
        key = keys.get(bytes.fromhex(cert.key_id))
        if key is None:  # the signing key is not published: nothing can vouch for the row
            return Verification("other_key")
        try:
            checked = check(code_of(cert), {bytes.fromhex(cert.key_id): key})
        except VerifyError as exc:
            return Verification("forged", message=exc.message)
        statement, kid = checked.statement, checked.kid
    audit.record(session, Actor.system("verify"), "verify", "certificate", cert.id)
    words = checked.kid_b64
    if cert.revoked_at is not None:
        return Verification("revoked", statement, cert.revoked_at.date(), kid=words)
    if cert.valid_until < utcnow().date():
        return Verification("expired", statement, kid=words)
    return Verification("valid", statement, kid=words)
