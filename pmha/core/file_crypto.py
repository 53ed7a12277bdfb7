"""Stored files encrypted at rest: X-rays, attachments, bundles, imports (issue 19).

AES-256-GCM (`cryptography`) with a key from the environment (PMHA_FILE_KEYS: `kid:base64key`,
comma-separated, the first one current), or in development a key made under VAR_DIR. A file is

    b"PMHAENC1" | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag

and its purpose ("xray", "attachment", "bundle", ...) is authenticated with it (associated
data), so a file cannot be moved into another role. Rotation: add a new key first in the list,
keep the old ones until `pmha files rotate` has re-encrypted every file under the new key.
A file without the header is read as it is (stored before encryption was switched on); `pmha
files rotate` encrypts those too.

Where the files live decides the cipher: the app registers its STORAGE_DIR with the keys of its
configuration (`register`), and `write` / `read` find the registered root above a path, so the
services keep passing the storage path they passed before. A path under no registered root is
refused (FileKeyError), never written in the clear.

Content addressing is unchanged: paths are the SHA-256 of the plain content, and readers check
the plain content against it where they did before.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"PMHAENC1"
_KID, _NONCE = 8, 12
_HEADER = len(MAGIC) + _KID + _NONCE


class FileKeyError(Exception):
    """The file keys are missing or malformed (configuration), or a file cannot be opened with
    them (unknown key id, damaged or moved file). Messages name no content."""


def parse_keys(text: str) -> tuple[str, dict[str, bytes]]:
    """`kid:base64key,kid2:base64key2` -> (current kid, {kid: key}); FileKeyError if malformed."""
    keys: dict[str, bytes] = {}
    current = ""
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep or not kid or len(kid.encode()) > _KID or not kid.isalnum():
            raise FileKeyError(
                "each file key is 'id:base64key' with an id of 1 to 8 letters/digits"
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise FileKeyError(f"file key {kid} is not base64") from exc
        if len(key) != 32:
            raise FileKeyError(f"file key {kid} must be 32 bytes (AES-256)")
        keys[kid] = key
        current = current or kid
    if not keys:
        raise FileKeyError("no file key is configured")
    return current, keys


def new_key_text(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


@dataclass(frozen=True)
class FileCipher:
    current: str
    keys: Mapping[str, bytes]

    @classmethod
    def from_text(cls, text: str) -> FileCipher:
        current, keys = parse_keys(text)
        return cls(current, keys)

    def seal(self, data: bytes, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE)
        kid = self.current.encode().ljust(_KID, b"\0")
        body = AESGCM(self.keys[self.current]).encrypt(nonce, data, _aad(kid, purpose))
        return MAGIC + kid + nonce + body

    def open(self, blob: bytes, purpose: str) -> bytes:
        if not blob.startswith(MAGIC):
            return blob  # stored before encryption at rest: read as it is
        if len(blob) < _HEADER + 16:
            raise FileKeyError("a stored file is truncated")
        kid = blob[len(MAGIC) : len(MAGIC) + _KID]
        key = self.keys.get(kid.rstrip(b"\0").decode(errors="replace"))
        if key is None:
            raise FileKeyError("a stored file was encrypted with a key that is not configured")
        nonce = blob[len(MAGIC) + _KID : _HEADER]
        try:
            return AESGCM(key).decrypt(nonce, blob[_HEADER:], _aad(kid, purpose))
        except InvalidTag as exc:
            raise FileKeyError("a stored file is damaged or is not the file it claims") from exc

    def is_current(self, blob: bytes) -> bool:
        kid = self.current.encode().ljust(_KID, b"\0")
        return blob.startswith(MAGIC) and blob[len(MAGIC) : len(MAGIC) + _KID] == kid

    def read(self, path: Path, purpose: str) -> bytes:
        return self.open(path.read_bytes(), purpose)


def _aad(kid: bytes, purpose: str) -> bytes:
    return b"pmha-file|" + kid + b"|" + purpose.encode()


def rotate_file(cipher: FileCipher, path: Path, purpose: str) -> bool:
    """Re-encrypt one file under the current key (atomically); False when it already is."""
    blob = path.read_bytes()
    if cipher.is_current(blob):
        return False
    sealed = cipher.seal(cipher.open(blob, purpose), purpose)
    temporary = path.with_name(f".{path.name}.rotating")
    with temporary.open("wb") as out:
        out.write(sealed)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return True


# The folders of STORAGE_DIR that hold people's files, and the purpose each file is bound to:
# a file moved to another folder no longer opens.
PURPOSES = {
    "dicom": "xray",
    "deidentified": "xray-deidentified",
    "previews": "xray-preview",
    "attachments": "attachment",
    "exports": "bundle",
    "imports": "import",
}
_ROOTS: dict[Path, FileCipher] = {}


def register(root: Path | str, cipher: FileCipher) -> None:
    """Files under root are sealed and opened with this cipher (the app does it at start)."""
    _ROOTS[Path(root).resolve()] = cipher


def write(path: Path, data: bytes) -> None:
    """Seal data and write it at path: complete or not at all (temporary file, fsync, rename,
    fsync the directory); a failed write leaves no temporary file behind."""
    cipher, purpose = _locate(path)
    sealed = cipher.seal(data, purpose)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".incoming-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(sealed)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    _fsync_dir(path.parent)


def read(path: Path) -> bytes:
    """The plain content of a file written by `write` (FileNotFoundError if there is none)."""
    cipher, purpose = _locate(path)
    return cipher.read(path, purpose)


def rotate(root: Path) -> tuple[int, int]:
    """Re-encrypt every stored file under root with the current key (files from before
    encryption included): (files rewritten, files already current)."""
    rewritten = current = 0
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] not in PURPOSES or path.name.startswith("."):
            continue
        cipher, purpose = _locate(path)
        if rotate_file(cipher, path, purpose):
            rewritten += 1
        else:
            current += 1
    return rewritten, current


def key_id_of(path: Path) -> str | None:
    """The id of the key a stored file was encrypted with (None: not encrypted)."""
    with path.open("rb") as fh:
        head = fh.read(len(MAGIC) + _KID)
    if not head.startswith(MAGIC) or len(head) < len(MAGIC) + _KID:
        return None
    return head[len(MAGIC) :].rstrip(b"\0").decode(errors="replace")


def lacking_keys(files: Path, root: Path) -> list[str]:
    """Ids of the keys that encrypted the files under `files` (e.g. a backup's storage) that
    the cipher registered for `root` does not have."""
    cipher = _ROOTS.get(root.resolve())
    have = set(cipher.keys) if cipher else set()
    found = {key_id_of(p) for p in files.rglob("*") if p.is_file() and not p.is_symlink()}
    return sorted(k for k in found if k is not None and k not in have)


def _locate(path: Path) -> tuple[FileCipher, str]:
    """The cipher of the nearest registered root above path, and the purpose named by the
    first folder below it that is one of PURPOSES (the root's own folders for STORAGE_DIR)."""
    resolved = path.resolve()
    for candidate in resolved.parents:
        cipher = _ROOTS.get(candidate)
        if cipher is not None:
            folders = resolved.relative_to(candidate).parts[:-1]
            folder = next((f for f in folders if f in PURPOSES), None)
            if folder is None:
                raise FileKeyError("this is not a folder of stored files")
            return cipher, PURPOSES[folder]
    raise FileKeyError("no file key is configured for this storage")


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
