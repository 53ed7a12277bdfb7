"""Departure board benchmark: a busy day's board of 300 travellers (80 families) on one flight.

Seeds a fresh SQLite database through the services (every traveller planned by the rule engine;
each family's principal fully examined and cleared, the others planned with their exam still to
do; PECs for half the cleared, a few escorts and certificates): flight 1 carries 80 families,
300 travellers, flight 2 carries 13 families, 49 travellers. Then, signed in as operations
through the Flask test client, it renders each flight's board page (`GET /departures/<id>`) and
flight 1's CSV, and, as the baseline in the same run, a single family's workflow page
(`GET /cases/<id>/workflow`). Prints the median and p95 render time, the median CPU time and
garbage-collection time per render, the SQL statements per render and the load average. It
asserts nothing about time.

    .venv/bin/python benchmarks/departure_board.py [--renders 15] [--freeze]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the test factories

from pmha.app import create_app  # noqa: E402
from pmha.cases import service as cases  # noqa: E402
from pmha.cases.schemas import ApplicantIn  # noqa: E402
from pmha.core import migrate  # noqa: E402
from pmha.core.db import database  # noqa: E402
from pmha.travel import certificates, checks, departures  # noqa: E402
from pmha.travel.commands import NewCheck, NewDeparture, SetEscort  # noqa: E402
from pmha.workflow import service as workflow  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import config_for_tests, login  # noqa: E402
from tests.travel.helpers import clear  # noqa: E402

# Flight 1 carries 80 families, 300 travellers (20 x (3 + 4 + 4 + 4)): the brief's busy day of
# ~300 departures on one board (BRIEF 9). Flight 2 carries 13 families, 49 travellers, so that the
# cost per traveller can be compared between a small and a full board.
BIG, SMALL, SIZES = 80, 13, (3, 4, 4, 4)
CASES = BIG + SMALL


def _name(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"Bench{letters[n // 26].lower()}{letters[n % 26].lower()}"


def seed(app: Any) -> tuple[tuple[str, int], tuple[str, int], str]:
    db = database(app)
    rules = app.extensions["pmha.rules"]
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        ops, doctor = world.actor("operations"), world.actor("panel_physician")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        flights = [
            departures.create_departure(
                session,
                ops,
                NewDeparture(
                    carrier="TK" if i % 2 else "QR",
                    flight_number=str(100 + i),
                    route="IST-ORD",
                    destination="US",
                    departs_at=now + timedelta(hours=30 + 3 * i),
                ),
            )
            for i in range(2)
        ]
        first_case = ""
        sizes = [0, 0]
        for n in range(CASES):
            case = factories.make_case(
                session,
                ops,
                principal=factories.applicant_data(
                    family_name=_name(n),
                    given_names="Principal",
                    family_name_original=None,
                    given_names_original=None,
                    dob=f"19{60 + n % 30}-0{1 + n % 9}-1{n % 9}",
                    acknowledge_duplicates=True,
                ),
            )
            for k in range(SIZES[n % 4] - 1):
                cases.add_applicant(
                    session,
                    ops,
                    case.id,
                    ApplicantIn().load(
                        factories.applicant_data(
                            family_name=_name(n),
                            given_names=("Ali", "Sara", "Yusuf")[k],
                            family_name_original=None,
                            given_names_original=None,
                            dob=f"20{10 + k}-0{1 + k}-0{1 + k}",
                            relationship="child",
                            acknowledge_duplicates=True,
                        )
                    ),
                )
            session.flush()
            session.expire_all()
            flight = 0 if n < BIG else 1
            departures.book_case(session, ops, flights[flight].id, case.id)
            sizes[flight] += len(case.applicants)
            principal = case.principal
            assert principal is not None
            clear(session, world, rules, principal.id)
            for member in case.applicants:
                workflow.current(session, doctor, rules, member.id)
            if n % 2 == 0:
                checks.record_check(
                    session,
                    doctor,
                    principal.id,
                    NewCheck(
                        kind="pec",
                        checked_at=now - timedelta(minutes=10),
                        temperature_c=36.6,
                        mobility="WCHR" if n % 10 == 0 else "none",
                    ),
                )
            if n % 16 == 3:
                checks.set_escort(
                    session,
                    ops,
                    principal.id,
                    SetEscort(escort_type="nurse", plan="Nurse escort", medif_status="sent"),
                )
            first_case = first_case or str(case.id)
        # Certificates where the family rule allows (single-member families never: all have 3+).
        for departure in flights:
            board = departures.build_board(session, ops, departure)
            for row in board.rows:
                for a, _ in row.travellers:
                    if a.id in row.readiness.certifiable:
                        certificates.issue_certificate(session, ops, a.id)
        return (str(flights[0].id), sizes[0]), (str(flights[1].id), sizes[1]), first_case


@dataclass
class Figures:
    median: float  # wall ms
    p95: float
    cpu: float  # median CPU ms of this process (the test client runs the app in-process)
    gc: float  # median ms spent in garbage collection
    queries: float
    size: int  # bytes of the response


class GcClock:
    """Time spent in the cyclic garbage collector, from gc.callbacks."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


def measure(client: Any, url: str, renders: int, counter: list[int], clock: GcClock) -> Figures:
    client.get(url)  # warm caches (templates, rule policies)
    walls, cpus, gcs, queries = [], [], [], []
    size = 0
    for _ in range(renders):
        counter[0] = 0
        clock.total = 0.0
        cpu, start = time.process_time(), time.perf_counter()
        response = client.get(url)
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        gcs.append(clock.total * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.append(counter[0])
        size = len(response.data)
    walls.sort()
    p95 = walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]
    return Figures(
        statistics.median(walls),
        p95,
        statistics.median(cpus),
        statistics.median(gcs),
        statistics.median(queries),
        size,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=15)
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() after seeding (what a worker with frozen start-up objects sees)",
    )
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one line per request would drown the table
    tmp = Path(tempfile.mkdtemp(prefix="pmha-bench-departures-"))
    app = create_app(config_for_tests(f"sqlite:///{tmp / 'bench.db'}", tmp / "var"))
    with database(app).engine.begin() as conn:
        migrate.upgrade(connection=conn)
    started = time.perf_counter()
    big, small, case_id = seed(app)
    print(
        f"seeded {CASES} families on two flights ({BIG} families on flight 1, {SMALL} on "
        f"flight 2) in {time.perf_counter() - started:.0f} s ({tmp})"
    )
    gc.collect()
    if args.freeze:
        gc.freeze()
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    event.listen(database(app).engine, "before_cursor_execute", count)
    clock = GcClock()
    client = app.test_client()
    login(client, "t_operations")
    load = os.getloadavg()
    pages: list[tuple[str, str, int]] = [
        ("baseline: one family's workflow page", f"/cases/{case_id}/workflow", 0),
        ("board, flight 2", f"/departures/{small[0]}", small[1]),
        ("board, flight 1", f"/departures/{big[0]}", big[1]),
        ("board CSV, flight 1", f"/departures/{big[0]}/board.csv", big[1]),
    ]
    print(
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 CPUs); {args.renders} renders "
        f"each; gc {'frozen after seeding' if args.freeze else 'as started'}"
    )
    head = (
        f"\n{'page':<38} {'travellers':>10} {'median ms':>9} {'p95 ms':>7} {'CPU ms':>7} "
        f"{'gc ms':>6} {'CPU/trav':>8} {'queries':>7} {'KB':>5}"
    )
    print(head)
    for name, url, travellers in pages:
        f = measure(client, url, args.renders, counter, clock)
        per = f"{f.cpu / travellers:.2f}" if travellers else "-"
        print(
            f"{name:<38} {travellers or 1:>10} {f.median:>9.1f} {f.p95:>7.1f} {f.cpu:>7.1f} "
            f"{f.gc:>6.1f} {per:>8} {f.queries:>7.0f} {f.size / 1024:>5.0f}"
        )
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
