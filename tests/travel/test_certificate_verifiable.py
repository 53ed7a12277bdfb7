"""Verifiable clearance certificates [issue 17]: a standard signed code with a key id, the
published key list, rotation, the older PMHA1 codes, the offline verifier, the signatory.

Sources: eHealth Network, "Electronic Health Certificate Container Format" 1.3 (sections 2-3:
CWT in COSE_Sign1, kid = first 8 bytes of the SHA-256, zlib, base45, prefix HC1:); RFC 9052
sections 3.1 and 4.2-4.4 (COSE_Sign1, alg label 1, kid label 4, Sig_structure); RFC 9053
section 2.2 (EdDSA, alg -8); RFC 8392 section 4 (CWT claims iss 1, exp 4, iat 6, cti 7);
RFC 9285 (base45); RFC 7517 section 5 and RFC 8037 section 2 (JWK Set, OKP Ed25519 keys).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib

import base45
import cbor2
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from pmha.accounts.signatures import trusted_signature
from pmha.cases.models import DocumentType, IdentityDocument
from pmha.cli import main
from pmha.core.errors import AppError
from pmha.travel import certificates, signing, verifier
from pmha.travel.models import Certificate
from tests.conftest import csrf_token
from tests.travel.helpers import booked, clear, departure, family

pytestmark = pytest.mark.usefixtures("in_app")
HEALTH_WORDS = ("tb", "tuberculosis", "class", "x-ray", "pregnan", "temperature", "escort")


@pytest.fixture()
def storage(app, tmp_path, monkeypatch):
    """A signing key of this test's own (the app's is shared by the session's tests)."""
    config = app.extensions["pmha.config"]
    monkeypatch.setattr(config, "STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setattr(config, "CERTIFICATE_OLD_KEYS", "")
    monkeypatch.setattr(config, "PUBLIC_URL", "https://pmha.example.test/")
    return config


@pytest.fixture()
def traveller(session, world, rules):
    """A US refugee with a passport, cleared, on a flight in 2 days."""
    dep = departure(session, world, days=2)
    a = booked(session, world, dep, family(session, world)).applicants[0]
    session.add(
        IdentityDocument(
            applicant_id=a.id,
            doc_type=DocumentType.PASSPORT,
            number="N0012345",
            issuing_country="SY",
        )
    )
    session.flush()
    session.refresh(a)
    clear(session, world, rules, a.id)
    return a


def physician(world):
    return trusted_signature(world.users["panel_physician"], "travel:write")


def issue(session, world, a):
    return certificates.issue_certificate(
        session, world.actor("panel_physician"), a.id, physician(world)
    )


def decode(code: str):
    """The DCC's decoding steps, by hand: prefix, base45, zlib, CBOR tag 18 (COSE_Sign1)."""
    assert code.startswith("HC1:")
    sign1 = cbor2.loads(zlib.decompress(base45.b45decode(code[4:])))
    assert sign1.tag == 18
    protected, unprotected, payload, signature = sign1.value
    return cbor2.loads(protected), dict(unprotected), cbor2.loads(payload), signature


def offline(*args: str):
    return CliRunner().invoke(
        main, ["certificates", "verify-offline", *args], catch_exceptions=False
    )


def test_the_code_is_a_cose_sign1_cwt_with_the_key_id(session, world, storage, traveller):
    cert = issue(session, world, traveller)
    header, unprotected, claims, signature = decode(cert.signed_code)
    key = certificates.signer()
    raw = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert header == {1: -8, 4: hashlib.sha256(raw).digest()[:8]}  # EdDSA; kid in the protected
    assert unprotected == {} and len(signature) == 64
    assert cert.key_id == hashlib.sha256(raw).digest()[:8].hex()
    assert claims[1] == "https://pmha.example.test"  # iss
    assert claims[7] == cert.code.encode()  # cti
    assert claims[6] <= claims[4]  # issued before it expires
    s = claims[verifier.CLAIM_STATEMENT]
    assert s == cert.statement
    assert s["who"]["document"] == {"type": "passport", "number": "N0012345", "country": "SY"}
    assert s["signatory"] == {
        "name": world.users["panel_physician"].full_name,
        "role": "Panel physician",
        "registration": "TEST-MD-0001",
    }
    assert s["what"] == "fit_to_travel" and s["until"] == cert.valid_until.isoformat()
    for word in HEALTH_WORDS:
        assert word not in json.dumps(s).lower()  # who, what, until when: no health details
    assert len(cert.signed_code) < 1200  # fits a QR code a phone reads off paper


def test_a_certificate_issued_before_a_rotation_verifies_after_it(
    session, world, storage, traveller, tmp_path
):
    cert = issue(session, world, traveller)
    old_kid = cert.key_id
    before = certificates.key_list(session)
    old, new = signing.rotate(storage.STORAGE_DIR)
    assert old == old_kid and new != old and certificates.signer().key_id == new
    # online: the page's check, by the signed code and by the short code
    for text in (cert.signed_code, cert.code):
        found = certificates.verify(session, text)
        assert found.status == "valid", found.message
    # the key list keeps the retired key beside the new one
    listed = certificates.key_list(session)
    status = {base64.b64decode(k["kid"]).hex(): k["status"] for k in listed["keys"]}
    assert status == {old: "retired", new: "current"}
    assert before["keys"][0]["x"] in {k["x"] for k in listed["keys"]}
    # offline: the key list alone
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(listed))
    result = offline("--keys", str(keys), "--code", cert.signed_code)
    assert result.exit_code == 0, result.output
    assert "GENUINE" in result.output and "passport N0012345 (SY)" in result.output
    assert "reg. TEST-MD-0001" in result.output
    # a certificate issued after the rotation carries the new kid
    cert.revoked_at = cert.issued_at
    session.flush()
    renewed = issue(session, world, traveller)
    assert renewed.key_id == new and decode(renewed.signed_code)[0][4].hex() == new


def test_a_tampered_code_and_an_unknown_key_fail_with_a_clear_message(
    session, world, storage, traveller, tmp_path
):
    cert = issue(session, world, traveller)
    header, _, claims, signature = decode(cert.signed_code)
    claims[verifier.CLAIM_STATEMENT]["until"] = "2099-12-31"
    protected = cbor2.dumps(header)
    tampered = verifier.encode(protected, cbor2.dumps(claims), signature)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(certificates.key_list(session)))
    result = offline("--keys", str(keys), "--code", tampered)
    assert result.exit_code == 1 and "NOT GENUINE" in result.output
    assert certificates.verify(session, tampered).status == "forged"
    # signed by a key nobody published
    stranger = signing.Signer(Ed25519PrivateKey.generate())
    foreign, _ = stranger.sign_code(cert.statement, "x", cert.issued_at, cert.issued_at)
    result = offline("--keys", str(keys), "--code", foreign)
    assert result.exit_code == 1 and "UNKNOWN KEY" in result.output
    assert "not in the published key list" in result.output
    found = certificates.verify(session, foreign)
    assert found.status == "other_key" and "not in the published key list" in found.message
    # a damaged code, and something that is not a code at all
    for text in (
        cert.signed_code[:60],
        "HC1:" + base45.b45encode(zlib.compress(b"hello")).decode(),
        "https://example.test/",
    ):
        result = offline("--keys", str(keys), "--code", text)
        assert result.exit_code == 1 and "NOT A CERTIFICATE CODE: " in result.output
        assert certificates.verify(session, text).status in {"malformed", "unknown"}


def test_older_pmha1_codes_keep_verifying_with_the_current_or_a_retired_key(
    session, world, storage, traveller, tmp_path, monkeypatch
):
    """Certificates issued before issue 17: no kid, no signed code; the statement and its
    signature rebuild the PMHA1 code."""
    cert = issue(session, world, traveller)
    statement = {k: v for k, v in cert.statement.items() if k not in {"signatory", "centre"}}
    statement["v"] = 1
    key = certificates.signer()
    cert.statement, cert.signature, cert.signed_code = statement, key.sign(statement), None
    session.flush()
    legacy = certificates.code_of(cert)
    assert legacy.startswith("PMHA1.")
    assert certificates.verify(session, legacy).status == "valid"
    # rotated out, and published only by configuration (no recorded row, no retired file)
    retired_pem = signing.public_pem(key.public)
    signing.rotate(storage.STORAGE_DIR)
    for path in (tmp_path / "storage" / signing.RETIRED_DIR).glob("*.pem"):
        path.unlink()
    session.execute(certificates.CertificateKey.__table__.delete())
    for text in (legacy, cert.code):
        assert certificates.verify(session, text).status == "other_key"
    monkeypatch.setattr(storage, "CERTIFICATE_OLD_KEYS", retired_pem.replace("\n", "\\n"))
    for text in (legacy, cert.code):
        assert certificates.verify(session, text).status == "valid"
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(certificates.key_list(session)))
    result = offline("--keys", str(keys), "--code", legacy)
    assert result.exit_code == 0 and "older PMHA1 code" in result.output
    statement["until"] = "2099-12-31"
    forged = signing.token(statement, cert.signature)
    assert certificates.verify(session, forged).status == "forged"
    assert offline("--keys", str(keys), "--code", forged).exit_code == 1


def test_the_retired_keys_setting_reads_public_and_private_pems():
    a, b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = (
        signing.public_pem(a.public_key())
        + "\n"
        + b.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    )
    keys = signing.retired_keys(text, "/nonexistent")
    assert [signing.key_id(k) for k in keys] == [
        signing.key_id(a.public_key()),
        signing.key_id(b.public_key()),
    ]
    rsa_pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMrn6VmTJ0iQfOaqT8Zk0cuQy3m+nHmc"
        "\n-----END PUBLIC KEY-----"
    )
    with pytest.raises(ValueError, match="retired certificate key 1"):
        signing.retired_keys(rsa_pem, "/nonexistent")


def test_only_a_registered_physician_signs_a_certificate(session, world, storage, traveller):
    """A clearance certificate names its signatory and their registration number: an operations
    officer (no registration) is refused with the reason, and nothing is issued."""
    ops = world.users["operations"]
    with pytest.raises(AppError) as exc:
        certificates.issue_certificate(
            session, world.actor("operations"), traveller.id, trusted_signature(ops, "travel:write")
        )
    assert exc.value.status == 422 and exc.value.code == "travel.signatory_unregistered"
    assert "registration number" in exc.value.detail
    assert session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_the_pdf_shows_passport_signatory_and_the_full_verification_url(
    session, world, storage, traveller, tmp_path
):
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: run scripts/install-system-deps.sh (poppler-utils)")
    cert = issue(session, world, traveller)
    pdf = certificates.render_certificate(session, world.actor("operations"), traveller.id)
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Passport No." in text and "N0012345 (SY)" in text
    assert "Signed by" in text and world.users["panel_physician"].full_name in text
    assert "TEST-MD-0001 (Panel physician)" in text
    assert "https://pmha.example.test/verify" in text and cert.code in text
    assert base64.b64encode(bytes.fromhex(cert.key_id)).decode() in text  # as the key list
    for word in ("tuberculosis", "x-ray", "negative"):
        assert word not in text.lower()


def test_the_key_list_and_the_verify_page(client, session, world, storage, traveller, app):
    cert = issue(session, world, traveller)
    session.commit()
    signing.rotate(storage.STORAGE_DIR)  # the page checks a certificate issued before it
    listed = client.get("/.well-known/pmha-certificate-keys")  # public: no sign-in
    assert listed.status_code == 200 and listed.mimetype == "application/json"
    body = listed.get_json()
    assert sorted(k["status"] for k in body["keys"]) == ["current", "retired"]
    assert body["keys"] and {"kty", "crv", "kid", "x", "status"} <= set(body["keys"][0])
    assert all(set(k) <= {"kty", "crv", "alg", "use", "kid", "x", "status"} for k in body["keys"])
    assert verifier.keys_from_json(body)  # what the offline verifier reads
    form = client.get("/verify").get_data(as_text=True)
    assert "/.well-known/pmha-certificate-keys" in form  # the page points at the key list

    def post(code):
        return client.post("/verify", data={"code": code, "csrf_token": csrf_token(form)})

    page = post(cert.signed_code)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Valid" in html and "N0012345" in html and "reg. TEST-MD-0001" in html
    bad = post("HC1:not-base45!").get_data(as_text=True)
    assert "Not a certificate code" in bad and "damaged" in bad
    assert post("x" * 5000).status_code == 200


def test_the_offline_verifier_refuses_a_bad_key_file_clearly(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text("<html>")
    result = offline("--keys", str(keys), "--code", "HC1:ABC")
    assert result.exit_code == 1 and "not JSON" in result.output
    keys.write_text(json.dumps({"keys": [{"kty": "RSA"}]}))
    result = offline("--keys", str(keys), "--code", "HC1:ABC")
    assert result.exit_code == 1 and "not an Ed25519 key" in result.output
    key = Ed25519PrivateKey.generate().public_key()
    entry = verifier.jwk(key, "current") | {"kid": base64.b64encode(b"12345678").decode()}
    keys.write_text(json.dumps({"keys": [entry]}))
    result = offline("--keys", str(keys), "--code", "HC1:ABC")
    assert result.exit_code == 1 and "a kid not its own" in result.output
    result = offline("--keys", str(keys))
    assert result.exit_code == 2 and "--code" in result.output


def test_the_verifier_imports_nothing_from_the_database():
    """The offline verifier is what a receiving authority may copy: cbor2, base45, cryptography."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(verifier))
    imported = {
        (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    assert not any(name.startswith(("pmha", "sqlalchemy", "flask")) for name in imported)


def test_the_api_verifies_a_signed_code_after_a_rotation_and_says_why_not(
    client, session, world, storage, traveller
):
    """POST /api/v1/certificates/verify: the status, the kid, and the reason in words."""
    cert = issue(session, world, traveller)
    session.commit()
    signing.rotate(storage.STORAGE_DIR)
    found = client.post(
        "/api/v1/certificates/verify",
        json={"code": cert.signed_code},
        headers=world.auth("nurse"),
    )
    assert found.status_code == 200
    body = found.get_json()
    assert body["status"] == "valid"
    assert base64.b64decode(body["kid"]).hex() == cert.key_id
    assert body["statement"]["who"]["document"]["number"] == "N0012345"
    stranger = signing.Signer(Ed25519PrivateKey.generate())
    foreign, _ = stranger.sign_code(cert.statement, "x", cert.issued_at, cert.issued_at)
    other = client.post(
        "/api/v1/certificates/verify", json={"code": foreign}, headers=world.auth("nurse")
    ).get_json()
    assert other["status"] == "other_key" and "published key list" in other["message"]


def test_production_publishes_the_configured_old_keys_even_with_no_key_to_sign(
    session, world, storage, traveller, monkeypatch
):
    """Production keys come from configuration only: the signing key (PMHA_CERTIFICATE_KEY)
    and the keys it replaced (PMHA_CERTIFICATE_OLD_KEYS). With none to sign today, issuing
    answers 503 but every certificate already issued still verifies."""
    cert = issue(session, world, traveller)
    old = signing.public_pem(certificates.signer().public)
    session.execute(certificates.CertificateKey.__table__.delete())
    monkeypatch.setattr(storage, "ENV", "production")
    monkeypatch.setattr(storage, "STORAGE_DIR", str(storage.STORAGE_DIR) + "-elsewhere")
    monkeypatch.setattr(storage, "CERTIFICATE_OLD_KEYS", old)
    listed = certificates.key_list(session)
    assert [(k["kid"], k["status"]) for k in listed["keys"]] == [
        (base64.b64encode(bytes.fromhex(cert.key_id)).decode(), "retired")
    ]
    assert certificates.verify(session, cert.signed_code).status == "valid"
    cert.revoked_at = cert.issued_at
    session.flush()
    with pytest.raises(signing.SigningKeyMissing):
        issue(session, world, traveller)


def test_verifier_py_alone_checks_a_code(session, world, storage, traveller, tmp_path):
    """verifier.py copied on its own (a receiving authority's copy) runs as a script with only
    cbor2, base45 and cryptography: no PMHA package on its path."""
    import shutil
    import subprocess
    import sys

    cert = issue(session, world, traveller)
    signing.rotate(storage.STORAGE_DIR)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(certificates.key_list(session)))
    alone = tmp_path / "alone"
    alone.mkdir()
    script = shutil.copy(verifier.__file__, alone / "verify_certificate.py")

    def run(code):
        return subprocess.run(
            [sys.executable, "-I", str(script), "--keys", str(keys), "--code", code],
            capture_output=True,
            text=True,
            cwd=alone,
            check=False,
        )

    good = run(cert.signed_code)
    assert good.returncode == 0, good.stderr
    assert "GENUINE" in good.stdout and "N0012345" in good.stdout
    bad = run(cert.signed_code[:-8] + "AAAAAAAA")
    assert bad.returncode == 1 and bad.stderr.split(":")[0] in {"FORGED", "MALFORMED"}


def test_a_code_whose_compressed_stream_is_damaged_is_malformed(session, world, traveller):
    """Damage that leaves the signed content readable (the zlib stream's Adler-32 check, its
    end, or bytes after it) still makes the code damaged: scanned codes are read whole
    (RFC 1950 §2.2: the check value closes every zlib stream)."""
    cert = issue(session, world, traveller)
    stream = zlib.decompress(base45.b45decode(cert.signed_code[4:]))
    whole = zlib.compress(stream, 9)
    for damaged in (
        whole[:-4] + bytes(b ^ 0xFF for b in whole[-4:]),  # the check value
        whole[:-4],  # the check value cut off
        whole + b"\x00",  # something after the stream
    ):
        text = "HC1:" + base45.b45encode(damaged).decode()
        assert certificates.verify(session, text).status == "malformed"
    assert certificates.verify(session, "HC1:" + base45.b45encode(whole).decode()).status == (
        certificates.verify(session, cert.signed_code).status
    )
