"""Demo keys for export bundles: a signing key per demo site and, per destination, a synthetic
receiving authority (its certificate at the centre; its key and its trust in the centres on the
receiving side, since the demo runs both sides in one database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from pmha.cases.models import Destination, Site
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.exports import envelope, keys
from pmha.exports.models import Purpose


def seed(session: Session, actor: Actor, sites: Sequence[Site], bits: int = 2048) -> None:
    """Register demo certificates, valid from yesterday for two years."""
    start = utcnow() - dt.timedelta(days=1)
    end = start + dt.timedelta(days=730)
    centres = []
    for site in sites:
        pair = envelope.make_key_pair(f"PMHA {site.code} demo centre", start, end, bits=bits)
        keys.add_certificate(
            session,
            actor,
            Purpose.SIGNING,
            envelope.cert_pem(pair.certificate),
            key_pem=envelope.key_pem(pair.private_key),
            site_id=site.id,
        )
        centres.append(envelope.cert_pem(pair.certificate))
    for destination in Destination:
        pair = envelope.make_key_pair(
            f"{destination.value} demo health authority", start, end, bits=bits
        )
        cert = envelope.cert_pem(pair.certificate)
        keys.add_certificate(session, actor, Purpose.ENCRYPTION, cert, destination=destination)
        keys.add_certificate(
            session,
            actor,
            Purpose.DECRYPTION,
            cert,
            destination=destination,
            key_pem=envelope.key_pem(pair.private_key),
        )
        for centre in centres:
            keys.add_certificate(
                session, actor, Purpose.TRUSTED_SENDER, centre, destination=destination
            )
