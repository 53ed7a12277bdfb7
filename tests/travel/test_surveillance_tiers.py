"""Canada's surveillance follow-up after arrival takes the tiered deadline (issue 15).

BRIEF 3 [S28h, S28i]: report to provincial or territorial public health within 30 days of entry,
7 days for urgent or complex non-infectious TB (the physician's flag `urgent_surveillance`);
CA.toml ca.surveillance.inactive_tb `tiers`, ca.arrival.surveillance (no fixed days: the
outcome's). While the flag is not answered the shorter deadline applies.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from pmha.travel import handover
from pmha.workflow import service as workflow
from tests.travel.helpers import booked, clear, departure, family

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.mark.parametrize(
    ("urgent", "days", "tier"),
    [(False, 30, None), (True, 7, "urgent"), (None, 7, "urgent")],
    ids=["not-urgent-30", "urgent-7", "not-answered-7"],
)
def test_surveillance_follow_up_is_due_by_the_tier(session, world, rules, urgent, days, tier):
    """S28h, S28i: due `days` after arrival; the day before is inside the window and the day
    of is its last day (due_by), the day after is late."""
    dep = departure(session, world, destination="CA", carrier="TK", days=2)
    case = booked(
        session, world, dep, family(session, world, destination="CA", programme="immigrant")
    )
    a = case.applicants[0]
    clear(session, world, rules, a.id, facts={"tb_history": True, "urgent_surveillance": urgent})
    found = workflow.current(session, world.actor("panel_physician"), rules, a.id)
    outcome = next(o for o in found.record.plan["outcomes"] if o["kind"] == "medical_surveillance")
    assert (outcome["report_within_days"], outcome.get("report_tier")) == (days, tier)
    items = handover.follow_up(session, world.actor("operations"), a.id)
    surveillance = [i for i in items if i["rule"] == "ca.arrival.surveillance"]
    assert surveillance, items
    arrival = dep.departs_at.date()
    due = arrival + timedelta(days=days)
    assert surveillance[0]["within_days"] == days
    assert surveillance[0]["due_by"] == due.isoformat()
    assert arrival + timedelta(days=days - 1) < due  # the day before: inside
    assert (due - arrival).days == days  # the day of: the last day
