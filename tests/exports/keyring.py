"""Key pairs for export tests (made once per run: RSA key generation is slow) and their setup."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.exports import envelope, keys
from pmha.exports.envelope import KeyPair
from pmha.exports.models import Purpose
from tests.factories import World

SYSTEM = Actor.system("tests")
NOW = dt.datetime.now(dt.UTC)


@functools.cache
def pair(name: str, days_valid: int = 365, started_days_ago: int = 1) -> KeyPair:
    return envelope.make_key_pair(
        name,
        NOW - dt.timedelta(days=started_days_ago),
        NOW + dt.timedelta(days=days_valid),
    )


def pem(p: KeyPair) -> tuple[bytes, bytes]:
    return envelope.cert_pem(p.certificate), envelope.key_pem(p.private_key)


def install(session: Session, world: World, destination: str = "US") -> None:
    """The centre's signing key at IST and, for `destination`, the authority's certificate at
    the centre and its key and trust in the centre on the receiving side (one database)."""
    centre, authority = pair("PMHA IST test centre"), pair(f"{destination} authority")
    cert, key = pem(centre)
    keys.add_certificate(session, SYSTEM, Purpose.SIGNING, cert, key_pem=key, site_id=world.home.id)
    keys.add_certificate(session, SYSTEM, Purpose.TRUSTED_SENDER, cert, destination=destination,
                         sender_code="IST")  # fmt: skip
    cert, key = pem(authority)
    keys.add_certificate(session, SYSTEM, Purpose.ENCRYPTION, cert, destination=destination)
    keys.add_certificate(session, SYSTEM, Purpose.DECRYPTION, cert, key_pem=key,
                         destination=destination)  # fmt: skip


def write_pems(directory: Path) -> dict[str, Path]:
    """The test centre's and authority's PEM files, for the openssl command line."""
    out = {}
    for label, p in (("centre", pair("PMHA IST test centre")), ("authority", pair("US authority"))):
        cert, key = pem(p)
        (directory / f"{label}.pem").write_bytes(cert)
        (directory / f"{label}.key").write_bytes(key)
        out[f"{label}.pem"], out[f"{label}.key"] = (
            directory / f"{label}.pem",
            directory / f"{label}.key",
        )
    return out
