"""The CMS envelope: SignedData (SHA-256, the centre's certificate) inside EnvelopedData (AES-256,
to the receiving authority's certificate). The only user of cryptography's CMS support.

Both layers use the Binary option: without it the signed content is converted to canonical
MIME line endings (CRLF) and a zip inside is corrupted. The output opens with stock OpenSSL:
`openssl cms -decrypt -binary -inform DER` then `openssl cms -verify -binary -inform DER`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from pmha.exports.der import DerError, Node, parse

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
OID_DATA = "1.2.840.113549.1.7.1"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
RSA_SIGNATURES = {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11"}
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
BINARY = [pkcs7.PKCS7Options.Binary]


class EnvelopeError(ValueError):
    """The envelope cannot be opened or trusted. `code` says why (stable, no content)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class KeyPair:
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey


@dataclass(frozen=True)
class Verified:
    content: bytes
    signer: x509.Certificate
    signed_at: dt.datetime


def seal(content: bytes, signer: KeyPair, recipient: x509.Certificate) -> bytes:
    """Sign `content` with the centre's key, then encrypt the signed data for `recipient` (DER)."""
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(signer.certificate, signer.private_key, hashes.SHA256())
        .sign(serialization.Encoding.DER, BINARY)
    )
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(signed)
        .add_recipient(recipient)
        .set_content_encryption_algorithm(algorithms.AES256)
        .encrypt(serialization.Encoding.DER, BINARY)
    )


def encrypt_only(content: bytes, recipient: x509.Certificate) -> bytes:
    """The bare CMS AES-256 envelope of `content` (the benchmark's ceiling)."""
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(content)
        .add_recipient(recipient)
        .set_content_encryption_algorithm(algorithms.AES256)
        .encrypt(serialization.Encoding.DER, BINARY)
    )


def decrypt(envelope: bytes, keys: Sequence[KeyPair]) -> bytes:
    """The signed data inside, opened with whichever of the authority's keys it was sealed to."""
    try:
        info = parse(envelope)
        if info.children()[0].oid() != OID_ENVELOPED_DATA:
            raise EnvelopeError("exports.not_enveloped", "The file is not a CMS envelope.")
    except (DerError, IndexError):
        raise EnvelopeError(
            "exports.malformed", "The file is not a CMS envelope, or it is truncated."
        ) from None
    for key in keys:
        try:
            return pkcs7.pkcs7_decrypt_der(envelope, key.certificate, key.private_key, [])
        except ValueError:
            continue
    raise EnvelopeError(
        "exports.wrong_recipient",
        "The bundle was not encrypted for this authority's certificates, or it was altered.",
    )


def _signer_info(signed: bytes) -> tuple[bytes, Node, list[x509.Certificate]]:
    info = parse(signed).children()
    if info[0].oid() != OID_SIGNED_DATA:
        raise EnvelopeError("exports.not_signed", "The envelope does not hold signed data.")
    parts = info[1].children()[0].children()
    encap = parts[2].children()
    if encap[0].oid() != OID_DATA or len(encap) < 2:
        raise EnvelopeError("exports.not_signed", "The signed data holds no content.")
    content = encap[1].octets()
    certificates: list[x509.Certificate] = []
    signer_infos = None
    for node in parts[3:]:
        if node.tag == 0xA0:
            certificates = [x509.load_der_x509_certificate(bytes(c.raw)) for c in node.children()]
        elif node.tag == 0x31:
            signer_infos = node.children()
    if not signer_infos or len(signer_infos) != 1:
        raise EnvelopeError("exports.not_signed", "The bundle must carry exactly one signature.")
    return content, signer_infos[0], certificates


def _attributes(signed_attrs: Node) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for attribute in signed_attrs.children():
        oid, values = attribute.children()
        out[oid.oid()] = values.children()[0]
    return out


def _time(node: Node) -> dt.datetime:
    text = bytes(node.body).decode("ascii")
    fmt = "%y%m%d%H%M%SZ" if node.tag == 0x17 else "%Y%m%d%H%M%SZ"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)


def _check_signature(cert: x509.Certificate, algorithm: str, signature: bytes, data: bytes) -> None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and algorithm in RSA_SIGNATURES:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm == ECDSA_SHA256:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise InvalidSignature


def verify(signed: bytes, trusted: Sequence[x509.Certificate]) -> Verified:
    """The content, if one trusted certificate signed it with SHA-256 while it was valid."""
    bad = EnvelopeError("exports.bad_signature", "The bundle's signature does not verify.")
    try:
        content, signer_info, certificates = _signer_info(signed)
        fields = signer_info.children()
        sid, digest_algorithm = fields[1], fields[2].children()[0].oid()
        signed_attrs = fields[3] if fields[3].tag == 0xA0 else None
        rest = fields[4:] if signed_attrs is not None else fields[3:]
        algorithm, signature = rest[0].children()[0].oid(), rest[1].octets()
        if digest_algorithm != OID_SHA256 or signed_attrs is None:
            raise EnvelopeError(
                "exports.bad_signature", "The bundle must be signed with SHA-256 attributes."
            )
        attributes = _attributes(signed_attrs)
        digest = attributes[OID_MESSAGE_DIGEST].octets()
        signed_at = _time(attributes[OID_SIGNING_TIME])
        issuer, serial = sid.children()
    except EnvelopeError:
        raise
    except (DerError, IndexError, KeyError, ValueError):
        raise bad from None
    if digest != hashlib.sha256(content).digest():
        raise bad
    signer = next(
        (
            c
            for c in certificates
            if c.serial_number == serial.integer() and c.issuer.public_bytes() == bytes(issuer.raw)
        ),
        None,
    )
    pinned = {fingerprint(c) for c in trusted}
    if signer is None or fingerprint(signer) not in pinned:
        raise EnvelopeError(
            "exports.untrusted_signer", "The bundle was not signed by a trusted sending centre."
        )
    # The signed attributes are signed as a SET (tag 0x31), not with their [0] tag.
    try:
        _check_signature(signer, algorithm, signature, b"\x31" + bytes(signed_attrs.raw[1:]))
    except InvalidSignature:
        raise bad from None
    if not signer.not_valid_before_utc <= signed_at <= signer.not_valid_after_utc:
        raise EnvelopeError(
            "exports.expired_signer",
            "The sending centre's certificate was not valid when the bundle was signed.",
        )
    return Verified(content, signer, signed_at)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def load_certificate(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise EnvelopeError("exports.bad_certificate", "This is not a PEM certificate.") from None


def load_uploaded_certificate(data: bytes) -> x509.Certificate:
    """A certificate from an uploaded file, PEM or DER."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise EnvelopeError(
            "exports.bad_certificate", "This file is not an X.509 certificate (PEM or DER)."
        ) from None


def check_recipient(cert: x509.Certificate) -> None:
    """Refuse a certificate whose key cannot receive a CMS envelope: RSA of 2048 bits or more
    (cryptography's CMS encrypts to RSA keys only), with key encipherment if key usage is set."""
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise EnvelopeError(
            "exports.unusable_key",
            "The certificate's key cannot receive encrypted bundles: it must be an RSA key.",
        )
    if key.key_size < 2048:
        raise EnvelopeError(
            "exports.unusable_key", "The certificate's RSA key is shorter than 2048 bits."
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_encipherment:
        raise EnvelopeError(
            "exports.unusable_key",
            "The certificate's key usage does not allow encryption (key encipherment).",
        )


def load_key_pair(cert_pem: bytes, key_pem: bytes, password: bytes | None = None) -> KeyPair:
    cert = load_certificate(cert_pem)
    try:
        key = serialization.load_pem_private_key(key_pem, password)
    except (ValueError, TypeError):
        raise EnvelopeError("exports.bad_key", "This is not the PEM private key.") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.public_key() != cert.public_key():
        raise EnvelopeError("exports.bad_key", "The private key does not match the certificate.")
    return KeyPair(cert, key)


def key_pem(key: rsa.RSAPrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_key_pair(
    common_name: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    *,
    bits: int = 2048,
) -> KeyPair:
    """A self-signed RSA certificate for S/MIME signing and encryption (demo, tests, setup)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert, key)
