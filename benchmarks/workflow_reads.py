"""Workflow reads that write nothing (issue 21), next to the re-plan-and-keep they replaced.

Seeds a fresh SQLite database with `--applicants` adults registered through the services (each
planned at its registration's commit), then times, per applicant, each in its own committed
transaction:
  - view, plan kept today: the read's cheapest case (the kept plan and steps, one audit event);
  - view, plan out of date: a new day since the plan was kept; it is worked out again in memory
    and shown, nothing but the audit event written (what every GET does since issue 21);
  - baseline, current, plan out of date: the same re-planning, kept (plan record, steps, audit):
    what a GET did before issue 21, and what a write still does;
  - registration with its plan at commit, next to registration with the plan handler removed
    (the cost the first plan adds to registering, now that no read makes it).
Prints the median and p95 wall time and the median CPU time per call. Asserts nothing about time.

    .venv/bin/python benchmarks/workflow_reads.py [--applicants 60]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the test factories

from pmha.app import create_app  # noqa: E402
from pmha.core import migrate  # noqa: E402
from pmha.core.db import database, utcnow  # noqa: E402
from pmha.workflow import service as workflow  # noqa: E402
from pmha.workflow.models import PlanRecord  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import config_for_tests  # noqa: E402


def _register(app: Any, actor: Any, n: int) -> Any:
    db = database(app)
    with app.app_context(), db.transaction() as session:
        letters = "abcdefghijklmnopqrstuvwxyz"
        name = "Bench" + "".join(letters[(n // 26**k) % 26] for k in range(3))
        person = factories.applicant_data(
            family_name=name, dob=f"19{60 + n % 40}-0{1 + n % 9}-1{n % 9}"
        )
        case = factories.make_case(session, actor, principal=person)
        return case.applicants[0].id


def _age(app: Any, applicant_id: Any) -> None:
    with app.app_context(), database(app).transaction() as session:
        session.execute(
            update(PlanRecord)
            .where(PlanRecord.applicant_id == applicant_id)
            .values(as_of=utcnow().date() - timedelta(days=1))
        )


def _timed(call: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def _row(name: str, samples: list[tuple[float, float]]) -> None:
    walls = sorted(w for w, _ in samples)
    p95 = walls[max(0, int(len(walls) * 0.95) - 1)]
    cpu = statistics.median(c for _, c in samples)
    print(f"{name:<52} {statistics.median(walls) * 1000:8.2f} {p95 * 1000:8.2f} {cpu * 1000:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=60)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    tmp = Path(tempfile.mkdtemp(prefix="pmha-bench-wf-"))
    app = create_app(config_for_tests(f"sqlite:///{tmp / 'bench.db'}", tmp / "var"))
    db = database(app)
    with db.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
    nurse, physician = world.actor("nurse"), world.actor("panel_physician")
    rules = app.extensions["pmha.rules"]

    registered: list[tuple[float, float]] = []
    ids = []
    for n in range(args.applicants):
        start = (time.perf_counter(), time.process_time())
        ids.append(_register(app, nurse, n))
        registered.append((time.perf_counter() - start[0], time.process_time() - start[1]))
    handlers = db.on_applicants_changed
    db.on_applicants_changed = []
    unplanned = [
        _timed(lambda n=n: _register(app, nurse, 10_000 + n)) for n in range(args.applicants)
    ]
    db.on_applicants_changed = handlers

    def read(kind: Callable[..., Any], applicant_id: Any) -> Callable[[], Any]:
        def run() -> None:
            with app.app_context(), db.transaction() as session:
                kind(session, physician, rules, applicant_id)

        return run

    fresh = [_timed(read(workflow.view, a)) for a in ids]
    for a in ids:
        _age(app, a)
    projected = [_timed(read(workflow.view, a)) for a in ids]
    kept = []
    for a in ids:  # each current() keeps today's plan: out of date again before the next run
        kept.append(_timed(read(workflow.current, a)))

    print(f"{args.applicants} adults (US refugee programme), SQLite, one transaction per call")
    print(f"{'per call':<52} {'median':>8} {'p95':>8} {'cpu':>8}  (ms)")
    _row("view, plan kept today", fresh)
    _row("view, plan out of date (worked out, nothing kept)", projected)
    _row("baseline: current, plan out of date (re-plan, kept)", kept)
    _row("register an applicant, planned at commit", registered)
    _row("baseline: register an applicant, no plan", unplanned)


if __name__ == "__main__":
    main()
