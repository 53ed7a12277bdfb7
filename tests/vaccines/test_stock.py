"""Vaccine stock: lots per site, one dose taken per administration under a row lock, recalls."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from pmha.cases.models import Site
from pmha.core import migrate
from pmha.core.auth import Actor, Role
from pmha.core.db import Database, make_engine, utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.vaccines import records, stock
from pmha.vaccines.commands import NewLot, NewVaccination
from pmha.vaccines.models import RecordKind, VaccinationRecord, VaccineLot
from tests.factories import World, applicant_data, make_case

TODAY = utcnow().date()


def _lot_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cvx": "03",
        "mvx": "MSD",
        "lot": "MMR0001",
        "expiry": TODAY + dt.timedelta(days=300),
        "quantity": 20,
        "received_on": TODAY,
    }
    data.update(overrides)
    return data


def _give(lot: VaccineLot) -> dict[str, Any]:
    return {
        "kind": RecordKind.ADMINISTERED,
        "cvx": lot.cvx,
        "lot_id": lot.id,
        "given_at": utcnow() - dt.timedelta(minutes=1),
        "amount": Decimal("0.5"),
        "unit": "mL",
        "route": "SC",
        "body_site": "LA",
        "immunosuppressed": False,  # the screening before a live vaccine has no default
        "pregnant": False,
    }


def _lots(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VaccineLot)) or 0


def test_a_lot_is_received_at_the_actors_site(session: Session, world: World) -> None:
    """Issue 6: lots received per site (vaccine, manufacturer, lot, expiry, quantity)."""
    nurse = world.actor("nurse")
    lot = stock.receive_lot(session, nurse, NewLot(**_lot_data()))
    assert (lot.site_id, lot.quantity_received, lot.quantity_left) == (world.home.id, 20, 20)
    assert [x.id for x in stock.lots(session, nurse)] == [lot.id]
    assert stock.lots(session, world.actor("foreign")) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cvx": "777"}, "cvx"),
        ({"cvx": "998"}, "cvx"),
        ({"mvx": "ZZZ"}, "mvx"),
        ({"received_on": TODAY + dt.timedelta(days=1)}, "received_on"),
        ({"site_code": "ANK"}, "site_code"),
    ],
    ids=["unknown_cvx", "no_vaccine_cvx", "unknown_mvx", "future", "not_my_site"],
)
def test_a_bad_lot_is_refused_and_nothing_is_written(
    session: Session, world: World, overrides: dict[str, Any], field: str
) -> None:
    """Issue 6 'Bad input': unknown CVX or MVX (BRIEF §7.1-7.2); a lot at someone else's site."""
    with pytest.raises(ValidationFailed) as caught:
        stock.receive_lot(session, world.actor("nurse"), NewLot(**_lot_data(**overrides)))
    assert caught.value.errors is not None and field in caught.value.errors
    assert _lots(session) == 0


def test_the_same_lot_twice_is_a_conflict(session: Session, world: World) -> None:
    stock.receive_lot(session, world.actor("nurse"), NewLot(**_lot_data()))
    with pytest.raises(Conflict):
        stock.receive_lot(session, world.actor("nurse"), NewLot(**_lot_data(quantity=5)))
    assert _lots(session) == 1


def test_a_recall_lists_every_applicant_who_received_the_lot(
    session: Session, world: World
) -> None:
    """Issue 6: 'a lot recall lists every migrant who received it' (at the actor's sites);
    an entry corrected as erroneous is not a dose received."""
    nurse = world.actor("nurse")
    lot = stock.receive_lot(session, nurse, NewLot(**_lot_data()))
    other = stock.receive_lot(session, nurse, NewLot(**_lot_data(lot="MMR0002")))
    people = []
    for name, born in [("Omar", "1985-03-14"), ("Ali", "1990-01-01"), ("Huda", "1991-02-02")]:
        case = make_case(session, nurse, principal=applicant_data(given_names=name, dob=born))
        assert case.principal is not None
        people.append(case.principal)
    records.record_vaccination(session, nurse, people[0].id, NewVaccination(**_give(lot)))
    records.record_vaccination(session, nurse, people[1].id, NewVaccination(**_give(other)))
    wrong = records.record_vaccination(session, nurse, people[2].id, NewVaccination(**_give(lot)))
    assert {a.id for a in stock.recall(session, nurse, lot.id)} == {people[0].id, people[2].id}
    records.correct(session, nurse, wrong.id, "recorded on the wrong person", wrong.version)
    assert [a.id for a in stock.recall(session, nurse, lot.id)] == [people[0].id]
    with pytest.raises(NotFound):
        stock.recall(session, world.actor("foreign"), lot.id)


def test_the_recall_api(client: Any, session: Session, world: World) -> None:
    nurse = world.actor("nurse")
    lot = stock.receive_lot(session, nurse, NewLot(**_lot_data()))
    case = make_case(session, nurse)
    assert case.principal is not None
    records.record_vaccination(session, nurse, case.principal.id, NewVaccination(**_give(lot)))
    session.commit()
    body = client.get(f"/api/v1/vaccine-lots/{lot.id}/recall", headers=world.auth("nurse"))
    assert body.status_code == 200
    out = body.get_json()
    assert out["lot"]["quantity_left"] == 19
    assert [a["applicant_id"] for a in out["applicants"]] == [str(case.principal.id)]


def test_the_lot_is_locked_before_its_count_is_read_and_decremented(
    session: Session, world: World
) -> None:
    """Two nurses giving the last dose must not both succeed: the lot row is selected FOR
    UPDATE (and re-read, not taken from the session's cache) before the decrement."""
    nurse = world.actor("nurse")
    lot = stock.receive_lot(session, nurse, NewLot(**_lot_data(quantity=2)))
    case = make_case(session, nurse)
    assert case.principal is not None
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        records.record_vaccination(session, nurse, case.principal.id, NewVaccination(**_give(lot)))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    lot_reads = [
        i for i, s in enumerate(statements) if s.startswith("SELECT") and "vaccine_lots" in s
    ]
    update = next(i for i, s in enumerate(statements) if s.startswith("UPDATE vaccine_lots"))
    assert lot_reads and lot_reads[-1] < update
    if engine.dialect.name == "postgresql":
        assert "FOR UPDATE" in statements[lot_reads[-1]]
    locked = stock.locked_lot(lot.id, world.home.id)
    assert "FOR UPDATE" in str(locked.compile(dialect=postgresql.dialect()))
    assert lot.quantity_left == 1


def test_concurrent_administrations_do_not_oversell(empty_database_url: str) -> None:
    """Eight nurses at once on a lot of five doses: five doses given, three refused."""
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    db = Database(engine, "k" * 40)
    with db.transaction() as session:
        site = Site(code="IST", name="Istanbul", country="TR")
        session.add(site)
        session.flush()
        nurse = Actor(uuid.uuid4(), "nurse", frozenset({Role.NURSE}), frozenset({site.id}))
        lot = stock.receive_lot(session, nurse, NewLot(**_lot_data(quantity=5)))
        applicants = []
        for i in range(8):
            born = f"19{70 + i}-01-0{1 + i % 9}"
            case = make_case(
                session, nurse, principal=applicant_data(given_names=f"P{chr(65 + i)}", dob=born)
            )
            assert case.principal is not None
            applicants.append(case.principal.id)
        lot_id = lot.id
        data = _give(lot)

    def give(applicant_id: uuid.UUID) -> str:
        try:
            with db.transaction() as session:
                records.record_vaccination(
                    session, nurse, applicant_id, NewVaccination(**dict(data))
                )
            return "given"
        except ValidationFailed as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(give, applicants))
    with db.transaction() as session:
        left = session.get(VaccineLot, lot_id)
        given = session.scalar(select(func.count()).select_from(VaccinationRecord))
    engine.dispose()
    assert sorted(outcomes) == ["given"] * 5 + ["vaccines.lot_exhausted"] * 3
    assert left is not None and left.quantity_left == 0
    assert given == 5
