"""Records the authorization table's travel rows call on (tests/test_authorization.py): a
departure at the home site with the home case booked on it, made once per test context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import object_session

from pmha.travel.models import ArrivalFollowUp, Booking, Departure


def departure(c: Any) -> Departure:
    found: Departure | None = getattr(c, "_travel_departure", None)
    if found is None:
        session = object_session(c.case)
        assert session is not None
        found = Departure(
            site_id=c.case.site_id,
            carrier="TK",
            flight_number="1",
            route="IST-ORD",
            destination="US",
            departs_at=datetime.now(UTC) + timedelta(days=2),
        )
        session.add(found)
        session.flush()
        session.add(Booking(departure_id=found.id, case_id=c.case.id))
        c._travel_follow_up = ArrivalFollowUp(
            applicant_id=c.applicant.id, rule_id="us.arrival.tb_b1", what="TB evaluation"
        )
        session.add(c._travel_follow_up)
        session.commit()
        c._travel_departure = found
    return found


def dep_url(c: Any, tail: str = "") -> str:
    return f"/departures/{departure(c).id}{tail}"


def traveller_url(c: Any, tail: str = "") -> str:
    return f"/departures/{departure(c).id}/travellers/{c.applicant.id}{tail}"


def follow_up_url(c: Any) -> str:
    departure(c)
    return f"/api/v1/follow-ups/{c._travel_follow_up.id}/completion"


def new_departure(api: bool) -> dict[str, Any]:
    when = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=3)
    return {
        "carrier": "TK",
        "flight_number": "9",
        "route": "IST-ORD",
        "destination": "US",
        "departs_at": when.isoformat() if api else when.strftime("%Y-%m-%dT%H:%M"),
    }


def pec(api: bool) -> dict[str, Any]:
    when = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    return {
        "kind": "pec",
        "checked_at": when.isoformat() if api else when.strftime("%Y-%m-%dT%H:%M"),
    }
