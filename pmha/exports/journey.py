"""The journey part of a bundle: the flight a case is booked on (travel's departure), so that the
receiving authority sees when and on what its travellers arrive. No names: carrier, flight,
route and time only. Plugged into the bundle by adding to `parts.CONTRIBUTORS`, as the parts
module asks other domains to do."""

from __future__ import annotations

from typing import Any

from pmha.exports.parts import CONTRIBUTORS, Export, Part, _json
from pmha.travel.departures import booking_of

PATH = "travel/journey.json"


def journey(ex: Export) -> list[Part]:
    """The case's departure, when it is booked on one (nothing otherwise)."""
    departure: Any = booking_of(ex.session, ex.case.id)
    if departure is None:
        return []
    departs_at = departure.departs_at
    facts = {
        "carrier": departure.carrier,
        "flight_number": departure.flight_number,
        "flight": f"{departure.carrier} {departure.flight_number}",
        "route": departure.route,
        "destination": departure.destination,
        "departs_at": departs_at.isoformat(timespec="minutes")
        if departs_at.tzinfo
        else departs_at.isoformat(timespec="minutes") + "+00:00",
    }
    return [Part(PATH, "application/json", _json(facts))]


if journey not in CONTRIBUTORS:
    CONTRIBUTORS.append(journey)
