"""gunicorn settings for production (issue 20):

    gunicorn -c gunicorn.conf.py 'pmha.app:create_app()'

The app is loaded once in the master (`preload_app`), its import-time objects are moved out of
the garbage collector's reach with `gc.freeze()` before the workers are forked, and each worker
drops the database connections it inherited. Frozen objects are never scanned again by the
collector (fewer, shorter collections in every worker) and stay shared copy-on-write with the
master instead of being touched, and so copied, by each worker's collections.
Environment: PMHA_WORKERS (4), PMHA_THREADS (4), PMHA_BIND (0.0.0.0:8000),
PMHA_GC_FREEZE=0 to switch the freeze off (to measure it: benchmarks/README.md).
"""

from __future__ import annotations

import gc
import os
from typing import Any

bind = os.environ.get("PMHA_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("PMHA_WORKERS", "4"))
worker_class = "gthread"
threads = int(os.environ.get("PMHA_THREADS", "4"))
keepalive = 10
backlog = 1024
preload_app = True
# Route patterns, not URLs: query strings never reach the access log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(L)ss'

FREEZE = os.environ.get("PMHA_GC_FREEZE", "1") != "0"


def when_ready(server: Any) -> None:
    """In the master, after the app is loaded and before the first fork."""
    if FREEZE:
        gc.collect()
        gc.freeze()
        server.log.info("gc.freeze(): %d objects frozen before fork", gc.get_freeze_count())


def post_fork(server: Any, worker: Any) -> None:
    """In each worker: never share the master's database connections across processes."""
    from pmha.core.db import database

    app = server.app.wsgi()  # with preload_app: the app the master loaded
    if "pmha.db" in getattr(app, "extensions", {}):
        database(app).engine.dispose(close=False)
