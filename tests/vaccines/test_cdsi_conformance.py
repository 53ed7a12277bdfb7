"""CDC's CDSi healthy test cases (v4.45): every case's dose evaluations and forecast, scored
strictly (see `workbook.mismatches`).

A case that does not pass is on the reviewed list, `reviewed.toml`, under one category
(case-defect, version-difference, engine-gap) with one line of reason. Those cases run as
strict xfails, so one that starts to pass fails the suite until it is taken off the list.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.vaccines.workbook import load_cases, mismatches

HERE = Path(__file__).parent
CASES = load_cases()
CATEGORIES = ("case-defect", "version-difference", "engine-gap")
_LISTS: dict[str, dict[str, str]] = tomllib.loads((HERE / "reviewed.toml").read_text())
REVIEWED: dict[str, tuple[str, str]] = {
    case_id: (category, reason)
    for category in CATEGORIES
    for case_id, reason in _LISTS.get(category, {}).items()
}


def _param(case):  # type: ignore[no-untyped-def]
    marks = []
    if case.case_id in REVIEWED:
        category, reason = REVIEWED[case.case_id]
        marks.append(pytest.mark.xfail(strict=True, reason=f"{category}: {reason}"))
    return pytest.param(case, id=case.case_id, marks=marks)


def test_workbook_is_complete() -> None:
    assert len(CASES) > 1000
    assert len({c.case_id for c in CASES}) == len(CASES)
    assert set(_LISTS) <= set(CATEGORIES), f"unknown categories: {set(_LISTS) - set(CATEGORIES)}"
    listed = [case_id for category in CATEGORIES for case_id in _LISTS.get(category, {})]
    assert len(listed) == len(set(listed)), "a case is listed under two categories"
    unknown = set(listed) - {c.case_id for c in CASES}
    assert not unknown, f"listed cases not in the workbook: {sorted(unknown)}"
    assert all(reason.strip() for _, reason in REVIEWED.values()), "a reviewed case needs a reason"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case) -> None:  # type: ignore[no-untyped-def]
    problems = mismatches(case)
    assert not problems, f"{case.case_id} {case.name}\n  " + "\n  ".join(problems)
