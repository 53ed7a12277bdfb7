"""Audited transactions per second on PostgreSQL: N threads, each committing one small durable
write with one audit event, sealed after commit (issue 20) or chained inside the commit under the
head row's lock (the path before issue 20), next to the same durable write without audit (the
baseline), in the same run.

    .venv/bin/python benchmarks/audit_append.py                  # 16 and 50 threads, 8 s each
    .venv/bin/python benchmarks/audit_append.py --threads 16 --seconds 5

Setup (not measured): the database (default `pmha_bench_audit`, made if missing, its `public`
schema dropped and migrated), plus a table `bench_writes` for the write itself. Each transaction
inserts one row of ~100 bytes into `bench_writes` and, except for the baseline, records one audit
event (`pmha.core.audit.record`) in the same transaction (`Database.transaction`, as tasks and the
CLI do; requests do the same through the app's session). Modes:

  baseline  the insert alone, committed durably (synchronous_commit on, as everywhere here);
  commit    the pre-issue-20 path: events chained in `before_commit` under the head row's lock,
            held until the commit's disk flush (`SEAL_MODE = "commit"`);
  after     issue 20: the event inserted with its own HMAC, no lock; sealed right after commit
            on the same connection under a try-lock (`SEAL_MODE = None`, PostgreSQL's default);
  deferred  the event inserted with its own HMAC, sealing left to the beat job
            (`SEAL_MODE = "off"`); the backlog is sealed after the window and that time printed.

Prints tx/s, p50/p95/p99 latency of one transaction, CPU seconds of this process (the Python
side of every client) and of the PostgreSQL backends of this database, the machine's busy CPU
seconds, and the load average. Asserts nothing about time; checks the chain after each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadgen import _backends, _machine_busy, _proc_cpu

from pmha.core import audit, migrate
from pmha.core.auth import Actor
from pmha.core.db import Database, make_engine

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pmha_bench_audit"
MODES = {"baseline": None, "commit": "commit", "after": None, "deferred": "off"}


def prepare(url: str) -> None:
    name = make_url(url).database or ""
    if "audit" not in name and "bench" not in name:
        raise SystemExit(f"refusing to drop the schema of {name!r} (needs 'audit' or 'bench')")
    admin = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:  # a fresh machine has no such database yet
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
        conn.execute(
            text(
                "CREATE TABLE bench_writes (id bigserial PRIMARY KEY, worker int NOT NULL, "
                "n int NOT NULL, at timestamptz NOT NULL DEFAULT now(), note text NOT NULL)"
            )
        )
    engine.dispose()


def _cpu(database: str) -> dict[str, float]:
    return {
        "client": time.process_time(),
        "postgres": sum(_proc_cpu(p) for p in _backends(database)),
        "machine": _machine_busy(),
    }


def run(db: Database, mode: str, threads: int, seconds: float, warmup: float) -> dict[str, Any]:
    audit.SEAL_MODE = MODES[mode]
    database = make_url(str(db.engine.url)).database or ""
    stop = threading.Event()
    measuring = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    note = "x" * 100

    def work(worker: int) -> None:
        actor = Actor.system(f"bench-{worker}")
        n, mine = 0, latencies[worker]
        while not stop.is_set():
            n += 1
            t0 = time.perf_counter()
            try:
                with db.transaction() as s:
                    s.execute(
                        text("INSERT INTO bench_writes (worker, n, note) VALUES (:w, :n, :t)"),
                        {"w": worker, "n": n, "t": note},
                    )
                    if mode != "baseline":
                        audit.record(s, actor, "read", "bench_write", f"{worker}-{n}")
            except Exception:
                errors[worker] += 1
                continue
            if measuring.is_set():
                mine.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    time.sleep(warmup)
    before, t0 = _cpu(database), time.perf_counter()
    measuring.set()
    time.sleep(seconds)
    measuring.clear()
    after, wall = _cpu(database), time.perf_counter() - t0
    stop.set()
    for t in pool:
        t.join()
    done = sorted(x for per in latencies for x in per)
    result: dict[str, Any] = {
        "mode": mode,
        "threads": threads,
        "tx": len(done),
        "tx/s": len(done) / wall,
        "p50": _pct(done, 50),
        "p95": _pct(done, 95),
        "p99": _pct(done, 99),
        "errors": sum(errors),
        "wall": wall,
        **{k: after[k] - before[k] for k in after},
        "load": os.getloadavg()[0],
    }
    audit.SEAL_MODE = None
    t1 = time.perf_counter()
    sealed = audit.seal(db.engine, db.audit_key.encode())
    result["backlog"] = sealed
    result["backlog_s"] = time.perf_counter() - t1
    with db.transaction() as s:
        check = audit.verify(s)
    if not check.ok or check.pending:
        raise SystemExit(f"chain check failed after {mode}: {check.summary}")
    result["chain"] = check.events
    return result


def _pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    if len(values) < 2:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def report(rows: list[dict[str, Any]], cpus: int) -> None:
    head = (
        f"{'threads':>7} {'mode':<9}{'tx/s':>8}{'of base':>9}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'p99 ms':>8}{'err':>5}{'client s':>9}{'pg s':>7}{'machine s':>10}"
        f"{'CPU ms/tx':>10}{'load':>6}{'backlog':>14}"
    )
    print("\n" + head)
    base: dict[int, float] = {}
    for r in rows:
        if r["mode"] == "baseline":
            base[r["threads"]] = r["tx/s"]
        share = r["tx/s"] / base[r["threads"]] if base.get(r["threads"]) else float("nan")
        per_tx = (r["client"] + r["postgres"]) / max(r["tx"], 1) * 1000
        backlog = f"{r['backlog']} in {r['backlog_s']:.2f}s" if r["mode"] == "deferred" else ""
        print(
            f"{r['threads']:>7} {r['mode']:<9}{r['tx/s']:>8.0f}{share:>9.0%}{r['p50']:>8.1f}"
            f"{r['p95']:>8.1f}{r['p99']:>8.1f}{r['errors']:>5}{r['client']:>9.1f}"
            f"{r['postgres']:>7.1f}{r['machine']:>10.1f}{per_tx:>10.2f}{r['load']:>6.1f}"
            f"{backlog:>14}"
        )
    print(
        f"\nwindow wall time x {cpus} CPUs is the CPU available; 'client' is this process "
        "(every thread's Python), 'pg' the backends of this database; CPU ms/tx = (client + pg) "
        "/ transactions. 'of base' = tx/s / the baseline's at the same thread count."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--threads", type=int, nargs="+", default=[16, 50])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    prepare(args.database_url)
    cpus = os.cpu_count() or 1
    print(f"setup {time.perf_counter() - t0:.1f}s; {cpus} CPUs; load avg at start "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()))  # fmt: skip
    rows = []
    for threads in args.threads:
        # One connection per thread (the seal after commit reuses it) and a few spare.
        engine = make_engine(args.database_url, pool_size=threads + 2, max_overflow=4)
        db = Database(engine, "bench-audit-key-" + "k" * 32)
        for mode in args.modes:
            r = run(db, mode, threads, args.seconds, args.warmup)
            rows.append(r)
            print(
                f"  {threads:>3} threads {mode:<9} {r['tx/s']:7.0f} tx/s  p95 {r['p95']:6.1f} ms"
                f"  chain {r['chain']} events",
                flush=True,
            )
        engine.dispose()
    report(rows, cpus)
    print("load avg at end " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
