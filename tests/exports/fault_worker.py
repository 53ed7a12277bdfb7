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

from pmha.exports import build

MARKER = Path(os.environ["PMHA_TEST_CRASH_MARKER"])
_write = build.write_atomically


def _crash_mid_write(path: Path, data: bytes) -> None:
    if not MARKER.exists():
        MARKER.write_text("killed")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_name(f".{path.name}.partial").write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    _write(path, data)


build.write_atomically = _crash_mid_write

if __name__ == "__main__":
    from pmha.worker import celery

    celery.conf.broker_transport_options = {"visibility_timeout": 3}
    celery.worker_main(["worker", *sys.argv[1:]])
