"""An HTTP load generator with per-process CPU accounting, for the benchmarks.

Closed loop (`run_scenario`): N clients, each a thread with its own keep-alive connection, send
the next request as soon as the last one answered, for a warm-up and then a measured window.
Latency is measured per request from send to last byte; only requests that start and finish
inside the window count.

Open loop (`run_open`): requests arrive at a fixed mean rate (Poisson arrivals, seeded) whatever
the server does, as independent users would; a pool of connections sends them. Latency runs from
each request's scheduled arrival to its last byte, so time spent waiting for a free connection
counts (no coordinated omission). Requests scheduled inside the window count, however late they
finish.
"""

from __future__ import annotations

import http.client
import os
import queue
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

# A request: method, path, body (already JSON-encoded) or None.
Request = tuple[str, str, bytes | None]
MakeRequest = Callable[[random.Random], Request]


@dataclass(frozen=True)
class Target:
    """Where the load goes and whose CPU to count: the server's master pid, its database."""

    port: int
    master_pid: int
    database: str
    clients: int
    warmup: float
    seconds: float


# ---------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc): who used the CPUs during a window


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _pids(comm: str | None = None, parent: int | None = None) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if (comm is None or name == comm) and (parent is None or ppid == parent):
            found.append(int(entry.name))
    return found


def _machine_busy() -> float:
    # CPU seconds spent by anything on the machine (everything but idle and I/O wait).
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / _TICK


def _backends(database: str) -> list[int]:
    # PostgreSQL backends title themselves "postgres: <cluster>: <user> <database> <client> ...":
    # count only those of the benchmark database, not other people's on a shared server.
    found = []
    for pid in _pids(comm="postgres"):
        with suppress(OSError):
            if f" {database} " in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                found.append(pid)
    return found


def cpu_snapshot(master: int, database: str) -> dict[str, float]:
    workers = _pids(parent=master)
    return {
        "gunicorn": sum(_proc_cpu(p) for p in [master, *workers]),
        "postgres": sum(_proc_cpu(p) for p in _backends(database)),
        "load generator": time.process_time(),
        "machine": _machine_busy(),
    }


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    warmup_errors: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    offered: float | None = None  # open loop: the arrival rate asked for (requests/s)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def run_scenario(name: str, make: MakeRequest, headers: dict[str, str], target: Target) -> Result:
    """Drive one scenario with target.clients clients; figures for the measured window only."""
    port, clients, warmup, seconds = target.port, target.clients, target.warmup, target.seconds
    result = Result(name, seconds)
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    window: dict[str, float] = {}

    def client(index: int) -> None:
        rng = random.Random(f"{name}-{index}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        warmup_errors = 0
        ready.wait()
        begin, end = window["begin"], window["end"]
        while (started := time.perf_counter()) < end:
            method, path, body = make(rng)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                outcome = None if 200 <= response.status < 300 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            finished = time.perf_counter()
            if started < begin:
                warmup_errors += outcome is not None
            elif finished <= end:  # a request cut by the end of the window counts for nothing
                if outcome is None:
                    latencies.append(finished - started)
                else:
                    errors[outcome] += 1
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors.update(errors)
            result.warmup_errors += warmup_errors

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    # Every client reads the shared window only after the barrier, so it is set just before.
    now = time.perf_counter()
    window.update(begin=now + warmup, end=now + warmup + seconds)
    ready.wait()
    time.sleep(warmup)
    before, t0 = cpu_snapshot(target.master_pid, target.database), time.perf_counter()
    for thread in threads:
        thread.join()
    after = cpu_snapshot(target.master_pid, target.database)
    result.cpu = {k: after[k] - before[k] for k in after}
    result.cpu["wall"] = time.perf_counter() - t0  # the window plus the last requests in flight
    result.loadavg = os.getloadavg()
    return result


def run_open(
    name: str,
    make: MakeRequest,
    headers: dict[str, str],
    target: Target,
    rate: float,
    *,
    connections: int = 64,
    drain: float = 30.0,
) -> Result:
    """Offer `rate` requests/s (Poisson) for a warm-up and the window; figures for the window."""
    port, warmup, seconds = target.port, target.warmup, target.seconds
    result = Result(f"{name} @{rate:g}/s", seconds, offered=rate)
    rng = random.Random(f"{name}-{rate}")
    arrivals: list[float] = []
    t = rng.expovariate(rate)
    while t < warmup + seconds:
        arrivals.append(t)
        t += rng.expovariate(rate)
    jobs: queue.Queue[tuple[float, Request] | None] = queue.Queue()
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    begin, end = start + warmup, start + warmup + seconds

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while (job := jobs.get()) is not None:
            scheduled, (method, path, body) = job
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                outcome = None if 200 <= response.status < 300 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            finished = time.perf_counter()
            with lock:
                if scheduled < begin:
                    result.warmup_errors += outcome is not None
                elif outcome is None:
                    result.latencies.append(finished - scheduled)
                else:
                    result.errors[outcome] += 1
        conn.close()

    pool = [threading.Thread(target=sender, daemon=True) for _ in range(connections)]
    for thread in pool:
        thread.start()
    requests = [make(rng) for _ in arrivals]
    before: dict[str, float] | None = None
    t0 = start
    for offset, request in zip(arrivals, requests, strict=True):
        due = start + offset
        if before is None and due >= begin:
            before, t0 = cpu_snapshot(target.master_pid, target.database), time.perf_counter()
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        jobs.put((due, request))
    for _ in pool:
        jobs.put(None)
    deadline = time.perf_counter() + max(0.0, end - time.perf_counter()) + drain
    for thread in pool:
        thread.join(timeout=max(0.0, deadline - time.perf_counter()))
    after = cpu_snapshot(target.master_pid, target.database)
    before = before or after
    result.cpu = {k: after[k] - before[k] for k in after}
    result.cpu["wall"] = time.perf_counter() - t0
    result.loadavg = os.getloadavg()
    return result


# ---------------------------------------------------------------------------------------------
# Report


def print_table(results: list[Result], ceilings: int = 1) -> None:
    """Closed-loop results; the first `ceilings` rows are baselines, the share is of the last."""
    ceiling = results[ceilings - 1].rate if len(results) >= ceilings else float("nan")
    ceiling = ceiling or float("nan")
    head = (
        f"{'scenario':<30}{'requests':>9}{'req/s':>9}{'of ceil.':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}{'load 1m':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.name:<30}{len(r.latencies):>9}{r.rate:>9.1f}{r.rate / ceiling:>9.0%}"
            f"{r.percentile(50):>9.1f}{r.percentile(95):>9.1f}{r.percentile(99):>9.1f}"
            f"{sum(r.errors.values()):>8}{r.loadavg[0]:>9.2f}"
        )
    _print_errors(results)


def print_open_table(results: list[Result]) -> None:
    """Open-loop results: achieved against offered rate, latency from the scheduled arrival."""
    head = (
        f"{'scenario @ offered rate':<34}{'done':>7}{'req/s':>8}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}{'CPU ms/req':>11}{'load 1m':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        per_req = (r.cpu.get("gunicorn", 0.0) + r.cpu.get("postgres", 0.0)) / max(
            len(r.latencies), 1
        )
        print(
            f"{r.name:<34}{len(r.latencies):>7}{r.rate:>8.1f}"
            f"{r.percentile(50):>9.1f}{r.percentile(95):>9.1f}{r.percentile(99):>9.1f}"
            f"{sum(r.errors.values()):>8}{per_req * 1000:>11.2f}{r.loadavg[0]:>9.2f}"
        )
    _print_errors(results)


def _print_errors(results: list[Result]) -> None:
    for r in results:
        if r.errors:
            kinds = ", ".join(f"{k} x{n}" for k, n in r.errors.most_common())
            print(f"  ERRORS in {r.name}: {kinds}")
        if r.warmup_errors:
            print(f"  {r.name}: {r.warmup_errors} errors during the warm-up (not counted above)")


def print_cpu(results: list[Result], cpus: int) -> None:
    print(
        f"\nCPU seconds used during each measured window next to its wall time; 'others' is "
        f"everything else running on\nthe machine (available = wall x {cpus} CPUs)"
    )
    head = (
        f"{'scenario':<30}{'wall s':>8}{'gunicorn':>9}{'postgres':>9}{'load gen':>9}"
        f"{'others':>8}{'avail.':>8}{'server+db ms/req':>18}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        cpu = {k: r.cpu.get(k, 0.0) for k in ("gunicorn", "postgres", "load generator", "machine")}
        ours = cpu["gunicorn"] + cpu["postgres"] + cpu["load generator"]
        per_req = (cpu["gunicorn"] + cpu["postgres"]) / max(len(r.latencies), 1) * 1000
        wall = r.cpu.get("wall", r.seconds)
        print(
            f"{r.name:<30}{wall:>8.1f}{cpu['gunicorn']:>9.1f}{cpu['postgres']:>9.1f}"
            f"{cpu['load generator']:>9.1f}{max(cpu['machine'] - ours, 0.0):>8.1f}"
            f"{wall * cpus:>8.1f}{per_req:>18.2f}"
        )
