"""The certificate signing key (Ed25519, `cryptography`), the keys rotated out, and signing.

Production reads the key from configuration (PMHA_CERTIFICATE_KEY: a PKCS#8 PEM) and the public
keys of the keys it replaced from PMHA_CERTIFICATE_OLD_KEYS (PEMs one after another);
development generates one under STORAGE_DIR on first use, and `pmha certificates rotate-key`
retires it to STORAGE_DIR/keys/retired/ and makes a new one. Every key that ever signed is also
recorded in the database (certificates.record_key), so it stays published whatever the
configuration forgets.

A certificate travels as a COSE_Sign1 code `HC1:...` (see verifier.py); the older form
`PMHA1.<base64url JSON>.<base64url signature>` (no key id) still verifies.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pmha.core.errors import AppError
from pmha.travel import verifier
from pmha.travel.verifier import b64url, canonical, unb64url

PREFIX = verifier.LEGACY_PREFIX
KEY_FILE = Path("keys") / "certificate-signing.pem"
RETIRED_DIR = Path("keys") / "retired"
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)


class SigningKeyMissing(AppError):
    status = 503
    code = "travel.signing_key_missing"
    title = "No certificate signing key is configured"


def key_id(key: Ed25519PublicKey) -> str:
    """The kid in hex, as the certificate rows keep it (SHA-256 of the raw key, first 8 bytes)."""
    return verifier.kid_of(key).hex()


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def kid(self) -> bytes:
        return verifier.kid_of(self.public)

    @property
    def key_id(self) -> str:
        return self.kid.hex()

    def sign_code(
        self, statement: dict[str, Any], issuer: str, issued: datetime, expires: datetime
    ) -> tuple[str, str]:
        """The signed code (`HC1:...`) and its signature (base64url) for the row."""
        protected = verifier.protected_header(self.kid)
        payload = cbor2.dumps(verifier.claims(statement, issuer, issued, expires))
        signature = self.key.sign(verifier.sig_structure(protected, payload))
        return verifier.encode(protected, payload, signature), b64url(signature)

    def sign(self, statement: dict[str, Any]) -> str:
        """The statement's own (PMHA1) signature, over its canonical JSON."""
        return b64url(self.key.sign(canonical(statement)))


def _from_pem(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the certificate key is not an Ed25519 key")
    return key


def _new_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_new(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def load_signer(configured: str, production: bool, storage_dir: str) -> Signer:
    """The configured key; in development one kept (and made on first use) under storage."""
    if configured:
        return Signer(_from_pem(configured.replace("\\n", "\n").encode()))
    if production:
        raise SigningKeyMissing("Set PMHA_CERTIFICATE_KEY to an Ed25519 private key (PEM).")
    path = Path(storage_dir) / KEY_FILE
    if not path.exists():
        _write_new(path, _new_pem())
    return Signer(_from_pem(path.read_bytes()))


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _public_from_pem(block: str) -> Ed25519PublicKey:
    data = block.encode()
    key: Any
    if "PRIVATE" in block.split("-----")[1]:
        key = serialization.load_pem_private_key(data, password=None)
        key = key.public_key() if isinstance(key, Ed25519PrivateKey) else None
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return key


def retired_keys(configured: str, storage_dir: str) -> list[Ed25519PublicKey]:
    """The public keys of the keys rotated out: PMHA_CERTIFICATE_OLD_KEYS (PEMs one after
    another; a private key PEM is taken for its public half) and STORAGE_DIR/keys/retired/."""
    texts = [configured.replace("\\n", "\n")]
    folder = Path(storage_dir) / RETIRED_DIR
    if folder.is_dir():
        texts += [p.read_text() for p in sorted(folder.glob("*.pem"))]
    found: list[Ed25519PublicKey] = []
    for text in texts:
        for i, match in enumerate(_PEM.finditer(text), 1):
            try:
                found.append(_public_from_pem(match.group(0)))
            except ValueError as exc:
                raise ValueError(f"retired certificate key {i} is not an Ed25519 key") from exc
    return found


def rotate(storage_dir: str) -> tuple[str, str]:
    """Development: retire the key under storage (its public half to keys/retired/) and make a
    new one. Returns (old kid, new kid) in hex. Production rotates by configuration."""
    path = Path(storage_dir) / KEY_FILE
    old = load_signer("", False, storage_dir)
    retired = Path(storage_dir) / RETIRED_DIR / f"{old.key_id}.pem"
    retired.parent.mkdir(parents=True, exist_ok=True)
    retired.write_text(public_pem(old.public))
    tmp = path.with_suffix(".new")
    tmp.unlink(missing_ok=True)
    _write_new(tmp, _new_pem())
    tmp.replace(path)
    return old.key_id, load_signer("", False, storage_dir).key_id


def public_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(unb64url(text))


def token(statement: dict[str, Any], signature: str) -> str:
    """A legacy PMHA1 code."""
    return f"{PREFIX}.{b64url(canonical(statement))}.{signature}"


def parse_token(text: str) -> tuple[dict[str, Any], str] | None:
    """The statement and signature of a PMHA1 code; None when it is not one."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    try:
        statement = json.loads(unb64url(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    return (statement, parts[2]) if isinstance(statement, dict) else None
