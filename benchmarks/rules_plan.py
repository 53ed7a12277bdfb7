"""Plans per second on one core over a synthetic population, next to loading the facts alone.

    .venv/bin/python benchmarks/rules_plan.py            # 100,000 applicants (the default)
    .venv/bin/python benchmarks/rules_plan.py --applicants 20000 --seed 7

Prints figures; asserts nothing about time. The target: IOM's 2018 volume (377,752 health
assessments, BRIEF.md section 9) re-planned in under 30 seconds. Each step prints wall-clock time
and the process's CPU time: on a shared machine the wall clock includes waiting for the core,
so compare CPU times between runs when the load differs.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pmha.rules import Facts, load_rules, plan

IOM_2018 = 377_752
TARGET_SECONDS = 30.0
RULES_DIR = Path(__file__).resolve().parents[1] / "country_rules"
# IOM 2015: US 38.4 %, UK 29.8 % of assessments; the rest split by judgement.
DESTINATIONS = [("US", 38), ("GB", 30), ("CA", 16), ("AU", 10), ("NZ", 6)]
PROGRAMMES = {
    "US": [("immigrant", 65), ("refugee", 35)],
    "GB": [("student", 30), ("immigrant", 30), ("family_reunification", 15), ("refugee", 25)],
    "CA": [("immigrant", 50), ("refugee", 35), ("family_reunification", 15)],
    "AU": [("immigrant", 40), ("humanitarian", 45), ("temporary", 15)],
    "NZ": [("temporary", 50), ("immigrant", 30), ("refugee", 20)],
}
EXAM_COUNTRIES = [("TR", 60), ("PK", 15), ("IN", 10), ("PH", 10), ("JO", 5)]
# Results in the order they arrive, with the chance that each is positive/abnormal.
STAGES = [
    ("medical_history", "completed", "completed", 0.0),
    ("physical_exam", "normal", "abnormal", 0.1),
    ("igra", "negative", "positive", 0.12),
    ("chest_xray", "normal", "suggestive_of_tb", 0.04),
    ("sputum_smear", "negative", "positive", 0.1),
    ("sputum_culture", "negative", "positive", 0.1),
    ("syphilis_serology", "non_reactive", "reactive", 0.01),
]


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def synthetic(rng: random.Random) -> dict[str, Any]:
    destination = pick(rng, DESTINATIONS)
    exam = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 365))
    # Median age about 24 (IOM 2015); a fifth are children.
    years = rng.randrange(0, 15) if rng.random() < 0.2 else int(rng.triangular(15, 75, 24))
    dob = exam - timedelta(days=years * 365 + rng.randrange(0, 365))
    sex = rng.choice(["female", "male"])
    facts: dict[str, Any] = {
        "dob": dob.isoformat(),
        "exam_date": exam.isoformat(),
        "sex": sex,
        "programme": pick(rng, PROGRAMMES[destination]),
        "destination": destination,
        "exam_country": pick(rng, EXAM_COUNTRIES),
        "tb_history": rng.random() < 0.02,
        "tb_contact": rng.random() < 0.05,
        "tb_symptoms": rng.random() < 0.03 if rng.random() < 0.8 else None,
        "known_hiv": rng.random() < 0.005,
        "departure_date": (exam + timedelta(days=rng.randrange(30, 180))).isoformat(),
    }
    if sex == "female" and 15 <= years < 45:
        facts["pregnant"] = rng.random() < 0.04
        if facts["pregnant"]:
            facts["gestation_weeks"] = rng.randrange(4, 40)
    results: dict[str, Any] = {}
    for code, normal, abnormal, chance in STAGES[: rng.randrange(0, len(STAGES) + 1)]:
        day = exam + timedelta(days=len(results))
        value = abnormal if rng.random() < chance else normal
        results[code] = {"value": value, "date": day.isoformat()}
    facts["results"] = results
    return facts


def timed(label: str, count: int, work: Any) -> tuple[float, float]:
    """Run `work`; print and return its wall-clock and CPU seconds."""
    start, cpu_start = time.perf_counter(), time.process_time()
    work()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(
        f"  {label:<40} {seconds:7.2f} s wall {cpu:7.2f} s CPU"
        f"   {count / seconds:>9,.0f} per second (wall)"
    )
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    n = args.applicants

    start = time.perf_counter()
    book = load_rules(RULES_DIR)
    print(f"rule files loaded and compiled in {1000 * (time.perf_counter() - start):.1f} ms")
    raw = [synthetic(rng) for _ in range(n)]
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    print(f"{n:,} synthetic applicants, one core:")
    facts: list[Facts] = []
    baseline = timed(
        "baseline: load facts (Facts.from_dict)", n, lambda: facts.extend(map(Facts.from_dict, raw))
    )
    as_of = date(2025, 12, 31)
    plans: list[Any] = []
    seconds = timed(
        "plan (facts checked again)", n, lambda: plans.extend(plan(f, book, as_of) for f in facts)
    )
    unchecked = timed(
        "plan (check=False)", n, lambda: [plan(f, book, as_of, check=False) for f in facts]
    )
    timed("plan.to_dict (JSON-ready)", n, lambda: [p.to_dict() for p in plans])
    end_to_end = baseline[0] + seconds[0], baseline[1] + seconds[1]
    statuses: dict[str, int] = {}
    for p in plans:
        for item in p.requirements:
            statuses[item.status] = statuses.get(item.status, 0) + 1
    print(f"  requirement statuses over the population: {dict(sorted(statuses.items()))}")
    for label, (wall, cpu) in [
        ("plan only", seconds),
        ("plan, check=False", unchecked),
        ("load facts + plan", end_to_end),
    ]:
        projected, projected_cpu = wall / n * IOM_2018, cpu / n * IOM_2018
        verdict = "within" if projected <= TARGET_SECONDS else "OVER"
        print(
            f"projection, IOM 2018 ({IOM_2018:,} assessments), {label:<18}: "
            f"{projected:6.1f} s wall ({verdict} the {TARGET_SECONDS:.0f} s target), "
            f"{projected_cpu:6.1f} s CPU"
        )


if __name__ == "__main__":
    main()
