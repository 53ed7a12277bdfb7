"""Celery scaling: jobs per second and CPU per job with 1, 2 and 4 worker processes on one broker,
next to the same job called in-process without Celery (the baseline), in the same run.

    .venv/bin/python benchmarks/celery_scaling.py        # --episodes 60 --doses 120 --jobs 12
    .venv/bin/python benchmarks/celery_scaling.py --jobs 8 --workers 1,2

Setup (not measured): the PostgreSQL database `pmha_bench_celery` is dropped, recreated and
migrated as benchmarks/api_load.py does it (its `prepare`, here with 200 synthetic families), and
`--episodes` of their applicants get an active TB treatment episode under DOT with `--doses` daily
entries (about 5% missed or refused) and monthly sputum checks.

The job is the real nightly DOT check (`pmha.tb_dot.nightly_check`, run by beat at night): it reads
every active episode with its doses and sputum checks, works out adherence, interruptions, loss
to follow-up and overdue sputum for each, adds the alerts not yet raised today and writes an audit
event, in one transaction. It is run once before measuring, so every measured job finds today's
alerts raised and adds none: N identical jobs, each a full read-and-compute pass.

  baseline  the task called in this process, one after another (no broker, no worker);
  k workers k `celery -A pmha.worker worker --pool solo` processes (one job at a time each),
            Redis database 13 as broker and result backend; N jobs sent at once, timed from the
            first send to the last result.

CPU per job is the workers' CPU (or this process's, for the baseline) and the PostgreSQL backends'
CPU of the benchmark database, read from /proc. Every worker started is stopped, also on error
or Ctrl-C. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, make_url, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # api_load's database setup

import api_load  # noqa: E402

from pmha.cases.models import Applicant, FamilyCase  # noqa: E402
from pmha.config import PROJECT_ROOT  # noqa: E402
from pmha.core.db import make_engine  # noqa: E402
from pmha.tb_dot.models import DotObservation, SputumCheck, TbEpisode  # noqa: E402
from pmha.tb_dot.regimens import load_catalogue  # noqa: E402
from pmha.tb_dot.tasks import NIGHTLY  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pmha_bench_celery"
BROKER_URL = "redis://127.0.0.1:6379/13"
FAMILIES = 200
READY_S = 300  # a worker starts the whole app: slow on a busy machine
OTHER = ("missed", "refused", "self_administered")
_TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def backends_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `database` (other databases left out)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            cmdline = (entry / "cmdline").read_text(errors="replace")
            if cmdline.startswith("postgres:") and f" {database} " in cmdline:
                total += proc_cpu(int(entry.name))
    return total


# ---------------------------------------------------------------------------------------------
# Setup


def seed_episodes(url: str, episodes: int, doses: int, rng: random.Random) -> int:
    """Active DOT episodes for the first applicants, bulk-inserted (seeding is not measured)."""
    catalogue = load_catalogue(PROJECT_ROOT / "country_rules")["US"]
    today = dt.date.today()
    start = today - dt.timedelta(days=doses)
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            people = list(
                conn.execute(
                    select(Applicant.id, FamilyCase.site_id)
                    .join(FamilyCase, FamilyCase.id == Applicant.case_id)
                    .order_by(Applicant.created_at)
                    .limit(episodes)
                )
            )
            rows, observations, checks = [], [], []
            for n, (applicant_id, site_id) in enumerate(people):
                regimen = catalogue.regimens["2HRZE/4HR" if n % 2 else "HPZM"]
                episode_id = uuid.uuid4()
                rows.append({
                    "id": episode_id, "applicant_id": applicant_id, "site_id": site_id,
                    "destination": "US", "status": "active", "diagnosed_on": start,
                    "disease_site": "pulmonary", "susceptibility": "susceptible",
                    "cavitation": False, "weight_kg": 60.0, "regimen_code": regimen.code,
                    "phases": [p.to_dict() for p in regimen.phases], "extended": False,
                    "start_date": start, "dot_site": "centre", "version": 1,
                    "created_at": now, "updated_at": now,
                })  # fmt: skip
                for i in range(doses):
                    status = rng.choice(OTHER) if rng.random() < 0.05 else "observed"
                    observations.append({"id": uuid.uuid4(), "episode_id": episode_id,
                                         "dose_date": start + dt.timedelta(days=i),
                                         "status": status, "recorded_at": now})  # fmt: skip
                for month in range(1, doses // 30 + 1):
                    result = "positive" if month == 1 else "negative"
                    checks.append({"id": uuid.uuid4(), "episode_id": episode_id, "month": month,
                                   "collected_on": start + dt.timedelta(days=30 * month),
                                   "smear": result, "culture": result,
                                   "recorded_at": now})  # fmt: skip
            conn.execute(insert(TbEpisode), rows)
            conn.execute(insert(DotObservation), observations)
            conn.execute(insert(SputumCheck), checks)
        return len(people)
    finally:
        engine.dispose()


def environment(url: str, audit_key: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PMHA_ENV": "production",
        "PMHA_DATABASE_URL": url,
        "PMHA_BROKER_URL": BROKER_URL,
        "PMHA_SECRET_KEY": secrets.token_urlsafe(36),
        "PMHA_AUDIT_KEY": audit_key,
        "PMHA_STORAGE_DIR": tempfile.mkdtemp(prefix="pmha-bench-celery-"),
    }
    with suppress(ImportError):  # files encrypted at rest (issue 20's X-ray work)
        from pmha.core import file_crypto

        env["PMHA_FILE_KEYS"] = file_crypto.new_key_text("bench1")  # type: ignore[attr-defined,unused-ignore]
    return env


# ---------------------------------------------------------------------------------------------
# Workers


@contextmanager
def workers(count: int, env: dict[str, str], celery: Any, run: int) -> Iterator[list[int]]:
    """`count` worker processes (solo pool: one process, one job at a time each), stopped on
    the way out whatever happens."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (kept open for the workers' lifetime)
        "w+", prefix="pmha-bench-celery-", suffix=".log", delete=False
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(count):
            cmd = [
                sys.executable, "-m", "celery", "-A", "pmha.worker", "worker",
                "--pool", "solo", "--hostname", f"bench{run}-{i}@%h", "--queues", "pmha",
                "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
            ]  # fmt: skip
            procs.append(
                subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            )
        names = {f"bench{run}-{i}@" for i in range(count)}
        deadline = time.monotonic() + READY_S
        while True:
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                raise SystemExit(f"a worker exited with {dead[0].returncode}; log: {log.name}")
            answered = {n for reply in celery.control.ping(timeout=1.0) for n in reply}
            if all(any(a.startswith(n) for a in answered) for n in names):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"workers not ready after {READY_S} s; log: {log.name}")
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()  # warm shutdown: finishes the job in hand
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Row:
    name: str
    jobs: int
    wall: float
    cpu: float  # the workers' (or this process's) CPU seconds
    db: float  # the benchmark database's PostgreSQL backends' CPU seconds
    machine_load: tuple[float, float, float]

    @property
    def rate(self) -> float:
        return self.jobs / self.wall


def in_process(app: Any, jobs: int, database: str) -> Row:
    task = app.extensions["celery"].tasks[NIGHTLY]
    load = os.getloadavg()
    db0, cpu0, t0 = backends_cpu(database), time.process_time(), time.perf_counter()
    for _ in range(jobs):
        task()  # the task's own __call__: app context and its transaction, no broker
    wall = time.perf_counter() - t0
    return Row(
        "baseline: in-process, no Celery",
        jobs,
        wall,
        time.process_time() - cpu0,
        backends_cpu(database) - db0,
        load,
    )


def through_celery(celery: Any, pids: list[int], jobs: int, database: str) -> Row:
    # Warm each worker (imports, the rule files, the first connection) with one job each.
    for result in [celery.send_task(NIGHTLY) for _ in pids]:
        result.get(timeout=600)
    load = os.getloadavg()
    db0, cpu0 = backends_cpu(database), sum(proc_cpu(p) for p in pids)
    t0 = time.perf_counter()
    sent = [celery.send_task(NIGHTLY) for _ in range(jobs)]
    for result in sent:
        result.get(timeout=600)
    wall = time.perf_counter() - t0
    return Row(
        f"{len(pids)} worker{'s' if len(pids) > 1 else ''}",
        jobs,
        wall,
        sum(proc_cpu(p) for p in pids) - cpu0,
        backends_cpu(database) - db0,
        load,
    )


def print_rows(rows: list[Row]) -> None:
    base = rows[0]
    print(
        f"\n{'run':<34} {'jobs':>5} {'wall s':>7} {'jobs/s':>7} {'x base':>7} "
        f"{'CPU ms/job':>10} {'db ms/job':>9} {'CPUs used':>9} {'load at start':>15}"
    )
    for r in rows:
        print(
            f"{r.name:<34} {r.jobs:>5} {r.wall:>7.2f} {r.rate:>7.2f} {r.rate / base.rate:>7.2f} "
            f"{1000 * r.cpu / r.jobs:>10.0f} {1000 * r.db / r.jobs:>9.0f} "
            f"{(r.cpu + r.db) / r.wall:>9.2f} "
            f"{' '.join(f'{v:.2f}' for v in r.machine_load):>15}"
        )
    cpus = os.cpu_count() or 1
    per_job = min((r.cpu + r.db) / r.jobs for r in rows)
    print(
        f"\nCeiling if the {cpus} CPUs were the workers' alone: {cpus / per_job:.2f} jobs/s "
        f"({cpus} / {1000 * per_job:.0f} ms of CPU per job)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--doses", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    # Stopped by `kill` or a timeout: unwind, so that the workers are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    counts = [int(c) for c in args.workers.split(",")]
    database = make_url(args.database_url).database or ""
    audit_key = secrets.token_urlsafe(36)
    started = time.perf_counter()
    api_load.prepare(args.database_url, audit_key, FAMILIES)  # drops, migrates, seeds families
    made = seed_episodes(args.database_url, args.episodes, args.doses, random.Random(2026))
    print(
        f"database {database}: {FAMILIES} families, {made} DOT episodes of {args.doses} doses, "
        f"ready in {time.perf_counter() - started:.0f} s; broker {BROKER_URL}; "
        f"{os.cpu_count()} CPUs"
    )
    env = environment(args.database_url, audit_key)
    os.environ.update(env)
    from pmha.app import create_app  # after the environment: the app reads its config there

    app = create_app()
    logging.disable(logging.INFO)  # the task's log line, once per in-process job
    celery = app.extensions["celery"]
    task = celery.tasks[NIGHTLY]
    first = task()  # raises today's alerts once: every measured job then adds none
    print(f"first run raised {sum(v for k, v in first.items() if k != 'episodes')} alerts")
    celery.control.purge()
    rows = [in_process(app, args.jobs, database)]
    print(f"  {rows[-1].name}: {rows[-1].rate:.2f} jobs/s", flush=True)
    for run, count in enumerate(counts):
        with workers(count, env, celery, run) as pids:
            rows.append(through_celery(celery, pids, args.jobs, database))
        print(f"  {rows[-1].name}: {rows[-1].rate:.2f} jobs/s", flush=True)
    print_rows(rows)
    load = os.getloadavg()
    print(
        f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. With "
        f"{os.cpu_count()} CPUs shared by the workers, PostgreSQL, Redis and this process, no "
        f"more than {os.cpu_count()} jobs run at once: more workers than CPUs cannot beat as "
        "many workers as CPUs on a quiet machine. On a busy one, more processes take a bigger "
        "share of the CPUs from the other work (see 'CPUs used'), which is not scaling: CPU per "
        "job is the figure that holds."
    )


if __name__ == "__main__":
    main()
