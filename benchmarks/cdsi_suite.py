"""Time CDC's whole healthy CDSi suite on one core: cases per second and ms per case.

Baseline: the time to only load the cases from the workbook, measured in the same run.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pmha.vaccines.cdsi.data import supporting_data
from tests.vaccines.workbook import load_cases, mismatches, run_case


def main() -> None:
    started = time.perf_counter()
    cases = load_cases()
    load_seconds = time.perf_counter() - started

    started = time.perf_counter()
    supporting_data()
    data_seconds = time.perf_counter() - started

    rounds = 3
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        results = [run_case(case) for case in cases]
        best = min(best, time.perf_counter() - started)
    passed = sum(not mismatches(case, result) for case, result in zip(cases, results, strict=True))

    print(f"cases: {len(cases)} (passing {passed})")
    print(f"baseline, load the cases only: {load_seconds * 1000:.0f} ms")
    print(f"parse the supporting data once: {data_seconds * 1000:.0f} ms")
    print(f"evaluate and forecast all cases (best of {rounds}): {best * 1000:.0f} ms")
    print(f"  {len(cases) / best:.0f} cases/s, {best * 1000 / len(cases):.2f} ms per case")


if __name__ == "__main__":
    main()
