"""A GET writes nothing but its audit event (issue 21): reading a page or an API resource never
changes a record, so a read can be repeated, cached or retried, and what a record says changes
only through a write that says who changed it and why.

Every GET route of the app (the route table of tests/test_authorization.py), called by a caller
it serves, with the statements the database receives during that request counted. Only the audit
trail (its events and its chain head) may be written, and the one piece of access bookkeeping a
credential carries: when an API token was last used (at most once in five minutes, for the
administrators' token list).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from pmha.core.db import database, utcnow
from pmha.workflow.models import PlanRecord

# `ctx` (the records every route reads) is the route table's own fixture, imported to be used.
from tests.test_authorization import PUBLIC, ROUTES, Ctx, Route, _call, ctx  # noqa: F401

# The audit trail is what a read is allowed to write: who read what, and its chain head.
AUDIT_TABLES = frozenset({"audit_events", "audit_head"})
# The SET clause names only last_used_at (PostgreSQL adds a cast with spaces after the value).
TOKEN_TOUCH = re.compile(
    r"^\s*UPDATE\s+api_tokens\s+SET\s+last_used_at\s*=[^,]*?\s+WHERE\b", re.I | re.DOTALL
)
_WRITE = re.compile(
    r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE | re.DOTALL
)
GETS = [route for route in ROUTES if route.method == "GET"]


def _caller(route: Route) -> str:
    """A caller the route serves: the physician where allowed, else the first allowed role."""
    if route.kind == PUBLIC:
        return "anonymous"
    if "panel_physician" in route.allowed:
        return "panel_physician"
    return sorted(route.allowed)[0]


@pytest.fixture()
def writes(app: Flask) -> Iterator[list[str]]:
    """The tables written to while the list is recording (statements counted at the cursor)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found = _WRITE.match(statement)
        if found and not TOKEN_TOUCH.match(statement):
            seen.append(found.group(1).lower())

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("plans", ["kept today", "out of date"])
@pytest.mark.parametrize("route", GETS, ids=lambda r: r.endpoint)
def test_a_get_writes_nothing_but_its_audit_event(
    route: Route,
    plans: str,
    request: pytest.FixtureRequest,
    session: Session,
    client: FlaskClient,
    signed_in: Any,
    writes: list[str],
) -> None:
    """Out of date: every kept plan was made yesterday (a new day is the commonest reason a
    plan changes without a write: an age reached, a result's validity ended); the read shows
    today's plan and still writes nothing."""
    records: Ctx = request.getfixturevalue("ctx")
    if plans == "out of date":
        yesterday = utcnow().date() - timedelta(days=1)
        session.execute(update(PlanRecord).values(as_of=yesterday))
        session.commit()
    caller = _caller(route)
    if caller != "anonymous" and not route.url(records).startswith("/api/"):
        signed_in(caller)  # the sign-in itself writes: before the count starts
    writes.clear()
    response = _call(route, caller, records, client, lambda _role: None)
    try:
        ok = route.ok_signed_in if caller != "anonymous" and route.ok_signed_in else route.ok
        assert response.status_code == ok, response.get_data(as_text=True)[-800:]
        assert [t for t in writes if t not in AUDIT_TABLES] == []
    finally:
        response.close()
