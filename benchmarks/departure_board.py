"""Departure board benchmark: a busy day of 300 travellers in 80 families on 6 flights.

Seeds a fresh SQLite database through the services (every traveller planned by the rule engine;
each family's principal fully examined and cleared, the others planned with their exam still to
do; PECs for half the cleared, a few escorts and certificates), then renders each flight's board
page as operations (`GET /departures/<id>`) and its CSV, and, as the baseline in the same run,
a single family's workflow page (`GET /cases/<id>/workflow`). Prints the median and p95 render
time and the SQL statements per render. It asserts nothing about time.

    .venv/bin/python benchmarks/departure_board.py [--renders 15]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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
from pmha.workflow import service as workflow  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import config_for_tests, login  # noqa: E402
from tests.travel.helpers import clear  # noqa: E402

FLIGHTS, CASES, SIZES = 6, 80, (3, 4, 4, 4)  # 20 x (3 + 4 + 4 + 4) = 300 travellers


def _name(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"Bench{letters[n // 26].lower()}{letters[n % 26].lower()}"


def seed(app: Any) -> tuple[list[str], str]:
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
                {
                    "carrier": "TK" if i % 2 else "QR",
                    "flight_number": str(100 + i),
                    "route": "IST-ORD",
                    "destination": "US",
                    "departs_at": now + timedelta(hours=30 + 3 * i),
                },
            )
            for i in range(FLIGHTS)
        ]
        first_case = ""
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
            departures.book_case(session, ops, flights[n % FLIGHTS].id, case.id)
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
                    {
                        "kind": "pec",
                        "checked_at": now - timedelta(minutes=10),
                        "temperature_c": 36.6,
                        "mobility": "WCHR" if n % 10 == 0 else "none",
                    },
                )
            if n % 16 == 3:
                checks.set_escort(
                    session,
                    ops,
                    principal.id,
                    {"escort_type": "nurse", "plan": "Nurse escort", "medif_status": "sent"},
                )
            first_case = first_case or str(case.id)
        # Certificates where the family rule allows (single-member families never: all have 3+).
        for flight in flights:
            board = departures.build_board(session, ops, flight)
            for row in board.rows:
                for a, _ in row.travellers:
                    if a.id in row.readiness.certifiable:
                        certificates.issue_certificate(session, ops, a.id)
        return [str(f.id) for f in flights], first_case


def measure(client: Any, url: str, renders: int, counter: list[int]) -> tuple[float, float, float]:
    client.get(url)  # warm caches (templates, rule policies)
    times, queries = [], []
    for _ in range(renders):
        counter[0] = 0
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.append(counter[0])
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, statistics.median(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=15)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one line per request would drown the table
    tmp = Path(tempfile.mkdtemp(prefix="pmha-bench-departures-"))
    app = create_app(config_for_tests(f"sqlite:///{tmp / 'bench.db'}", tmp / "var"))
    with database(app).engine.begin() as conn:
        migrate.upgrade(connection=conn)
    started = time.perf_counter()
    flights, case_id = seed(app)
    print(
        f"seeded {CASES} families, 300 travellers on {FLIGHTS} flights "
        f"in {time.perf_counter() - started:.0f} s ({tmp})"
    )
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    event.listen(database(app).engine, "before_cursor_execute", count)
    client = app.test_client()
    login(client, "t_operations")
    rows: list[tuple[str, Callable[[], tuple[float, float, float]]]] = [
        (
            "baseline: one family's workflow page",
            lambda: measure(client, f"/cases/{case_id}/workflow", args.renders, counter),
        ),
        *[
            (
                f"board, flight {i + 1} (~50 travellers)",
                lambda u=u: measure(client, f"/departures/{u}", args.renders, counter),
            )
            for i, u in enumerate(flights)
        ],
        (
            "board CSV, flight 1",
            lambda: measure(client, f"/departures/{flights[0]}/board.csv", args.renders, counter),
        ),
    ]
    print(f"\n{'page':<40} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    total = 0.0
    for name, run in rows:
        median, p95, queries = run()
        if name.startswith("board, "):
            total += median
        print(f"{name:<40} {median:>10.1f} {p95:>8.1f} {queries:>8.0f}")
    print(f"\nall six boards of the day (300 travellers): {total:.0f} ms of medians")


if __name__ == "__main__":
    main()
