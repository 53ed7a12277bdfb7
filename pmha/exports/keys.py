"""The certificate registry: receiving authorities' encryption certificates per destination (with
rotation), the centre's signing key, and on the receiving side its own keys and the sending
centres it trusts. Private keys are kept encrypted with a key derived from the audit key."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, ValidationFailed
from pmha.exports import envelope
from pmha.exports.envelope import EnvelopeError, KeyPair
from pmha.exports.models import ExportCertificate, Purpose

WITH_KEY = frozenset({Purpose.SIGNING, Purpose.DECRYPTION})


class NoCertificate(Conflict):
    code = "exports.no_certificate"
    title = "No certificate"


def _password(session: Session) -> bytes:
    key = audit.session_key(session)
    return hmac.new(key, b"pmha export keys", hashlib.sha256).hexdigest().encode()


def add_certificate(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    cert_pem: bytes,
    *,
    key_pem: bytes | None = None,
    destination: str | None = None,
    site_id: uuid.UUID | None = None,
    use_from: dt.date | None = None,
    label: str = "",
) -> ExportCertificate:
    """Register a certificate (with its private key for our own signing or decryption keys)."""
    try:
        if purpose in WITH_KEY:
            if key_pem is None:
                raise EnvelopeError("exports.bad_key", "This certificate needs its private key.")
            pair = envelope.load_key_pair(cert_pem, key_pem)
            cert, stored_key = (
                pair.certificate,
                envelope.key_pem(pair.private_key, _password(session)),
            )
        else:
            cert, stored_key = envelope.load_certificate(cert_pem), None
    except EnvelopeError as exc:
        raise ValidationFailed(errors={"certificate": [exc.message]}, code=exc.code) from None
    if purpose == Purpose.SIGNING and site_id is None:
        raise ValidationFailed(errors={"site": ["A signing key belongs to a site."]})
    if purpose != Purpose.SIGNING and not destination:
        raise ValidationFailed(errors={"destination": ["Give the authority's destination."]})
    if cert.not_valid_after_utc <= utcnow():
        raise ValidationFailed(
            errors={"certificate": ["The certificate has expired."]}, code="exports.expired"
        )
    fingerprint = envelope.fingerprint(cert)
    if session.scalar(
        select(ExportCertificate.id).where(
            ExportCertificate.purpose == purpose,
            ExportCertificate.fingerprint == fingerprint,
            ExportCertificate.destination == destination
            if destination
            else ExportCertificate.destination.is_(None),
        )
    ):
        raise Conflict("This certificate is registered already.", code="exports.duplicate")
    row = ExportCertificate(
        purpose=purpose,
        destination=destination,
        site_id=site_id,
        label=label or cert.subject.rfc4514_string()[:120],
        fingerprint=fingerprint,
        cert_pem=envelope.cert_pem(cert).decode(),
        key_pem=stored_key.decode() if stored_key else None,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        use_from=use_from or cert.not_valid_before_utc.date(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "export_certificate",
        row.id,
        site_id=site_id,
        details={"purpose": purpose.value, "destination": destination, "fingerprint": fingerprint},
    )
    return row


def _rows(session: Session, purpose: Purpose, **where: object) -> list[ExportCertificate]:
    query = select(ExportCertificate).where(ExportCertificate.purpose == purpose)
    for name, value in where.items():
        query = query.where(getattr(ExportCertificate, name) == value)
    return list(session.scalars(query.order_by(ExportCertificate.use_from.desc())))


def recipient(session: Session, destination: str, today: dt.date) -> ExportCertificate:
    """The authority's certificate in use today: the newest whose start date has come."""
    for row in _rows(session, Purpose.ENCRYPTION, destination=destination):
        if row.use_from <= today and row.not_before.date() <= today < row.not_after.date():
            return row
    raise NoCertificate(
        "No valid certificate of the receiving authority is registered for this destination.",
        code="exports.no_authority_certificate",
    )


def _pair(session: Session, row: ExportCertificate) -> KeyPair:
    assert row.key_pem is not None
    return envelope.load_key_pair(row.cert_pem.encode(), row.key_pem.encode(), _password(session))


def signer(
    session: Session, site_id: uuid.UUID, today: dt.date
) -> tuple[ExportCertificate, KeyPair]:
    """The centre's signing key in use today."""
    for row in _rows(session, Purpose.SIGNING, site_id=site_id):
        if row.use_from <= today and row.not_before.date() <= today < row.not_after.date():
            return row, _pair(session, row)
    raise NoCertificate("This centre has no valid signing key.", code="exports.no_signing_key")


def decryption_keys(session: Session, destination: str) -> list[KeyPair]:
    """Every key of the authority: after a rotation the old one still opens older bundles."""
    return [
        _pair(session, row) for row in _rows(session, Purpose.DECRYPTION, destination=destination)
    ]


def trusted_senders(session: Session, destination: str) -> list[ExportCertificate]:
    return _rows(session, Purpose.TRUSTED_SENDER, destination=destination)


def certificates(session: Session) -> list[ExportCertificate]:
    return list(
        session.scalars(
            select(ExportCertificate).order_by(
                ExportCertificate.purpose, ExportCertificate.destination, ExportCertificate.use_from
            )
        )
    )
