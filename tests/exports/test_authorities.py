"""The receiving authorities' page: certificates per destination with the one in use, upload of a
new certificate (PEM or DER) with rotation, and each bad upload refused with nothing written."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from pmha.core.audit import AuditEvent
from pmha.exports import envelope, keys
from pmha.exports.models import ExportCertificate
from tests.conftest import csrf_token
from tests.exports import keyring

NOW = dt.datetime.now(dt.UTC)


def post(client, data):
    page = client.get("/exports/authorities")
    return client.post(
        "/exports/authorities",
        data={**data, "csrf_token": csrf_token(page.text)},
        content_type="multipart/form-data",
    )


def count(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ExportCertificate))


def certificate(
    key, *, days: int = 365, started_days_ago: int = 1, encipherment: bool = True
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "NZ test authority")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=started_days_ago))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=encipherment,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def test_the_page_lists_each_authority_with_the_certificate_in_use(signed_in, session, world):
    keyring.install(session, world)
    session.commit()
    page = signed_in("admin").get("/exports/authorities")
    assert page.status_code == 200
    assert "US authority" in page.text and "In use" in page.text
    assert "bundles already sent to the old one still open" in page.text  # the rotation rule
    assert "PMHA IST test centre" in page.text  # the centre's signing certificate
    assert "BEGIN" not in page.text  # no key or certificate body on the page
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "export_certificates")
    ).all()
    assert [e.action for e in events] == ["read"]


def test_a_der_certificate_is_uploaded_and_used_from_its_first_day(signed_in, session, world):
    keyring.install(session, world)
    session.commit()
    old = keys.recipient(session, "US", NOW.date())
    new = keyring.pair("US authority 2027")
    start = NOW.date() + dt.timedelta(days=30)
    der = new.certificate.public_bytes(serialization.Encoding.DER)
    admin = signed_in("admin")
    response = post(
        admin,
        {
            "destination": "US",
            "use_from": start.isoformat(),
            "certificate": (io.BytesIO(der), "a.cer"),
        },
    )
    assert response.status_code == 302, response.text
    page = admin.get("/exports/authorities")
    assert f"Used from {start.isoformat()}" in page.text
    session.expire_all()
    assert keys.recipient(session, "US", NOW.date()).id == old.id  # until its first day
    assert keys.recipient(session, "US", start).fingerprint == envelope.fingerprint(new.certificate)
    created = session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "export_certificate", AuditEvent.action == "create"
        )
    ).all()
    assert any(e.actor_name == world.users["admin"].username for e in created)


def _bad_uploads():
    expired = keyring.pair("expired authority", days_valid=-1, started_days_ago=30)
    yield "not a certificate", b"hello, not a certificate", {}, "not an X.509 certificate"
    yield "expired", pem(expired.certificate), {}, "has expired"
    yield (
        "ec key",
        pem(certificate(ec.generate_private_key(ec.SECP256R1()))),
        {},
        "must be an RSA key",
    )
    yield (
        "short rsa key",
        pem(certificate(rsa.generate_private_key(public_exponent=65537, key_size=1024))),
        {},
        "shorter than 2048 bits",
    )
    yield (
        "no key encipherment",
        pem(certificate(keyring.pair("signing only").private_key, encipherment=False)),
        {},
        "does not allow encryption",
    )
    yield "no file", b"", {}, "Choose the certificate file"
    yield (
        "unknown destination",
        pem(keyring.pair("NZ authority").certificate),
        {"destination": "XX"},
        "Choose the authority",
    )
    yield (
        "first use after expiry",
        pem(keyring.pair("NZ authority").certificate),
        {"use_from": (NOW + dt.timedelta(days=400)).date().isoformat()},
        "after the certificate expires",
    )
    yield (
        "bad date",
        pem(keyring.pair("NZ authority").certificate),
        {"use_from": "next week"},
        "YYYY-MM-DD",
    )


@pytest.mark.parametrize(
    ("data", "extra", "message"),
    [case[1:] for case in _bad_uploads()],
    ids=[case[0] for case in _bad_uploads()],
)
def test_a_bad_upload_is_refused_in_words_and_nothing_is_written(
    signed_in, session, world, data, extra, message
):
    keyring.install(session, world)
    session.commit()
    before = count(session)
    form = {"destination": "US", "use_from": "", **extra}
    if data:
        form["certificate"] = (io.BytesIO(data), "authority.pem")
    response = post(signed_in("admin"), form)
    assert response.status_code == 422
    assert message in response.text
    assert 'role="alert"' in response.text  # the error summary
    assert count(session) == before
    assert not session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "export_certificate",
            AuditEvent.action == "create",
            AuditEvent.actor_name == world.users["admin"].username,
        )
    ).all()


def test_the_same_certificate_twice_is_refused(signed_in, session, world):
    keyring.install(session, world)
    session.commit()
    before = count(session)
    data = pem(keyring.pair("US authority").certificate)
    response = post(
        signed_in("admin"),
        {"destination": "US", "use_from": "", "certificate": (io.BytesIO(data), "a.pem")},
    )
    assert response.status_code == 409
    assert "registered already" in response.text
    assert count(session) == before


@pytest.mark.parametrize("role", ["operations", "panel_physician", "receiving_authority"])
def test_only_an_administrator_manages_the_certificates(signed_in, role):
    assert signed_in(role).get("/exports/authorities").status_code == 403
