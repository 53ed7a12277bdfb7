"""The certificate registry: receiving authorities' encryption certificates per destination (with
rotation), the centre's signing key, and on the receiving side its own keys and the sending
centres it trusts. Private keys are kept encrypted with a key derived from the audit key."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases.models import Site
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
    sender_code: str | None = None,
) -> ExportCertificate:
    """Register a certificate (with its private key for our own signing or decryption keys);
    a trusted sender's names the centre it signs for (`sender_code`, the centre's site code)."""
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
            cert, stored_key = envelope.load_uploaded_certificate(cert_pem), None
            if purpose == Purpose.ENCRYPTION:
                envelope.check_recipient(cert)
    except EnvelopeError as exc:
        raise ValidationFailed(errors={"certificate": [exc.message]}, code=exc.code) from None
    if purpose == Purpose.SIGNING and site_id is None:
        raise ValidationFailed(errors={"site": ["A signing key belongs to a site."]})
    if purpose != Purpose.SIGNING and not destination:
        raise ValidationFailed(errors={"destination": ["Give the authority's destination."]})
    sender_code = (sender_code or "").strip().upper() or None
    if purpose == Purpose.TRUSTED_SENDER and not (
        sender_code and len(sender_code) <= 16 and sender_code.replace("-", "").isalnum()
    ):
        raise ValidationFailed(
            errors={"sender": ["Name the centre this key signs for: its site code, e.g. IST."]}
        )
    if cert.not_valid_after_utc <= utcnow():
        raise ValidationFailed(
            errors={"certificate": ["The certificate has expired."]}, code="exports.expired"
        )
    if use_from is not None and use_from >= cert.not_valid_after_utc.date():
        raise ValidationFailed(
            errors={"use_from": ["The first day of use is after the certificate expires."]},
            code="exports.use_after_expiry",
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
        sender_code=sender_code if purpose == Purpose.TRUSTED_SENDER else None,
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


@dataclass(frozen=True)
class Listed:
    row: ExportCertificate
    status: str  # in_use | scheduled | replaced | expired | not_yet_valid


@dataclass(frozen=True)
class Registry:
    authorities: dict[str, list[Listed]]  # destination -> its certificates, newest first
    signing: list[tuple[str, Listed]]  # (site code, the centre's certificate)


def _status(row: ExportCertificate, current: ExportCertificate | None, today: dt.date) -> str:
    if today >= row.not_after.date():
        return "expired"
    if current is not None and row.id == current.id:
        return "in_use"
    if row.use_from > today:
        return "scheduled"
    if row.not_before.date() > today:
        return "not_yet_valid"
    return "replaced"


def _current(rows: list[ExportCertificate], today: dt.date) -> ExportCertificate | None:
    """The rule of `recipient` and `signer`: the newest whose first day of use has come."""
    for row in rows:  # newest use_from first
        if row.use_from <= today and row.not_before.date() <= today < row.not_after.date():
            return row
    return None


def registry(
    session: Session, actor: Actor, destinations: Sequence[str], today: dt.date
) -> Registry:
    """Every destination's authority certificates with the one in use today, and the centres'
    signing certificates (public parts only; audited)."""
    actor.check("exports:keys")
    authorities: dict[str, list[Listed]] = {}
    for destination in sorted({*destinations, *_destinations(session)}):
        rows = _rows(session, Purpose.ENCRYPTION, destination=destination)
        current = _current(rows, today)
        authorities[destination] = [Listed(r, _status(r, current, today)) for r in rows]
    signing: list[tuple[str, Listed]] = []
    for site_id, code in session.execute(select(Site.id, Site.code).order_by(Site.code)):
        rows = _rows(session, Purpose.SIGNING, site_id=site_id)
        current = _current(rows, today)
        signing.extend((code, Listed(r, _status(r, current, today))) for r in rows)
    audit.record(
        session,
        actor,
        "read",
        "export_certificates",
        None,
        details={"rows": sum(map(len, authorities.values())) + len(signing)},
    )
    return Registry(authorities, signing)


def _destinations(session: Session) -> list[str]:
    return [
        d
        for d in session.scalars(
            select(ExportCertificate.destination)
            .where(ExportCertificate.purpose == Purpose.ENCRYPTION)
            .distinct()
        )
        if d
    ]


def upload_authority_certificate(
    session: Session,
    actor: Actor,
    destinations: Sequence[str],
    destination: str,
    data: bytes,
    use_from: dt.date | None,
) -> ExportCertificate:
    """Register an authority's encryption certificate uploaded on the page (PEM or DER)."""
    actor.check("exports:keys")
    if destination not in destinations:
        raise ValidationFailed(errors={"destination": ["Choose the authority's destination."]})
    if not data:
        raise ValidationFailed(errors={"certificate": ["Choose the certificate file."]})
    return add_certificate(
        session, actor, Purpose.ENCRYPTION, data, destination=destination, use_from=use_from
    )
