"""API load benchmark: gunicorn + PostgreSQL, 10,000 synthetic cases, 50 concurrent clients.

Measures case search, case read and applicant create for a fixed time each, next to two bare
endpoints in the same run: one reads a row by primary key, the other also writes one durable row
(as every real request writes an audit event): the framework's ceilings. Closed loop (50 clients)
prints requests/s and p50/p95/p99; open loop offers fixed arrival rates (5, 20, 50 requests/s)
and prints p50/p95/p99 at each. CPU seconds beside wall time, and the load average, for each.
It prints figures and asserts nothing about time.

    .venv/bin/python benchmarks/api_load.py [--cases 10000] [--seconds 15] [--mode both]

See benchmarks/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this directory is on sys.path.
from loadgen import (
    MakeRequest,
    Result,
    Target,
    print_cpu,
    print_open_table,
    print_table,
    run_open,
    run_scenario,
)
from sqlalchemy import Engine, insert, make_url, text, update

from pmha.accounts import service as accounts
from pmha.cases import names
from pmha.cases.models import Applicant, FamilyCase, Site
from pmha.core.auth import Actor, Role
from pmha.core.db import Database, make_engine, utcnow
from pmha.core.migrate import upgrade
from pmha.demo import FAMILY, FEMALE, MALE, synthetic_family
from pmha.web.bench import CREATE_TABLE

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pmha_bench"
BROKER_URL = "redis://127.0.0.1:6379/14"
APP = "pmha.app:create_app()"
CONFIG = ROOT / "gunicorn.conf.py"
BASELINES = 2  # the first scenarios are the ceilings; shares are of the last (durable write)
SITE_CODE = "BEN"
BATCH = 2000

# ---------------------------------------------------------------------------------------------
# Database: recreate, migrate, seed


@dataclass
class Seeded:
    site_id: uuid.UUID
    token: str
    case_ids: list[uuid.UUID]
    applicants: int
    migrate_s: float
    seed_s: float


def recreate_database(url: str) -> None:
    name = make_url(url).database or ""
    if "bench" not in name:
        # This drops the database: refuse anything that does not look like a scratch database.
        raise SystemExit(
            f"refusing to drop {name!r}: the benchmark database name must contain 'bench'"
        )
    admin = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@functools.cache
def _index(*parts: str | None) -> tuple[str, str, tuple[str, ...]]:
    # The same derived columns and search keys the service writes (_reindex,
    # _write_search_keys); the names repeat, so cache them.
    text_, skeletons = names.search_text(*parts), names.search_keys(*parts)
    return text_, skeletons, tuple(sorted(names.index_keys(text_, skeletons)))


def _applicant_row(person: dict[str, Any], case_id: uuid.UUID, created: datetime) -> dict[str, Any]:
    parts = (
        person["family_name"],
        person["given_names"],
        person["family_name_original"],
        person["given_names_original"],
    )
    search_text, search_skeletons, _keys = _index(*parts)
    return {
        "id": uuid.uuid4(),
        "case_id": case_id,
        "family_name": parts[0],
        "given_names": parts[1],
        "family_name_original": parts[2],
        "given_names_original": parts[3],
        "dob": person["dob"],
        "dob_estimated": person["dob_estimated"],
        "sex": person["sex"],
        "nationality": person["nationality"],
        "relationship": person["relationship"],
        "search_text": search_text,
        "search_skeletons": search_skeletons,
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }


def seed(
    engine: Engine, audit_key: str, n_cases: int
) -> tuple[uuid.UUID, str, list[uuid.UUID], int]:
    """A site, an operations user with a token (through the services), then bulk-inserted cases."""
    with Database(engine, audit_key).transaction() as session:
        site = Site(code=SITE_CODE, name="Benchmark Assessment Centre", country="TR")
        session.add(site)
        session.flush()
        system = Actor.system("bench-seed")
        user = accounts.create_user(
            session,
            system,
            username="bench-operations",
            full_name="Benchmark operations",
            password=secrets.token_urlsafe(18),
            roles=[Role.OPERATIONS],
            site_codes=[SITE_CODE],
        )
        token = accounts.create_token(session, system, user, "api load benchmark", days=1)
        site_id = site.id

    # Bulk rows, as register_case/add_applicant would write them but without their audit events
    # (seeding is not what is measured). Cases spread over the past year, oldest first.
    rng = random.Random(2016)
    today = utcnow().date()
    start = utcnow() - timedelta(days=365)
    step = timedelta(days=365) / max(n_cases, 1)
    case_ids: list[uuid.UUID] = []
    applicants = 0
    with engine.begin() as conn:
        for first in range(1, n_cases + 1, BATCH):
            case_rows: list[dict[str, Any]] = []
            applicant_rows: list[dict[str, Any]] = []
            for number in range(first, min(first + BATCH, n_cases + 1)):
                case, members = synthetic_family(rng, today)
                case_id = uuid.uuid4()
                created = start + step * number
                case_rows.append(
                    {
                        "id": case_id,
                        "case_number": f"{SITE_CODE}-{number:06d}",
                        "external_ref": None,
                        "site_id": site_id,
                        "destination": case["destination"],
                        "programme": case["programme"],
                        "planned_departure": case["planned_departure"],
                        "version": 1,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                for k, person in enumerate([case["principal"], *members]):
                    applicant_rows.append(
                        _applicant_row(person, case_id, created + timedelta(milliseconds=k))
                    )
                case_ids.append(case_id)
            conn.execute(insert(FamilyCase), case_rows)
            conn.execute(insert(Applicant), applicant_rows)
            # The search keys (about 30 per member): COPY, as INSERTs would take minutes.
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor().copy(
                "COPY applicant_search_keys (applicant_id, case_id, key) FROM STDIN"
            ) as copy:
                for row in applicant_rows:
                    parts = (
                        row["family_name"],
                        row["given_names"],
                        row["family_name_original"],
                        row["given_names_original"],
                    )
                    for key in _index(*parts)[2]:
                        copy.write_row((row["id"], row["case_id"], key))
            applicants += len(applicant_rows)
        conn.execute(update(Site).where(Site.id == site_id).values(case_seq=n_cases))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return site_id, token, case_ids, applicants


def prepare(url: str, audit_key: str, n_cases: int) -> Seeded:
    recreate_database(url)
    t0 = time.perf_counter()
    upgrade(url=url)
    migrate_s = time.perf_counter() - t0
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(CREATE_TABLE))  # the durable-write baseline's table
        t0 = time.perf_counter()
        site_id, token, case_ids, applicants = seed(engine, audit_key, n_cases)
        seed_s = time.perf_counter() - t0
    finally:
        engine.dispose()
    return Seeded(site_id, token, case_ids, applicants, migrate_s, seed_s)


# ---------------------------------------------------------------------------------------------
# Server: gunicorn in a subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(
    app: str, url: str, audit_key: str, port: int, workers: int, threads: int, freeze: bool
) -> Iterator[Any]:
    env = {
        **os.environ,
        "PMHA_ENV": "production",
        "PMHA_DATABASE_URL": url,
        "PMHA_BROKER_URL": BROKER_URL,
        "PMHA_SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "PMHA_AUDIT_KEY": audit_key,
        "PMHA_STORAGE_DIR": tempfile.mkdtemp(prefix="pmha-bench-storage-"),
        "PMHA_BENCH_ENDPOINTS": "1",
        "PMHA_GC_FREEZE": "1" if freeze else "0",
        **_file_keys(),
    }
    # The production settings (gunicorn.conf.py: preload, gc.freeze() before fork), with the
    # benchmark's own sizes and address on top.
    cmd = [
        sys.executable, "-m", "gunicorn", "--config", str(CONFIG),
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
        "--bind", f"127.0.0.1:{port}", "--keep-alive", "10", "--backlog", "1024",
        "--no-control-socket", app,
    ]  # fmt: skip
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (kept open for the server's lifetime)
        "w+", prefix="pmha-bench-gunicorn-", suffix=".log", delete=False
    )
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(proc, port, log.name, deadline_s=60)
        yield proc, log.name
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _file_keys() -> dict[str, str]:
    # Production mode wants encryption keys for stored files where the code has them.
    try:
        from pmha.core.file_crypto import new_key_text  # type: ignore[attr-defined]
    except ImportError:
        return {}
    return {"PMHA_FILE_KEYS": new_key_text("bench1")}


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{tail(log)}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /healthz within {deadline_s:.0f} s:\n{tail(log)}")


def tail(path: str, lines: int = 30) -> str:
    return "".join(Path(path).read_text(errors="replace").splitlines(True)[-lines:])


# ---------------------------------------------------------------------------------------------
# Scenarios


def search_terms(rng: random.Random) -> list[str]:
    """Names a desk would type: family or given names in Latin or original script, and pairs."""
    family = [pair for pairs in FAMILY.values() for pair in pairs]
    given = [pair for lists in (MALE, FEMALE) for names_ in lists.values() for pair in names_]
    terms = [name for pair in family + given for name in pair]
    terms += [f"{rng.choice(given)[0]} {rng.choice(family)[0]}" for _ in range(40)]
    terms += [f"{rng.choice(family)[1]} {rng.choice(given)[1]}" for _ in range(20)]
    return terms


def child_bodies(rng: random.Random, count: int) -> list[bytes]:
    today = utcnow().date()
    bodies: list[bytes] = []
    while len(bodies) < count:
        _case, members = synthetic_family(rng, today)
        for person in members:
            if person["relationship"] == "child":
                person["acknowledge_duplicates"] = True
                bodies.append(json.dumps(person, default=_json_default).encode())
    return bodies[:count]


def _json_default(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def scenarios(seeded: Seeded) -> list[tuple[str, MakeRequest, bool]]:
    """(name, request maker, authenticated): the baseline first."""
    rng = random.Random(7)
    searches = [json.dumps({"q": term}).encode() for term in search_terms(rng)]
    children = child_bodies(rng, 5000)
    ids = [str(case_id) for case_id in seeded.case_ids]
    row = f"/bench/row/{seeded.site_id}"
    write = f"/bench/write/{seeded.site_id}"
    return [
        ("bare row read (ceiling)", lambda r: ("GET", row, None), False),
        ("bare durable write (ceil.)", lambda r: ("POST", write, None), False),
        ("case search", lambda r: ("POST", "/api/v1/cases/search", r.choice(searches)), True),
        ("case read", lambda r: ("GET", f"/api/v1/cases/{r.choice(ids)}", None), True),
        (
            "applicant create",
            lambda r: ("POST", f"/api/v1/cases/{r.choice(ids)}/applicants", r.choice(children)),
            True,
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=10_000, help="synthetic cases to seed")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per scenario")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured time per scenario")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="dropped and recreated")
    parser.add_argument(
        "--app",
        default=APP,
        help="WSGI app for gunicorn (to compare a variant; default %(default)s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="WORD",
        help="run only scenarios whose names contain WORD (repeatable; the baselines always run)",
    )
    parser.add_argument(
        "--mode",
        choices=("closed", "open", "both"),
        default="both",
        help="closed loop (--clients), open loop (--rates), or both (default)",
    )
    parser.add_argument(
        "--rates",
        default="5,20,50",
        help="open loop: arrival rates in requests/s, comma-separated (default %(default)s)",
    )
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="run gunicorn without gc.freeze() before fork (PMHA_GC_FREEZE=0), to compare",
    )
    args = parser.parse_args(argv)
    rates = [float(v) for v in args.rates.split(",") if v.strip()]

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    audit_key = secrets.token_urlsafe(36)  # 48 characters
    facts = [
        ("machine", f"{platform.machine()}, {cpus} CPUs usable (os.cpu_count()={os.cpu_count()}), "
                    f"Python {platform.python_version()}"),
        ("server", f"gunicorn -c gunicorn.conf.py, {args.workers} workers x {args.threads} "
                   f"threads (gthread), preload, gc.freeze() "
                   f"{'OFF' if args.no_gc_freeze else 'on'}, PMHA_ENV=production, app {args.app}"),
        ("load", f"mode {args.mode}: {args.clients} closed-loop clients (threads, keep-alive); "
                 f"open loop at {args.rates} requests/s (Poisson); "
                 f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per scenario"),
        ("load avg", " ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1, 5, 15 min) at start"),
        ("note", "the load generator, gunicorn and PostgreSQL share the same CPUs"),
    ]  # fmt: skip
    print("PMHA API load benchmark")
    for key, value in facts:
        print(f"  {key:<12} {value}")

    t0 = time.perf_counter()
    seeded = prepare(args.database_url, audit_key, args.cases)
    print(
        f"  {'database':<12} {make_url(args.database_url).render_as_string()}: migrated in "
        f"{seeded.migrate_s:.1f} s; seeded {len(seeded.case_ids):,} cases and "
        f"{seeded.applicants:,} applicants in {seeded.seed_s:.1f} s "
        f"(setup total {time.perf_counter() - t0:.1f} s)"
    )
    plan = scenarios(seeded)
    if args.only:
        plan = plan[:BASELINES] + [p for p in plan[BASELINES:] if any(w in p[0] for w in args.only)]
    json_headers = {"Content-Type": "application/json", "Accept": "application/json"}
    auth_headers = {**json_headers, "Authorization": f"Bearer {seeded.token}"}

    port = free_port()
    results: list[Result] = []
    open_results: list[Result] = []
    server = gunicorn(
        args.app,
        args.database_url,
        audit_key,
        port,
        args.workers,
        args.threads,
        freeze=not args.no_gc_freeze,
    )
    with server as (proc, log):
        print(f"  {'server log':<12} {log}\n")
        target = Target(
            port=port,
            master_pid=proc.pid,
            database=make_url(args.database_url).database or "",
            clients=args.clients,
            warmup=args.warmup,
            seconds=args.seconds,
        )
        for name, make, authenticated in plan if args.mode != "open" else []:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            headers = auth_headers if authenticated else json_headers
            results.append(run_scenario(name, make, headers, target))
        for name, make, authenticated in plan if args.mode != "closed" else []:
            headers = auth_headers if authenticated else json_headers
            for rate in rates:
                print(f"running {name} at {rate:g}/s ...", file=sys.stderr, flush=True)
                open_results.append(run_open(name, make, headers, target, rate))
    if results:
        print(f"Closed loop, {args.clients} clients ('of ceil.': share of the durable write's)")
        print_table(results, ceilings=BASELINES)
        print_cpu(results, cpus)
    if open_results:
        print(
            "\nOpen loop (Poisson arrivals; latency from the scheduled arrival, so queueing "
            "counts; CPU ms/req = gunicorn + PostgreSQL)"
        )
        print_open_table(open_results)
        print_cpu(open_results, cpus)
    print(f"\n  {'load avg':<12} " + " ".join(f"{v:.2f}" for v in os.getloadavg()) + " at end")
    server_errors = sum(
        " ERROR " in line for line in Path(log).read_text(errors="replace").splitlines()
    )
    if server_errors:
        print(f"\nThe server log has {server_errors} ERROR lines: {log}")
    if any(r.errors for r in results + open_results):
        print("\nSome requests failed: the figures above count successful requests only.")


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        main()
