"""A real Celery worker for the crash test (run as a script, not collected by pytest).

The first export job it runs kills the whole worker process (SIGKILL, as the OOM killer or a
pulled plug would) half-way through writing the bundle; later runs behave normally. The broker's
visibility timeout is short so that another worker gets the unacknowledged job back quickly.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from pmha.core import file_crypto

MARKER = Path(os.environ["PMHA_TEST_CRASH_MARKER"])
_write = file_crypto.write


def _crash_mid_write(path: Path, data: bytes) -> None:
    """Killed half-way through writing the first bundle (other stored files are written)."""
    if path.suffix == ".p7m" and not MARKER.exists():
        MARKER.write_text("killed")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_name(f".incoming-{path.name}.tmp").write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    _write(path, data)


file_crypto.write = _crash_mid_write  # type: ignore[assignment]

if __name__ == "__main__":
    from pmha.worker import celery

    celery.conf.broker_transport_options = {"visibility_timeout": 3}
    celery.worker_main(["worker", *sys.argv[1:]])
