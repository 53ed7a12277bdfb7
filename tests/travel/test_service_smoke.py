from __future__ import annotations

import pytest

from pmha.travel import certificates, departures
from tests.travel.helpers import booked, clear, departure, family

pytestmark = pytest.mark.usefixtures("in_app")


def test_cleared_family_gets_certificates(session, world, rules):
    dep = departure(session, world)
    case = booked(session, world, dep, family(session, world, children=1))
    for a in case.applicants:
        clear(session, world, rules, a.id)
    board = departures.board(session, world.actor("operations"), dep.id)
    row = board.rows[0]
    print([(t.decision, t.due) for _, t in row.travellers])
    assert board.travellers == 2
    cert = certificates.issue_certificate(session, world.actor("operations"), case.applicants[0].id)
    assert cert.code.startswith("TRV-")
    assert certificates.verify(session, cert.code).status == "valid"
