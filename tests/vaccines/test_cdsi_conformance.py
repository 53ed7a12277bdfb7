"""CDC's CDSi healthy test cases (v4.45): every case's dose evaluations and forecast.

A case may only be excused by `disputed.toml` (a reviewed defect of CDC's case, one line of
reason each). `known_failing.txt` lists engine gaps still being closed: those cases run as
strict xfails, so fixing one fails the suite until it is removed from the list.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.vaccines.workbook import load_cases, mismatches

HERE = Path(__file__).parent
CASES = load_cases()
DISPUTED: dict[str, str] = tomllib.loads((HERE / "disputed.toml").read_text())["disputed"]
KNOWN_FAILING: dict[str, str] = {}
for line in (HERE / "known_failing.txt").read_text().splitlines():
    if line.strip() and not line.startswith("#"):
        case_id, _, reason = line.partition(" ")
        KNOWN_FAILING[case_id] = reason.strip()


def _param(case):  # type: ignore[no-untyped-def]
    marks = []
    if case.case_id in DISPUTED:
        marks.append(pytest.mark.xfail(strict=True, reason=f"disputed: {DISPUTED[case.case_id]}"))
    elif case.case_id in KNOWN_FAILING:
        reason = f"engine gap: {KNOWN_FAILING[case.case_id]}"
        marks.append(pytest.mark.xfail(strict=True, reason=reason))
    return pytest.param(case, id=case.case_id, marks=marks)


def test_workbook_is_complete() -> None:
    assert len(CASES) > 1000
    assert len({c.case_id for c in CASES}) == len(CASES)
    unknown = (set(DISPUTED) | set(KNOWN_FAILING)) - {c.case_id for c in CASES}
    assert not unknown, f"listed cases not in the workbook: {sorted(unknown)}"
    assert not set(DISPUTED) & set(KNOWN_FAILING)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case) -> None:  # type: ignore[no-untyped-def]
    problems = mismatches(case)
    assert not problems, f"{case.case_id} {case.name}\n  " + "\n  ".join(problems)
