"""The certificate registry: rotation by start date, old keys still decrypt, bad input refused."""

from __future__ import annotations

import datetime as dt

import pytest

from pmha.core.errors import AppError
from pmha.exports import envelope, keys
from pmha.exports.models import Purpose
from tests.exports.keyring import SYSTEM, pair, pem

TODAY = dt.date.today()


def add_authority(session, name: str, use_from: dt.date) -> None:
    cert, key = pem(pair(name))
    keys.add_certificate(
        session, SYSTEM, Purpose.ENCRYPTION, cert, destination="NZ", use_from=use_from
    )
    keys.add_certificate(
        session, SYSTEM, Purpose.DECRYPTION, cert, key_pem=key, destination="NZ", use_from=use_from
    )


def test_a_new_certificate_is_used_from_its_start_date(session, world):
    add_authority(session, "NZ authority 2025", TODAY - dt.timedelta(days=1))
    add_authority(session, "NZ authority 2026", TODAY + dt.timedelta(days=30))
    fingerprint = envelope.fingerprint(pair("NZ authority 2025").certificate)
    assert keys.recipient(session, "NZ", TODAY).fingerprint == fingerprint
    later = TODAY + dt.timedelta(days=31)
    newer = envelope.fingerprint(pair("NZ authority 2026").certificate)
    assert keys.recipient(session, "NZ", later).fingerprint == newer


def test_after_a_rotation_the_old_key_still_decrypts(session, world):
    add_authority(session, "NZ authority 2025", TODAY - dt.timedelta(days=1))
    sealed_before = envelope.seal(
        b"older bundle", pair("PMHA IST test centre"), pair("NZ authority 2025").certificate
    )
    add_authority(session, "NZ authority 2026", TODAY)
    signed = envelope.decrypt(sealed_before, keys.decryption_keys(session, "NZ"))
    trusted = [pair("PMHA IST test centre").certificate]
    assert envelope.verify(signed, trusted).content == b"older bundle"


def test_an_expired_certificate_is_refused(session, world):
    old = pair("Old authority", days_valid=-2, started_days_ago=300)
    with pytest.raises(AppError) as caught:
        keys.add_certificate(session, SYSTEM, Purpose.ENCRYPTION, pem(old)[0], destination="NZ")
    assert caught.value.code == "exports.expired"


def test_a_key_that_is_not_the_certificates_is_refused(session, world):
    cert, _ = pem(pair("NZ authority 2025"))
    _, other_key = pem(pair("Someone else"))
    with pytest.raises(AppError) as caught:
        keys.add_certificate(
            session, SYSTEM, Purpose.DECRYPTION, cert, key_pem=other_key, destination="NZ"
        )
    assert caught.value.code == "exports.bad_key"
    assert "does not match" in caught.value.errors["certificate"][0]


def test_not_a_certificate_is_refused(session, world):
    with pytest.raises(AppError) as caught:
        keys.add_certificate(session, SYSTEM, Purpose.ENCRYPTION, b"hello", destination="NZ")
    assert caught.value.code == "exports.bad_certificate"


def test_private_keys_are_kept_encrypted(session, world):
    add_authority(session, "NZ authority 2025", TODAY)
    rows = [r for r in keys.certificates(session) if r.purpose == Purpose.DECRYPTION]
    assert rows and all("ENCRYPTED PRIVATE KEY" in (r.key_pem or "") for r in rows)
