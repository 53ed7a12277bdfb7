"""Reading and checking a clearance certificate's signed code with nothing but the published keys.

This module imports nothing from the database or the web app, so the offline verifier
(`pmha certificates verify-offline`) and a receiving authority's own copy need only the key list
(GET /.well-known/pmha-certificate-keys) and the code.

The code is built as the EU Digital COVID Certificate and WHO's DDCC build theirs (eHealth
Network, "Electronic Health Certificate Container Format" 1.3, sections 2-3; WHO DDCC:VS
technical specifications, 2022, section 6.1): a CWT (RFC 8392) signed as COSE_Sign1 (RFC 9052
section 4.2) with EdDSA (alg -8, RFC 9053 section 2.2) and the key id (kid, label 4) in the
protected header, compressed with zlib, encoded in base45 (RFC 9285) and prefixed `HC1:`.
The kid is the first 8 bytes of the SHA-256 of the raw public key (the DCC takes the first 8
bytes of its signing certificate's SHA-256). The statement (who, what, until when; no health
details) sits in a private-use claim, as it is not the DCC's own schema (claim -260).

Certificates signed before this format (`PMHA1.<json>.<signature>`, no key id) are checked
against every published key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import base45
import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PREFIX = "HC1:"
LEGACY_PREFIX = "PMHA1"
ALG_EDDSA = -8  # RFC 9053 section 2.2
HEADER_ALG, HEADER_KID = 1, 4  # RFC 9052 section 3.1
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI = 1, 4, 6, 7  # RFC 8392 section 4
CLAIM_STATEMENT = -65537  # private use (RFC 8392 section 9.1: below -65536)
COSE_SIGN1_TAG = 18


class VerifyError(Exception):
    """Why a code does not verify, in the verifier's words. `status`: malformed (not a code
    this service issues, or damaged), unknown_key (signed with a key not in the list),
    forged (the signature does not match)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_of(key: Ed25519PublicKey) -> bytes:
    """The key id: the first 8 bytes of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(raw_public(key)).digest()[:8]


def canonical(statement: dict[str, Any]) -> bytes:
    """The bytes a PMHA1 (legacy) signature covers."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """RFC 9052 section 4.4: what a COSE_Sign1 signature covers (no external data)."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


# --- the published key list ---------------------------------------------------------------------


def jwk(key: Ed25519PublicKey, status: str) -> dict[str, str]:
    """One key as a JSON Web Key (RFC 8037 section 2: OKP, Ed25519), with its kid in base64 as
    the DCC's trust lists write it, and whether it still signs (current) or only verifies."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": base64.b64encode(kid_of(key)).decode(),
        "x": b64url(raw_public(key)),
        "status": status,
    }


def keys_from_json(data: Any) -> dict[bytes, Ed25519PublicKey]:
    """The key list (`{"keys": [JWK, ...]}`) as kid -> public key; a key whose kid does not
    match its own bytes is refused (a list cannot rename a key)."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise VerifyError("malformed", 'The key file is not a key list: it has no "keys" list.')
    found: dict[bytes, Ed25519PublicKey] = {}
    for i, entry in enumerate(data["keys"], 1):
        if (
            not isinstance(entry, dict)
            or entry.get("kty") != "OKP"
            or entry.get("crv") != "Ed25519"
        ):
            raise VerifyError("malformed", f"Key {i} of the key file is not an Ed25519 key.")
        try:
            key = Ed25519PublicKey.from_public_bytes(unb64url(str(entry["x"])))
            kid = base64.b64decode(str(entry["kid"]), validate=True)
        except (KeyError, ValueError) as exc:
            raise VerifyError("malformed", f"Key {i} of the key file cannot be read.") from exc
        if kid != kid_of(key):
            raise VerifyError("malformed", f"Key {i} of the key file has a kid not its own.")
        found[kid] = key
    return found


# --- encoding -----------------------------------------------------------------------------------


def encode(
    protected: bytes, payload: bytes, signature: bytes, unprotected: dict[int, Any] | None = None
) -> str:
    sign1 = cbor2.CBORTag(COSE_SIGN1_TAG, [protected, unprotected or {}, payload, signature])
    encoded: bytes = base45.b45encode(zlib.compress(cbor2.dumps(sign1), 9))
    return PREFIX + encoded.decode()


def protected_header(kid: bytes) -> bytes:
    return cbor2.dumps({HEADER_ALG: ALG_EDDSA, HEADER_KID: kid})


def claims(
    statement: dict[str, Any], issuer: str, issued: datetime, expires: datetime
) -> dict[int, Any]:
    return {
        CLAIM_ISS: issuer,
        CLAIM_IAT: int(issued.timestamp()),
        CLAIM_EXP: int(expires.timestamp()),
        CLAIM_CTI: str(statement["code"]).encode(),
        CLAIM_STATEMENT: statement,
    }


# --- decoding and checking ----------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A code whose signature matches a published key."""

    statement: dict[str, Any]
    kid: bytes
    legacy: bool = False
    issuer: str = ""
    expires: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.statement.get("code", ""))

    @property
    def kid_b64(self) -> str:
        return base64.b64encode(self.kid).decode()

    def expired(self, today: date) -> bool:
        until = self.expires or _date(self.statement.get("until"))
        return until is not None and until < today


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def is_signed_code(text: str) -> bool:
    text = text.strip()
    return text.startswith(PREFIX) or text.startswith(LEGACY_PREFIX + ".")


def _decode_sign1(text: str) -> tuple[bytes, dict[Any, Any], bytes, bytes]:
    damaged = "The code is damaged or incomplete: scan the QR code again, or type the code."
    try:
        compressed = base45.b45decode(text[len(PREFIX) :].strip())
    except (ValueError, KeyError) as exc:
        raise VerifyError("malformed", damaged) from exc
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, 64 * 1024)
        # Whole, checked and alone: the stream ends (zlib then checks its Adler-32), nothing
        # follows it, and it is not larger than a certificate can be.
        if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
            raise ValueError("incomplete, damaged or oversized zlib stream")
        item = cbor2.loads(raw)
    except (zlib.error, cbor2.CBORDecodeError, ValueError) as exc:
        raise VerifyError("malformed", damaged) from exc
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise VerifyError("malformed", "The code is not a signed certificate (COSE_Sign1).")
        item = item.value
    # cbor2 reads what a tag holds as immutable: a tuple and a frozendict
    if not (
        isinstance(item, list | tuple)
        and len(item) == 4
        and isinstance(item[0], bytes)
        and isinstance(item[1], Mapping)
        and isinstance(item[2], bytes)
        and isinstance(item[3], bytes)
    ):
        raise VerifyError("malformed", "The code is not a signed certificate (COSE_Sign1).")
    return item[0], dict(item[1]), item[2], item[3]


def check(text: str, keys: dict[bytes, Ed25519PublicKey]) -> Checked:
    """The statement of a signed code, once its signature matches one of `keys`; VerifyError
    (malformed, unknown_key, forged) otherwise. Expiry and revocation are the caller's."""
    text = text.strip()
    if text.startswith(LEGACY_PREFIX + "."):
        return _check_legacy(text, keys)
    if not text.startswith(PREFIX):
        raise VerifyError(
            "malformed", f"This is not a certificate code: a signed code begins with {PREFIX}"
        )
    protected, _unprotected, payload, signature = _decode_sign1(text)
    try:
        header = cbor2.loads(protected) if protected else {}
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise VerifyError("malformed", "The code's protected header cannot be read.") from exc
    if not isinstance(header, dict):
        raise VerifyError("malformed", "The code's protected header cannot be read.")
    if header.get(HEADER_ALG) != ALG_EDDSA:
        raise VerifyError(
            "malformed", "The code is signed with an algorithm this verifier does not accept."
        )
    kid = header.get(HEADER_KID)
    if not isinstance(kid, bytes):
        raise VerifyError("malformed", "The code carries no key id (kid) in its signed header.")
    key = keys.get(kid)
    if key is None:
        raise VerifyError(
            "unknown_key",
            f"The code was signed with key {base64.b64encode(kid).decode()}, which is not in the "
            "published key list: download the current list, or ask the issuing centre.",
        )
    try:
        key.verify(signature, sig_structure(protected, payload))
    except InvalidSignature as exc:
        raise VerifyError(
            "forged", "The signature does not match: the code was altered or not issued here."
        ) from exc
    try:
        body = cbor2.loads(payload)
    except (cbor2.CBORDecodeError, ValueError) as exc:  # signed but unreadable: not ours
        raise VerifyError("malformed", "The signed content cannot be read.") from exc
    statement = body.get(CLAIM_STATEMENT) if isinstance(body, dict) else None
    if not isinstance(statement, dict):
        raise VerifyError("malformed", "The signed content is not a clearance certificate.")
    exp = body.get(CLAIM_EXP)
    expires = datetime.fromtimestamp(exp, UTC).date() if isinstance(exp, int) else None
    return Checked(statement, kid, issuer=str(body.get(CLAIM_ISS, "")), expires=expires)


def _check_legacy(text: str, keys: dict[bytes, Ed25519PublicKey]) -> Checked:
    parts = text.split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        statement = json.loads(unb64url(parts[1]))
        signature = unb64url(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerifyError(
            "malformed", "The code is damaged or incomplete: scan the QR code again."
        ) from exc
    if not isinstance(statement, dict):
        raise VerifyError("malformed", "The code is damaged or incomplete.")
    return Checked(statement, legacy_kid(statement, signature, keys), legacy=True)


def legacy_kid(
    statement: dict[str, Any], signature: bytes, keys: dict[bytes, Ed25519PublicKey]
) -> bytes:
    """A PMHA1 signature names no key: the published key it verifies with, if any."""
    message = canonical(statement)
    for kid, key in keys.items():
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return kid
    raise VerifyError(
        "forged",
        "The signature matches no published key: the code was altered, or signed with a key "
        "that is not in the list.",
    )


# --- standalone: `python verifier.py --keys keys.json --code 'HC1:...'` ---------------------------


def main(argv: list[str] | None = None) -> int:
    """This file alone (with cbor2, base45 and cryptography installed) checks a code: what a
    receiving authority may copy. Exit 0 genuine and within validity, 1 otherwise."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Check a PMHA clearance certificate offline.")
    parser.add_argument("--keys", required=True, help="the key list (JSON) saved from the service")
    parser.add_argument("--code", required=True, help="the signed code (HC1:...); - reads stdin")
    args = parser.parse_args(argv)
    code = sys.stdin.read() if args.code == "-" else args.code
    try:
        with open(args.keys, encoding="utf-8") as fh:
            keys = keys_from_json(json.load(fh))
        checked = check(code, keys)
    except (OSError, ValueError) as exc:
        print(f"CANNOT READ THE KEY FILE: {exc}", file=sys.stderr)
        return 1
    except VerifyError as exc:
        print(f"{exc.status.upper()}: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(checked.statement, indent=2, ensure_ascii=False))
    if checked.expired(datetime.now(UTC).date()):
        print("EXPIRED: the signature is genuine, but the validity has ended", file=sys.stderr)
        return 1
    print(f"GENUINE: signed with published key {checked.kid_b64}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
