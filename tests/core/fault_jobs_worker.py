"""A real Celery worker for the job fault test (run as a script, not collected by pytest).

The first export job it runs is killed with the whole worker (SIGKILL, as the OOM killer or a
pulled plug would) once the job is `running` and its heartbeat written, half-way through the
build; later runs (another process: the marker file is there) behave normally. The broker's
visibility timeout stays long (the configured one), so only the sweep can bring the job back.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from pmha.exports import build

MARKER = Path(os.environ["PMHA_TEST_CRASH_MARKER"])
_pack = build.pack


def _die_while_packing(parts, manifest):  # type: ignore[no-untyped-def]
    if not MARKER.exists():
        MARKER.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return _pack(parts, manifest)


build.pack = _die_while_packing

if __name__ == "__main__":
    from pmha.worker import celery

    celery.worker_main(["worker", *sys.argv[1:]])
