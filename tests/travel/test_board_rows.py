"""The departure board's blocker cell, worked out per row in Python (a full board is 300 rows,
BRIEF 9): the same lines the template used to build, in the same order."""

from __future__ import annotations

import uuid

from pmha.travel.rows import blocker_lines
from pmha.travel.status import Traveller
from pmha.workflow import clearance as cl

FITNESS = {"deferred": ("Deferred", "bad")}


def _traveller(*blockers: cl.Blocker, status: str = cl.PENDING) -> Traveller:
    decision = cl.Decision(status, blockers)
    return Traveller(uuid.uuid4(), decision, decision, None)


def _cut(text: str) -> str:
    return text[:5]


def test_nothing_blocks_a_cleared_traveller() -> None:
    assert blocker_lines(_traveller(status=cl.CLEARED), FITNESS, str) == ([], 0, [])


def test_holds_first_then_one_other_group_of_three_and_a_count_of_the_rest() -> None:
    steps = [cl.Blocker("step", code, "not done yet") for code in ("a", "b", "c", "d")]
    lines, more, holds = blocker_lines(
        _traveller(
            cl.Blocker("plan", "plan", "not planned yet"),
            *steps,
            cl.Blocker("step", "e", "blocked"),
        ),
        FITNESS,
        str,
    )
    assert lines == [(True, "Holds travel", "Not planned yet"), (False, "Still to do", "A; B; C")]
    assert more == 2  # the fourth step to do and the blocked one
    assert holds == []


def test_items_are_truncated_by_the_callable() -> None:
    lines, _, _ = blocker_lines(
        _traveller(cl.Blocker("step", "chest_xray", "not done yet")), FITNESS, _cut
    )
    assert lines == [(False, "Still to do", "Chest")]


def test_the_flights_own_holds_in_words() -> None:
    lines, more, holds = blocker_lines(
        _traveller(
            cl.Blocker("fitness", "pec", "deferred"),
            cl.Blocker("escort", "medical", "no escort yet"),
            cl.Blocker("escort", "non_medical", "no escort yet"),
            cl.Blocker("escort", "medif", "to_send"),
            status=cl.TRAVEL_HOLD,
        ),
        FITNESS,
        str,
    )
    assert (lines, more) == ([], 0)
    assert holds == [
        "PEC: Deferred",
        "Medical escort not arranged yet",
        "Escort not arranged yet",
        "MEDIF to send: airline approval awaited",
    ]
