"""The certificate signing key (Ed25519, `cryptography`) and the signed statement's wire form.

Production reads the key from configuration (PMHA_CERTIFICATE_KEY: a PKCS#8 PEM); development
generates one under STORAGE_DIR on first use. A statement travels as
`PMHA1.<base64url JSON>.<base64url signature>`: that is what the QR code holds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pmha.core.errors import AppError

PREFIX = "PMHA1"
KEY_FILE = Path("keys") / "certificate-signing.pem"


class SigningKeyMissing(AppError):
    status = 503
    code = "travel.signing_key_missing"
    title = "No certificate signing key is configured"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def key_id(self) -> str:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, statement: dict[str, Any]) -> str:
        return _b64(self.key.sign(canonical(statement)))

    def verify(self, statement: dict[str, Any], signature: str) -> bool:
        try:
            self.public.verify(_unb64(signature), canonical(statement))
        except (InvalidSignature, ValueError):
            return False
        return True


def _from_pem(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the certificate key is not an Ed25519 key")
    return key


def load_signer(configured: str, production: bool, storage_dir: str) -> Signer:
    """The configured key; in development one kept (and made on first use) under storage."""
    if configured:
        return Signer(_from_pem(configured.replace("\\n", "\n").encode()))
    if production:
        raise SigningKeyMissing("Set PMHA_CERTIFICATE_KEY to an Ed25519 private key (PEM).")
    path = Path(storage_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    return Signer(_from_pem(path.read_bytes()))


def token(statement: dict[str, Any], signature: str) -> str:
    return f"{PREFIX}.{_b64(canonical(statement))}.{signature}"


def parse_token(text: str) -> tuple[dict[str, Any], str] | None:
    """The statement and signature of a token; None when it is not one."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    try:
        statement = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    return (statement, parts[2]) if isinstance(statement, dict) else None
