"""Time CDC's whole healthy CDSi suite on one core: CPU ms per case, cases per second.

The figure is the CPU time (`time.process_time`) to evaluate and forecast every case, best of
several rounds. Baseline, measured in the same run: the engine's own data loading (parsing the
supporting data XML once) and case parsing (turning each case into engine input and organising
its history: validation and CVX-to-antigen mapping, chapters 4-5), which every run must pay.
The workbook read (openpyxl) is printed apart and is not part of either. Asserts nothing.
"""

from __future__ import annotations

import sys
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pmha.vaccines.cdsi import Dose, Patient
from pmha.vaccines.cdsi.data import load_supporting_data, supporting_data
from pmha.vaccines.cdsi.history import organise
from tests.vaccines.workbook import load_cases, mismatches, run_case

ROUNDS = 5


def _cpu(work, rounds: int = ROUNDS) -> float:  # type: ignore[no-untyped-def]
    """The least CPU seconds `work()` took over `rounds` runs."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    started = time.perf_counter()
    cases = load_cases()
    workbook_seconds = time.perf_counter() - started

    data = supporting_data()
    with resources.as_file(resources.files("pmha.vaccines.cdsi") / "data") as directory:
        data_cpu = _cpu(lambda: load_supporting_data(Path(directory)), rounds=2)

    def parse_cases() -> None:
        for case in cases:
            doses = [Dose(d.date, d.cvx, d.mvx or None) for d in case.doses]
            organise(data, Patient(case.dob, case.gender), doses, (), case.assessment_date)

    parse_cpu = _cpu(parse_cases)
    results: list[object] = []

    def run_all() -> None:
        results[:] = [run_case(case) for case in cases]

    run_all()  # warm the caches (offsets, supporting data) outside the measure
    suite_cpu = _cpu(run_all)
    started = time.perf_counter()
    run_all()
    suite_wall = time.perf_counter() - started
    passed = sum(not mismatches(case, result) for case, result in zip(cases, results, strict=True))

    n = len(cases)
    print(f"cases: {n} (passing strict scoring: {passed})")
    print(f"workbook read (openpyxl, not in any figure): {workbook_seconds * 1000:.0f} ms wall")
    print("baseline, same run:")
    print(f"  parse the supporting data once: {data_cpu * 1000:.0f} ms CPU")
    print(
        f"  parse every case into engine input and organise its history: "
        f"{parse_cpu * 1000:.0f} ms CPU, {parse_cpu * 1000 / n:.3f} ms per case"
    )
    print(f"evaluate and forecast every case (CPU, best of {ROUNDS}):")
    print(
        f"  {suite_cpu * 1000:.0f} ms CPU, {suite_cpu * 1000 / n:.2f} ms CPU per case, "
        f"{n / suite_cpu:.0f} cases/s ({suite_wall * 1000 / n:.2f} ms wall per case)"
    )


if __name__ == "__main__":
    main()
