"""CDC's whole healthy CDSi suite on one core: CPU ms per case and cases per second, next to a
naive evaluator doing the same kind of work over the same cases in the same run.

    .venv/bin/python benchmarks/cdsi_suite.py            # --rounds 5 (best of)

Engine: `pmha.vaccines.cdsi.forecast` for every case (organise the history, evaluate every dose
of every antigen against every series, select the best series, forecast every vaccine group).

Baseline, same inputs and same supporting data: the simplest evaluate-and-forecast there is.
It organises each case's history with the engine's own code (validation, CVX-to-antigen
mapping, chapters 4-5, which every run must pay), then for each antigen walks the doses
through its default series only, taking a dose as valid when it meets the target dose's
minimum age and minimum interval from the previous valid dose, and forecasts the next target
dose's earliest date from those two. No skip conditions, vaccine types, allowable intervals,
live-virus conflicts, series selection, immunity or group rules: it is wrong on much of the
suite (it is not scored) and it bounds from below what an evaluator of these cases costs. The
engine's figure over the baseline's is the price of CDSi's rules, not of the inputs.

The figure is CPU time (`time.process_time`), best of `--rounds`; the workbook read (openpyxl)
is printed apart. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pmha.vaccines.cdsi import Dose, Patient
from pmha.vaccines.cdsi.data import load_supporting_data, supporting_data
from pmha.vaccines.cdsi.dates import add_offset
from pmha.vaccines.cdsi.history import organise
from tests.vaccines.workbook import Case, load_cases, mismatches, run_case


def _cpu(work: Callable[[], object], rounds: int) -> float:
    """The least CPU seconds `work()` took over `rounds` runs."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def naive_forecast(data: Any, case: Case) -> dict[str, date | None]:
    """Each antigen's next dose by age and interval alone, on its default series (see above)."""
    dob = case.dob
    history = organise(
        data,
        Patient(dob, case.gender),
        [Dose(d.date, d.cvx, d.mvx or None) for d in case.doses],
        case.observations,
        case.assessment_date,
    )
    out: dict[str, date | None] = {}
    for antigen in data.antigens.values():
        if not antigen.series:
            continue
        series = next((s for s in antigen.series if s.default), antigen.series[0])
        target, last = 0, None
        for dose in history.by_antigen.get(antigen.name, ()):
            if target >= len(series.doses):
                break
            rule = series.doses[target]
            age = rule.ages[0] if rule.ages else None
            ok = age is None or age.min_age is None or dose.date >= add_offset(dob, age.min_age)
            gap = rule.intervals[0] if rule.intervals else None
            if ok and last is not None and gap is not None and gap.min is not None:
                ok = dose.date >= add_offset(last, gap.min)
            if ok:
                target, last = target + 1, dose.date
        earliest = None
        if target < len(series.doses):
            rule = series.doses[target]
            age = rule.ages[0] if rule.ages else None
            earliest = add_offset(dob, age.min_age) if age and age.min_age else dob
            gap = rule.intervals[0] if rule.intervals else None
            if last is not None and gap is not None and gap.min is not None:
                earliest = max(earliest, add_offset(last, gap.min))
        out[antigen.name] = earliest
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()
    started = time.perf_counter()
    cases = load_cases()
    workbook_seconds = time.perf_counter() - started

    data = supporting_data()
    with resources.as_file(resources.files("pmha.vaccines.cdsi") / "data") as directory:
        data_cpu = _cpu(lambda: load_supporting_data(Path(directory)), rounds=2)

    results: list[object] = []

    def run_all() -> None:
        results[:] = [run_case(case) for case in cases]

    def run_naive() -> None:
        for case in cases:
            with suppress(ValueError):  # the cases the engine refuses as input errors
                naive_forecast(data, case)

    load = os.getloadavg()
    run_all()  # warm the caches (offsets, supporting data) outside the measure
    run_naive()
    naive_cpu = _cpu(run_naive, args.rounds)
    suite_cpu = _cpu(run_all, args.rounds)
    started = time.perf_counter()
    run_all()
    suite_wall = time.perf_counter() - started
    started = time.perf_counter()
    run_naive()
    naive_wall = time.perf_counter() - started
    passed = sum(not mismatches(case, result) for case, result in zip(cases, results, strict=True))

    n = len(cases)
    print(f"cases: {n} (the engine passes strict scoring on {passed})")
    print(f"load average at the start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"workbook read (openpyxl, not in any figure): {workbook_seconds * 1000:.0f} ms wall")
    print(f"supporting data parsed once (not in any figure): {data_cpu * 1000:.0f} ms CPU")
    print(
        f"\n{'evaluate and forecast every case':<42} {'CPU ms':>8} {'ms/case':>8} "
        f"{'cases/s':>8} {'wall ms/case':>12} {'x base':>7}"
    )
    for name, cpu, wall in (
        ("baseline: naive age + interval evaluator", naive_cpu, naive_wall),
        ("CDSi engine", suite_cpu, suite_wall),
    ):
        print(
            f"{name:<42} {cpu * 1000:>8.0f} {cpu * 1000 / n:>8.3f} {n / cpu:>8.0f} "
            f"{wall * 1000 / n:>12.3f} {cpu / naive_cpu:>7.1f}"
        )
    print(f"(CPU: best of {args.rounds}; wall: one further run)")


if __name__ == "__main__":
    main()
