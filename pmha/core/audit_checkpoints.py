"""Signed checkpoints of the audit chain's head, kept outside the database.

Whoever can write to the database can delete the newest events and move the head row back, or
wipe the table: the chain that is left is consistent. A checkpoint (how many events there were,
the last one's hash, when) is appended to a file in storage and signed with the audit key, which
the database does not hold; `verify` then finds a chain that ends before a checkpoint, or whose
event at a checkpoint's position differs from it.

One JSON object per line, appended and fsynced (`O_APPEND`: concurrent writers do not interleave
lines this short). A line that does not parse or whose signature is wrong is itself a finding: the
file is evidence, and evidence that was edited says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime
    line: int  # 1-based line in the file, to name it in a finding


class CheckpointFileDamaged(Exception):
    """A line of the checkpoint file is not one we signed."""


def _mac(key: bytes, seq: int, head_hash: str, at: str) -> str:
    return hmac.new(key, f"ckpt|{seq}|{head_hash}|{at}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CheckpointLog:
    path: Path
    key: bytes

    def append(self, seq: int, head_hash: str, at: datetime) -> Checkpoint:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stamp = at.isoformat()
        line = json.dumps(
            {
                "seq": seq,
                "hash": head_hash,
                "at": stamp,
                "mac": _mac(self.key, seq, head_hash, stamp),
            },
            separators=(",", ":"),
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return Checkpoint(seq, head_hash, at, 0)

    def read(self) -> list[Checkpoint]:
        """Every checkpoint in the file; CheckpointFileDamaged names the first bad line."""
        if not self.path.exists():
            return []
        found: list[Checkpoint] = []
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            for number, text in enumerate(lines, start=1):
                if not text.strip():
                    continue
                try:
                    item = json.loads(text)
                    seq, head_hash, stamp = int(item["seq"]), str(item["hash"]), str(item["at"])
                    mac, at = str(item["mac"]), datetime.fromisoformat(stamp)
                except (ValueError, KeyError, TypeError) as exc:
                    raise CheckpointFileDamaged(
                        f"line {number} of the checkpoint file cannot be read"
                    ) from exc
                if not hmac.compare_digest(mac, _mac(self.key, seq, head_hash, stamp)):
                    raise CheckpointFileDamaged(
                        f"line {number} of the checkpoint file is not signed with the audit key"
                    )
                found.append(Checkpoint(seq, head_hash, at, number))
        return found
