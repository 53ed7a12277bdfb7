"""DOT adherence and clearance recomputed, patients per second, next to reading the observations
alone (the baseline), over the same synthetic patients in the same run.

    .venv/bin/python benchmarks/dot.py                       # 5,000 patients, 180 doses each
    .venv/bin/python benchmarks/dot.py --patients 500 --doses 120 --seed 7

Setup (not measured): a scratch SQLite file with the tb_dot tables only; half the patients on
2HRZE/4HR (182 doses), half on the 4-month HPZM (119 doses), each with one entry per day
(about 5% missed, refused or self-administered) and monthly sputum checks.

  baseline   read every observation and sputum check, grouped by patient (one query each);
  recompute  the same reads, then for each patient: adherence per phase, interruption, loss to
             follow-up, sputum overdue and the WHO outcome (pmha.tb_dot.adherence.compute), the
             `tb_treatment_dot` result that outcome gives, the destination's plan under the US
             rule file (pmha.rules.plan: Class A or B0) and the clearance it allows
             (pmha.workflow.clearance.applicant_clearance).
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import create_engine, insert, select

from pmha.config import PROJECT_ROOT
from pmha.core.db import Base
from pmha.models import load_all
from pmha.rules import Facts, Result, load_rules, plan
from pmha.tb_dot.adherence import Sputum, compute
from pmha.tb_dot.models import DotObservation, SputumCheck, TbEpisode
from pmha.tb_dot.regimens import load_catalogue
from pmha.workflow.clearance import applicant_clearance

TODAY = dt.date(2026, 6, 1)
EXAM = dt.date(2026, 5, 25)  # the re-evaluation at the end of treatment: the exam is still valid
OTHER = ("missed", "refused", "self_administered")
POSITIVE = Result("positive", EXAM)
BASE = Facts(
    dob=dt.date(1985, 3, 14),
    exam_date=EXAM,
    sex="male",
    programme="refugee",
    destination="US",
    exam_country="TR",
    tb_history=False,
    tb_contact=False,
    tb_symptoms=False,
    known_hiv=False,
    extrapulmonary_tb=False,
)
BASE_RESULTS = {
    "chest_xray": Result("suggestive_of_tb", EXAM),
    "sputum_smear": POSITIVE,
    "sputum_culture": POSITIVE,
    "tb_naat": POSITIVE,
    "dst": Result("susceptible", EXAM),
    "syphilis_serology": Result("non_reactive", EXAM),
}


def seed(path: Path, patients: int, doses: int, rng: random.Random) -> Any:
    load_all()  # the tb_dot tables' foreign keys name applicants and sites
    engine = create_engine(f"sqlite:///{path}")
    tables = [TbEpisode.__table__, DotObservation.__table__, SputumCheck.__table__]
    Base.metadata.create_all(engine, tables=tables)  # type: ignore[arg-type]
    catalogue = load_catalogue(PROJECT_ROOT / "country_rules")["US"]
    start = TODAY - dt.timedelta(days=doses)
    episodes, observations, checks = [], [], []
    for n in range(patients):
        regimen = catalogue.regimens["2HRZE/4HR" if n % 2 else "HPZM"]
        episode_id = uuid.uuid4()
        episodes.append({
            "id": episode_id, "applicant_id": uuid.uuid4(), "site_id": uuid.uuid4(),
            "destination": "US", "status": "active", "diagnosed_on": start, "disease_site":
            "pulmonary", "susceptibility": "susceptible", "cavitation": False, "weight_kg": 60.0,
            "regimen_code": regimen.code, "phases": [p.to_dict() for p in regimen.phases],
            "extended": False, "start_date": start, "dot_site": "centre", "version": 1,
            "created_at": dt.datetime.now(dt.UTC), "updated_at": dt.datetime.now(dt.UTC),
        })  # fmt: skip
        for i in range(doses):
            status = rng.choice(OTHER) if rng.random() < 0.05 else "observed"
            observations.append({"id": uuid.uuid4(), "episode_id": episode_id,
                                 "dose_date": start + dt.timedelta(days=i), "status": status,
                                 "recorded_at": dt.datetime.now(dt.UTC)})  # fmt: skip
        for month in range(1, doses // 30 + 1):
            result = "positive" if month == 1 else "negative"
            checks.append({"id": uuid.uuid4(), "episode_id": episode_id, "month": month,
                           "collected_on": start + dt.timedelta(days=30 * month),
                           "smear": result, "culture": result,
                           "recorded_at": dt.datetime.now(dt.UTC)})  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(TbEpisode), episodes)
        for i in range(0, len(observations), 50_000):
            conn.execute(insert(DotObservation), observations[i : i + 50_000])
        conn.execute(insert(SputumCheck), checks)
    return engine


def read_all(
    engine: Any,
) -> tuple[list[Any], dict[Any, list[tuple[dt.date, str]]], dict[Any, list[Sputum]]]:
    doses: dict[Any, list[tuple[dt.date, str]]] = defaultdict(list)
    sputum: dict[Any, list[Sputum]] = defaultdict(list)
    with engine.connect() as conn:
        episodes = list(conn.execute(select(TbEpisode.__table__.c.id, TbEpisode.__table__.c.phases,
                                            TbEpisode.__table__.c.start_date)))  # fmt: skip
        t = DotObservation.__table__.c
        for episode_id, day, status in conn.execute(
            select(t.episode_id, t.dose_date, t.status).order_by(t.episode_id, t.dose_date)
        ):
            doses[episode_id].append((day, status))
        s = SputumCheck.__table__.c
        for episode_id, month, day, smear, culture in conn.execute(
            select(s.episode_id, s.month, s.collected_on, s.smear, s.culture)
        ):
            sputum[episode_id].append(Sputum(month, day, smear, culture))
    return episodes, doses, sputum


def baseline(engine: Any) -> int:
    episodes, doses, sputum = read_all(engine)
    return sum(1 for e in episodes if doses[e.id] is not None and sputum[e.id] is not None)


def recompute(engine: Any) -> tuple[int, dict[str, int]]:
    from pmha.tb_dot.regimens import Phase

    rulebook = load_rules(PROJECT_ROOT / "country_rules")
    ruleset = rulebook.for_destination("US")
    rules = load_catalogue(PROJECT_ROOT / "country_rules")["US"]
    episodes, doses, sputum = read_all(engine)
    tally: dict[str, int] = defaultdict(int)
    for e in episodes:
        phases = tuple(Phase(**p) for p in e.phases)
        progress = compute(phases, e.start_date, doses[e.id], sputum[e.id], rules, TODAY)
        outcome = progress.suggested_outcome()
        results = dict(BASE_RESULTS)
        if outcome is not None:
            results["tb_treatment_dot"] = Result(outcome, TODAY)
        facts = replace(BASE, results=MappingProxyType(results))
        found = plan(facts, ruleset, TODAY, check=False)
        open_step = "tb_treatment_dot" if outcome is None else ""
        steps = {i.code: ("pending" if i.code == open_step else "done", i.status)
                 for i in found.requirements}  # fmt: skip
        decision = applicant_clearance(found, None, steps, ruleset.clearance)
        tally[decision.status] += 1
    return len(episodes), dict(tally)


def measure(label: str, work: Callable[[], int]) -> tuple[float, float]:
    """Patients per wall second and per CPU second (on a loaded machine the CPU figure is the
    steadier of the two)."""
    start, cpu = time.perf_counter(), time.process_time()
    count = work()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = count / wall
    print(f"  {label:<40} {count:>6,} patients  {wall:7.3f} s wall  {cpu:7.3f} s CPU"
          f"  {rate:>7,.0f} patients/s  ({count / cpu:,.0f} per CPU second)")  # fmt: skip
    return rate, count / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--doses", type=int, default=180)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        engine = seed(Path(folder) / "dot.db", args.patients, args.doses, random.Random(args.seed))
        print(f"setup: {args.patients:,} patients x {args.doses} observations in "
              f"{time.perf_counter() - began:.1f} s (not measured)")  # fmt: skip
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
        tally: dict[str, int] = {}

        def work() -> int:
            count, found = recompute(engine)
            tally.update(found)
            return count

        baseline(engine)  # warm-up, not measured: the file into the page cache
        base = measure("baseline: read the observations", lambda: baseline(engine))
        rate = measure("adherence + outcome + plan + clearance", work)
        print(
            f"  recompute runs at {rate[0] / base[0]:.0%} of the read-only baseline by wall time, "
            f"{rate[1] / base[1]:.0%} by CPU time; clearance: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(tally.items()))
        )
        engine.dispose()


if __name__ == "__main__":
    main()
