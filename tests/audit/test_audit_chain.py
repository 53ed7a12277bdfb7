"""The audit trail: every read and change over the API is recorded with who, what, when and from
where, with changed field names and keyed hashes instead of values; the chain is append-only in
the database, and `verify` (and `pmha audit verify`) finds an edited, deleted, re-linked or
truncated event."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import uuid
import warnings
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pmha.cases.models import FamilyCase
from pmha.core import audit
from pmha.core.audit import GENESIS, AuditEvent, AuditHead
from pmha.core.db import make_engine, utcnow
from tests.audit.conftest import Family
from tests.factories import World, applicant_data, case_data

ON_POSTGRES = os.environ.get("PMHA_TEST_DATABASE_URL", "").startswith("postgresql")
EVENTS = AuditEvent.__table__
HEAD = AuditHead.__table__


def events_of(session: Session, response: Any) -> list[AuditEvent]:
    """The events one request wrote, in order (the request id links them)."""
    session.expire_all()
    rid = response.headers["X-Request-ID"]
    return list(session.scalars(select(AuditEvent).where(AuditEvent.request_id == rid)
                                .order_by(AuditEvent.seq)))  # fmt: skip


def stored(event: AuditEvent) -> str:
    """Everything the database holds for an event, as one string."""
    row = {c.name: getattr(event, c.key) for c in AuditEvent.__mapper__.columns}
    return json.dumps(row, default=str, ensure_ascii=False)


def assert_who_when_where(event: AuditEvent, world: World, role: str, started: datetime) -> None:
    user = world.users[role]
    assert event.actor_id == user.id
    assert event.actor_name == user.username
    assert event.ip == "127.0.0.1"
    assert started <= event.at <= utcnow()


def key(app: Flask) -> bytes:
    return app.extensions["pmha.db"].audit_key.encode()  # type: ignore[no-any-return]


def chain_ok(session: Session) -> audit.VerifyResult:
    session.expire_all()
    with warnings.catch_warnings():
        # On PostgreSQL verify() leaves its server-side cursor open when it stops at a break:
        # shown by test_verify_closes_its_cursor_when_it_stops_at_a_break; kept out of the rest.
        warnings.simplefilter("ignore", ResourceWarning)
        result = audit.verify(session)
        gc.collect()
    return result


# --- reads and changes over the API are audited --------------------------------------------------


def test_reading_a_case_is_audited(client: FlaskClient, session: Session, family: Family) -> None:
    started = utcnow()
    response = client.get(f"/api/v1/cases/{family.case.id}", headers=family.world.auth("nurse"))
    assert response.status_code == 200
    [event] = events_of(session, response)
    assert (event.action, event.record_type, event.record_id) == (
        "read",
        "case",
        str(family.case.id),
    )
    assert event.site_id == family.world.home.id
    assert event.details == {"applicants": [str(family.principal.id)]}
    assert event.changes is None
    assert_who_when_where(event, family.world, "nurse", started)
    assert "Haddad" not in stored(event)
    assert chain_ok(session).ok


def test_reading_an_applicant_is_audited(
    client: FlaskClient, session: Session, family: Family
) -> None:
    started = utcnow()
    response = client.get(
        f"/api/v1/applicants/{family.principal.id}", headers=family.world.auth("radiologist")
    )
    assert response.status_code == 200
    [event] = events_of(session, response)
    assert (event.action, event.record_type) == ("read", "applicant")
    assert event.record_id == str(family.principal.id)
    assert event.site_id == family.world.home.id
    assert_who_when_where(event, family.world, "radiologist", started)
    assert chain_ok(session).ok


def test_reading_a_case_page_is_audited(
    client: FlaskClient, session: Session, family: Family, signed_in: Any
) -> None:
    signed_in("dot_worker")
    started = utcnow()
    response = client.get(f"/cases/{family.case.id}")
    assert response.status_code == 200
    [event] = events_of(session, response)
    assert (event.action, event.record_type) == ("read", "case")
    assert_who_when_where(event, family.world, "dot_worker", started)


def test_a_search_is_audited_with_its_results_but_not_its_terms(
    client: FlaskClient, session: Session, family: Family
) -> None:
    started = utcnow()
    response = client.post(
        "/api/v1/cases/search",
        json={"q": "Haddad Omar", "dob": "1985-03-14"},
        headers=family.world.auth("lab_technician"),
    )
    assert response.status_code == 200
    [event] = events_of(session, response)
    assert (event.action, event.record_type, event.record_id) == ("search", "case", None)
    assert event.details == {"results": [str(family.case.id)], "total": 1, "by": ["dob", "name"]}
    assert_who_when_where(event, family.world, "lab_technician", started)
    for term in ("Haddad", "Omar", "1985-03-14"):
        assert term not in stored(event)


def test_listing_cases_is_audited(client: FlaskClient, session: Session, family: Family) -> None:
    response = client.get("/api/v1/cases", headers=family.world.auth("operations"))
    assert response.status_code == 200
    [event] = events_of(session, response)
    assert (event.action, event.record_type) == ("search", "case")
    assert event.details is not None and event.details["results"] == [str(family.case.id)]


def test_registering_a_case_records_field_names_with_hashed_values(
    app: Flask, client: FlaskClient, session: Session, world: World
) -> None:
    person = applicant_data(
        family_name="Quenbyrth", given_names="Zabrowski", family_name_original="كوينبيرث",
        given_names_original=None, dob="1979-11-23", nationality="AF",
        documents=[{"doc_type": "passport", "number": "PX9876543", "issuing_country": "AF"}],
    )  # fmt: skip
    body = case_data(principal=person, external_ref="UNHCR-551-XQ")
    started = utcnow()
    response = client.post("/api/v1/cases", json=body, headers=world.auth("nurse"))
    assert response.status_code == 201, response.get_json()
    case_event, person_event, plan_event = events_of(session, response)
    # The registration's commit plans the new applicant (issue 21: plans are kept by writes).
    assert (plan_event.action, plan_event.record_type) == ("plan", "applicant")

    assert (case_event.action, case_event.record_type) == ("create", "case")
    assert case_event.record_id == response.get_json()["id"]
    assert case_event.changes is not None
    assert set(case_event.changes) == {"destination", "programme", "planned_departure",
                                       "external_ref"}  # fmt: skip
    assert case_event.changes["external_ref"] == {
        "old": None,
        "new": audit.value_hash(key(app), "UNHCR-551-XQ"),
    }

    assert (person_event.action, person_event.record_type) == ("create", "applicant")
    assert person_event.changes is not None
    assert set(person_event.changes) == {
        "family_name", "given_names", "family_name_original", "dob", "dob_estimated", "sex",
        "nationality", "relationship", "documents",
    }  # fmt: skip
    assert person_event.changes["family_name"] == {
        "old": None,
        "new": audit.value_hash(key(app), "Quenbyrth"),
    }
    for event in (case_event, person_event):
        assert_who_when_where(event, world, "nurse", started)
        assert event.site_id == world.home.id
        for value in ("Quenbyrth", "Zabrowski", "كوينبيرث", "1979-11-23", "PX9876543",
                      "UNHCR-551-XQ"):  # fmt: skip
            assert value not in stored(event)
    assert chain_ok(session).ok


def test_adding_an_applicant_records_hashes_not_values(
    client: FlaskClient, session: Session, family: Family
) -> None:
    body = applicant_data(
        given_names="Vexhollow", given_names_original=None, dob="2012-12-12", relationship="child",
        documents=[{"doc_type": "birth_certificate", "number": "BC-7731", "issuing_country": "SY"}],
    )  # fmt: skip
    started = utcnow()
    response = client.post(
        f"/api/v1/cases/{family.case.id}/applicants", json=body, headers=family.world.auth("nurse")
    )
    assert response.status_code == 201, response.get_json()
    [event, *plans] = events_of(session, response)
    # ...and re-plans the new member at its commit (issue 21): one plan event each, after it.
    assert plans and all((p.action, p.record_type) == ("plan", "applicant") for p in plans)
    assert (event.action, event.record_type) == ("create", "applicant")
    assert event.record_id == response.get_json()["id"]
    assert event.changes is not None and "documents" in event.changes
    assert_who_when_where(event, family.world, "nurse", started)
    for value in ("Vexhollow", "2012-12-12", "BC-7731"):
        assert value not in stored(event)


def test_updating_a_case_records_only_the_changed_fields(
    app: Flask, client: FlaskClient, session: Session, family: Family
) -> None:
    started = utcnow()
    response = client.patch(
        f"/api/v1/cases/{family.case.id}",
        json={"version": family.case.version, "external_ref": "UNHCR-42-ZZ", "destination": "US"},
        headers=family.world.auth("operations"),
    )
    assert response.status_code == 200, response.get_json()
    [event, *plans] = events_of(session, response)
    # ...and re-plans the case's members at its commit (issue 21): one plan event each, after it.
    assert plans and all((p.action, p.record_type) == ("plan", "applicant") for p in plans)
    assert (event.action, event.record_type) == ("update", "case")
    assert event.changes == {
        "external_ref": {"old": None, "new": audit.value_hash(key(app), "UNHCR-42-ZZ")}
    }
    assert_who_when_where(event, family.world, "operations", started)
    assert "UNHCR-42-ZZ" not in stored(event)


def test_updating_an_applicant_records_old_and_new_hashes_of_changed_fields(
    app: Flask, client: FlaskClient, session: Session, family: Family
) -> None:
    started = utcnow()
    response = client.patch(
        f"/api/v1/applicants/{family.principal.id}",
        json={"version": family.principal.version, "given_names": "Omarion", "dob": "1985-03-15"},
        headers=family.world.auth("panel_physician"),
    )
    assert response.status_code == 200, response.get_json()
    [event, *plans] = events_of(session, response)
    # ...and re-plans the applicant at its commit (issue 21): one plan event each, after it.
    assert plans and all((p.action, p.record_type) == ("plan", "applicant") for p in plans)
    assert (event.action, event.record_type) == ("update", "applicant")
    assert event.changes is not None
    assert set(event.changes) == {"given_names", "dob"}
    assert event.changes["given_names"] == {
        "old": audit.value_hash(key(app), "Omar"),
        "new": audit.value_hash(key(app), "Omarion"),
    }
    assert_who_when_where(event, family.world, "panel_physician", started)
    for value in ("Omarion", "1985-03-15", "1985-03-14", "Haddad"):
        assert value not in stored(event)
    assert chain_ok(session).ok


# --- a request that fails leaves no trace --------------------------------------------------------


def _duplicate(c: FlaskClient, f: Family) -> Any:
    # The case row and its audit event are made before the duplicate is found: both roll back.
    return c.post("/api/v1/cases", json=case_data(), headers=f.world.auth("nurse"))


def _stale(c: FlaskClient, f: Family) -> Any:
    url = f"/api/v1/applicants/{f.principal.id}"
    return c.patch(url, json={"version": 7, "given_names": "X"}, headers=f.world.auth("nurse"))


def _second_principal(c: FlaskClient, f: Family) -> Any:
    body = applicant_data(given_names="Ali", given_names_original=None, dob="1990-01-01")
    url = f"/api/v1/cases/{f.case.id}/applicants"
    return c.post(url, json=body, headers=f.world.auth("nurse"))


def _foreign_read(c: FlaskClient, f: Family) -> Any:
    return c.get(f"/api/v1/cases/{f.case.id}", headers=f.world.auth("foreign"))


def _forbidden(c: FlaskClient, f: Family) -> Any:
    return c.get(f"/api/v1/cases/{f.case.id}", headers=f.world.auth("admin"))


def _anonymous(c: FlaskClient, f: Family) -> Any:
    return c.post("/api/v1/cases/search", json={"q": "Haddad"})


@pytest.mark.parametrize(
    ("request_", "status"),
    [(_duplicate, 409), (_stale, 409), (_second_principal, 422), (_foreign_read, 404),
     (_forbidden, 403), (_anonymous, 401)],
    ids=lambda v: getattr(v, "__name__", str(v)).strip("_"),
)  # fmt: skip
def test_a_rolled_back_request_leaves_no_audit_event(
    client: FlaskClient, session: Session, family: Family, request_: Any, status: int
) -> None:
    count = select(func.count()).select_from(AuditEvent)
    before = session.scalar(count)
    cases_before = session.scalar(select(func.count()).select_from(FamilyCase))
    response = request_(client, family)
    assert response.status_code == status, response.get_json()
    assert events_of(session, response) == []
    assert session.scalar(count) == before
    assert session.scalar(select(func.count()).select_from(FamilyCase)) == cases_before
    assert chain_ok(session).ok


def test_an_event_recorded_inside_a_rolled_back_savepoint_is_not_written(
    session: Session, family: Family
) -> None:
    actor = family.world.actor("nurse")
    before = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    audit.record(session, actor, "read", "case", family.case.id)
    nested = session.begin_nested()
    audit.record(session, actor, "read", "applicant", family.principal.id)
    nested.rollback()
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [(e.record_type, e.record_id) for e in events] == [("case", str(family.case.id))]
    assert chain_ok(session).ok


# --- the database keeps the trail append-only ----------------------------------------------------


def _refused(connection: Connection, statement: Any) -> None:
    with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
        connection.execute(statement)


def test_the_database_refuses_to_change_or_remove_audit_events(
    connection: Connection, session: Session, family: Family
) -> None:
    last = session.scalar(select(func.max(AuditEvent.seq)))
    statements = [
        update(EVENTS).where(EVENTS.c.seq == 1).values(actor_name="mallory"),
        update(EVENTS).values(ip=None),
        delete(EVENTS).where(EVENTS.c.seq == last),
        delete(EVENTS),
        text("UPDATE audit_events SET hash = prev_hash"),
    ]
    if connection.dialect.name == "postgresql":
        statements.append(text("TRUNCATE audit_events"))
    for statement in statements:
        _refused(connection, statement)
    assert session.scalar(select(func.max(AuditEvent.seq))) == last
    assert chain_ok(session).ok


# --- verify() finds tampering (the append-only trigger switched off inside this test) ------------


def _seq_of(session: Session, action: str, record_type: str) -> int:
    seq = session.scalar(
        select(AuditEvent.seq).where(
            AuditEvent.action == action, AuditEvent.record_type == record_type
        )
    )
    assert seq is not None
    return seq


def _last(session: Session) -> int:
    return int(session.scalar(select(func.max(AuditEvent.seq))) or 0)


EDITS: dict[str, Any] = {
    "actor_name": lambda e: "mallory",
    "actor_id": lambda e: None,
    "action": lambda e: "read",
    "record_id": lambda e: str(uuid.uuid4()),
    "site_id": lambda e: None,
    "ip": lambda e: "10.6.6.6",
    "request_id": lambda e: "forged",
    "at": lambda e: e.at - timedelta(days=1),
    "changes": lambda e: {**e.changes, "dob": {"old": None, "new": "0" * 32}},
    "details": lambda e: {"duplicates_acknowledged": True},
    "hash": lambda e: "f" * 64,
}


@pytest.mark.parametrize("column", list(EDITS))
def test_an_edited_event_is_found(tamper: Connection, session: Session, column: str) -> None:
    seq = _seq_of(session, "create", "applicant")
    event = _event(session, seq)
    tamper.execute(update(EVENTS).where(EVENTS.c.seq == seq).values({column: EDITS[column](event)}))
    result = chain_ok(session)
    assert (result.ok, result.broken_seq) == (False, seq)
    assert result.reason == "event content does not match its hash"
    assert result.events == seq - 1


@pytest.mark.parametrize("where", ["first", "middle", "before last"])
def test_a_deleted_event_is_found_as_a_gap(
    tamper: Connection, session: Session, where: str
) -> None:
    seq = {"first": 1, "middle": _last(session) // 2, "before last": _last(session) - 1}[where]
    tamper.execute(delete(EVENTS).where(EVENTS.c.seq == seq))
    result = chain_ok(session)
    assert (result.ok, result.broken_seq, result.reason) == (
        False,
        seq,
        "missing event (sequence gap)",
    )


def _forged_hash(values: dict[str, Any]) -> str:
    """What an attacker who read the source computes: the event's SHA-256, no secret needed."""
    payload = {
        name: (str(v) if isinstance(v, uuid.UUID) else v.isoformat() if isinstance(v, datetime)
               else v)
        for name, v in values.items()
        if name != "hash"
    }  # fmt: skip
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def _event(session: Session, seq: int) -> AuditEvent:
    event = session.scalars(select(AuditEvent).where(AuditEvent.seq == seq)).one_or_none()
    assert event is not None
    return event


def _row(session: Session, seq: int) -> dict[str, Any]:
    """A sealed event's columns, as an attacker would copy them into a new row (a fresh
    insertion id and event id, which the database makes unique)."""
    session.expire_all()
    event = _event(session, seq)
    row = {c.name: getattr(event, c.key) for c in AuditEvent.__mapper__.columns}
    del row["id"]
    return row | {"event_id": uuid.uuid4()}


def test_a_rewritten_event_with_a_recomputed_hash_is_found_at_once(
    tamper: Connection, session: Session
) -> None:
    seq = _seq_of(session, "create", "case")
    assert seq < _last(session)
    row = _row(session, seq) | {"actor_name": "mallory"}
    forged = _forged_hash(row)
    assert forged != row["hash"]
    tamper.execute(
        update(EVENTS).where(EVENTS.c.seq == seq).values(actor_name="mallory", hash=forged)
    )
    # The link is keyed with the audit key, which the database does not hold: a hash
    # recomputed without it does not match, so the forged event itself is named.
    result = chain_ok(session)
    assert (result.ok, result.broken_seq) == (False, seq)
    assert result.reason == "event content does not match its hash"


def test_an_event_relinked_to_a_forged_predecessor_is_found(
    tamper: Connection, session: Session
) -> None:
    seq = _seq_of(session, "create", "case")
    row = _row(session, seq) | {"prev_hash": "a" * 64}
    tamper.execute(
        update(EVENTS).where(EVENTS.c.seq == seq).values(prev_hash="a" * 64, hash=_forged_hash(row))
    )
    result = chain_ok(session)
    assert (result.ok, result.broken_seq) == (False, seq)
    assert result.reason == "link to the previous event is broken"


@pytest.mark.parametrize("removed", [1, 3])
def test_truncation_at_the_end_is_found(tamper: Connection, session: Session, removed: int) -> None:
    last = _last(session)
    tamper.execute(delete(EVENTS).where(EVENTS.c.seq > last - removed))
    result = chain_ok(session)
    assert (result.ok, result.events) == (False, last - removed)
    assert result.broken_seq == last - removed + 1
    assert result.reason.startswith("events after the last one were removed")


def test_an_event_appended_behind_the_heads_back_is_found(
    tamper: Connection, session: Session
) -> None:
    last = _last(session)
    row = _row(session, last) | {"seq": last + 1, "prev_hash": _row(session, last)["hash"],
                                 "actor_name": "mallory", "action": "read"}  # fmt: skip
    row["hash"] = _forged_hash(row)
    tamper.execute(insert(EVENTS).values(**row))
    # Its hash was made without the audit key: the appended event itself is named.
    result = chain_ok(session)
    assert (result.ok, result.broken_seq) == (False, last + 1)


def test_a_chain_rewritten_from_one_event_onwards_is_found(
    tamper: Connection, session: Session
) -> None:
    seq = _seq_of(session, "create", "applicant")
    last = _last(session)
    prev = _row(session, seq - 1)["hash"]
    for n in range(seq, last + 1):
        row = _row(session, n) | {"prev_hash": prev}
        if n == seq:
            row["actor_name"] = "mallory"
        row["hash"] = _forged_hash(row)
        tamper.execute(update(EVENTS).where(EVENTS.c.seq == n).values(**row))
        prev = row["hash"]
    tamper.execute(update(HEAD).where(HEAD.c.id == 1).values(hash=prev))
    assert not chain_ok(session).ok


def test_verify_closes_its_cursor_when_it_stops_at_a_break(
    tamper: Connection, session: Session
) -> None:
    tamper.execute(update(EVENTS).where(EVENTS.c.seq == 2).values(actor_name="mallory"))
    session.expire_all()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert audit.verify(session).broken_seq == 2
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def test_an_untouched_chain_verifies_from_genesis(session: Session, family: Family) -> None:
    result = chain_ok(session)
    assert result.ok and result.reason is None
    assert result.events == _last(session)
    first = _event(session, 1)
    assert first.prev_hash == GENESIS


# --- the same from the command line, on a database of its own ------------------------------------


TAMPERING = {
    "edited": ("UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 1",
               "BROKEN at event 1: event content does not match its hash"),
    "deleted": ("DELETE FROM audit_events WHERE seq = 1",
                "BROKEN at event 1: missing event (sequence gap)"),
    # `pmha audit verify` sealed the intact chain with a signed checkpoint in storage (issue
    # 19): a cut tail or a wiped table, with the head row moved back, contradicts it.
    "truncated": ("DELETE FROM audit_events WHERE seq = 2",
                  "BROKEN at event 2: events were removed: the checkpoint of"),
    "truncated, head moved back": (
        "DELETE FROM audit_events WHERE seq = 2; "
        "UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_events WHERE seq = 1)",
        "BROKEN at event 2: events were removed: the checkpoint of"),
    "wiped, head reset": (
        "DELETE FROM audit_events; UPDATE audit_head SET seq = 0, hash = '" + "0" * 64 + "'",
        "BROKEN at event 1: events were removed: the checkpoint of"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_pmha_audit_verify_reports_an_intact_then_a_tampered_chain(cli_db: Any, kind: str) -> None:
    intact = cli_db("audit", "verify")
    assert intact.exit_code == 0
    assert intact.output.splitlines()[0] == "audit chain intact: 2 events"

    engine = make_engine(cli_db.url)
    statements = TAMPERING[kind][0].split("; ")
    with engine.begin() as conn:
        _refused(conn, text(statements[0]))
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()

    broken = cli_db("audit", "verify")
    assert broken.exit_code == 1
    assert TAMPERING[kind][1] in broken.stderr
