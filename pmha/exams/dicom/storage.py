"""Content-addressed storage of X-ray files: root/ab/cd/<sha256>.dcm, atomically, encrypted at rest
(the address is the hash of the plain content)."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from pmha.core import file_crypto


def sha256_of(data: bytes) -> str:
    """The lowercase hex SHA-256 of the bytes: the file's address."""
    return hashlib.sha256(data).hexdigest()


def path_for(digest: str, root: Path, suffix: str = ".dcm") -> Path:
    """Where the file with this SHA-256 lives under root."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a lowercase hex SHA-256 digest")
    return root / digest[:2] / digest[2:4] / f"{digest}{suffix}"


def store(data: bytes, root: Path) -> Path:
    """Write the bytes at their content address, encrypted at rest, and return the path; reuse
    an identical file (a damaged copy is rewritten).

    The file appears complete or not at all (pmha.core.file_crypto.write: a temporary file in
    the same directory, flushed, renamed over the final name, the directory flushed too); a
    crash leaves no partial file under the final name (`sweep_temporary` clears what a power
    cut leaves).
    """
    digest = sha256_of(data)
    path = path_for(digest, root)
    if _holds(path, digest):
        return path
    file_crypto.write(path, data)
    return path


def load(digest: str, root: Path, suffix: str = ".dcm") -> bytes:
    """The plain bytes stored under this digest (FileNotFoundError when there are none)."""
    return file_crypto.read(path_for(digest, root, suffix))


def sweep_temporary(root: Path) -> int:
    """Remove temporary files a killed process left under root; return how many."""
    removed = 0
    for tmp in root.glob("*/*/.incoming-*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed


def _holds(path: Path, digest: str) -> bool:
    """Whether path already holds exactly these bytes."""
    try:
        return sha256_of(file_crypto.read(path)) == digest
    except (FileNotFoundError, file_crypto.FileKeyError):
        return False
