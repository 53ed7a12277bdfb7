"""Content-addressed storage of original files: root/ab/cd/<sha256>.dcm, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

_CHUNK = 1 << 20


def sha256_of(data: bytes) -> str:
    """The lowercase hex SHA-256 of the bytes: the file's address."""
    return hashlib.sha256(data).hexdigest()


def path_for(digest: str, root: Path, suffix: str = ".dcm") -> Path:
    """Where the file with this SHA-256 lives under root."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a lowercase hex SHA-256 digest")
    return root / digest[:2] / digest[2:4] / f"{digest}{suffix}"


def store(data: bytes, root: Path) -> Path:
    """Write the bytes at their content address and return the path; reuse an identical file.

    The file appears complete or not at all: it is written to a temporary file in the same
    directory, flushed to disk, then renamed over the final name, and the directory entry is
    flushed too. A crash or a failed write leaves no partial file under the final name and no
    temporary file behind (other than what a power cut leaves, which `sweep_temporary` clears).
    """
    digest = sha256_of(data)
    path = path_for(digest, root)
    if _holds(path, digest, len(data)):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".incoming-", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def sweep_temporary(root: Path) -> int:
    """Remove temporary files a killed process left under root; return how many."""
    removed = 0
    for tmp in root.glob("*/*/.incoming-*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed


def _holds(path: Path, digest: str, size: int) -> bool:
    """Whether path already holds exactly these bytes (a damaged copy is rewritten)."""
    try:
        if path.stat().st_size != size:
            return False
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
    except FileNotFoundError:
        return False
    return h.hexdigest() == digest


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
