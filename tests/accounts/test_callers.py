"""The token check: one query, cached briefly per token, and revocation honoured on the very next
request in the same process (issue 20). Another process learns within callers.TTL_SECONDS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection

from pmha.accounts import callers
from pmha.accounts import service as accounts
from pmha.accounts.models import ApiToken
from pmha.core.auth import Role
from pmha.core.db import utcnow
from tests.factories import SYSTEM

URL = "/api/v1/cases"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    callers.cache.clear()
    yield
    callers.cache.clear()


@contextmanager
def counted(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", note)


def _token_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if "api_tokens" in s]


def test_the_caller_is_one_query_then_cached(client, world, connection):
    with counted(connection) as first:
        assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    # One SELECT (token, user, roles, sites) and the last-used stamp on first use.
    selects = [s for s in _token_statements(first) if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert "user_roles" in selects[0] and "user_sites" in selects[0]
    with counted(connection) as second:
        assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    assert _token_statements(second) == []


def test_revocation_takes_effect_on_the_next_request(client, world, session):
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200  # now cached
    accounts.revoke_tokens(session, SYSTEM, world.users["nurse"])
    session.commit()
    assert client.get(URL, headers=world.auth("nurse")).status_code == 401


def test_revoking_ones_own_token_ends_it_at_once(client, world):
    headers = world.auth("nurse")
    assert client.get(URL, headers=headers).status_code == 200
    assert client.post("/api/v1/token/revoke", headers=headers).status_code == 200
    assert client.get(URL, headers=headers).status_code == 401


def test_a_row_edited_directly_is_seen_on_the_next_request(client, world, session):
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    row = session.scalars(select(ApiToken).where(ApiToken.user_id == world.users["nurse"].id)).one()
    row.revoked_at = utcnow()
    session.commit()
    assert client.get(URL, headers=world.auth("nurse")).status_code == 401


def test_deactivation_takes_effect_on_the_next_request(client, world, session):
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    accounts.set_active(session, SYSTEM, world.users["nurse"], False)
    session.commit()
    assert client.get(URL, headers=world.auth("nurse")).status_code == 401


def test_a_role_change_takes_effect_on_the_next_request(client, world, session):
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    accounts.update_access(
        session,
        SYSTEM,
        world.users["nurse"],
        full_name="Test nurse",
        roles=[Role.AUDITOR],
        site_codes=[],
    )
    session.commit()
    response = client.get(URL, headers=world.auth("nurse"))
    assert response.status_code == 403
    assert response.json["code"] == "auth.forbidden"


def test_a_site_change_takes_effect_on_the_next_request(client, world, session):
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    cached = callers.cached(world.tokens["nurse"])
    assert cached is not None and cached.site_ids == {world.home.id}
    accounts.update_access(
        session,
        SYSTEM,
        world.users["nurse"],
        full_name="Test nurse",
        roles=[Role.NURSE],
        site_codes=["ANK"],
    )
    session.commit()
    assert callers.cached(world.tokens["nurse"]) is None
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    again = callers.cached(world.tokens["nurse"])
    assert again is not None and again.site_ids == {world.other.id}


def test_an_expired_token_is_refused_even_when_cached(client, world, session):
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    cached = callers.cached(world.tokens["nurse"])
    assert cached is not None
    # As if the clock had passed the expiry while the entry was cached (no change to the row).
    stale = callers.Caller(**{**cached.__dict__, "token_expires_at": utcnow() - timedelta(1)})
    token_id, secret_hash = callers.parse_token(world.tokens["nurse"]) or (None, "")
    assert token_id is not None
    callers.cache.put(token_id, secret_hash, stale, 0.0, callers.cache.epoch())
    assert callers.cached(world.tokens["nurse"]) is None


def test_a_wrong_secret_for_a_cached_token_is_refused(client, world):
    assert client.get(URL, headers=world.auth("nurse")).status_code == 200
    prefix, hex_id, _secret = world.tokens["nurse"].split("_", 2)
    forged = f"{prefix}_{hex_id}_{'x' * 43}"
    response = client.get(URL, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_entries_expire_after_the_ttl(monkeypatch, world):
    cache = callers.CallerCache(ttl=5.0, max_entries=2)
    clock = [1000.0]
    monkeypatch.setattr(callers.time, "monotonic", lambda: clock[0])
    caller = callers.Caller(world.users["nurse"].id, "n", "N", None, frozenset(), frozenset(), None)
    token_id = world.users["nurse"].id  # any UUID
    cache.put(token_id, "h", caller, clock[0], cache.epoch())
    assert cache.get(token_id, "h") == caller
    clock[0] += 5.1
    assert cache.get(token_id, "h") is None


def test_the_cache_is_bounded(world):
    import uuid

    cache = callers.CallerCache(ttl=5.0, max_entries=3)
    caller = callers.Caller(world.users["nurse"].id, "n", "N", None, frozenset(), frozenset(), None)
    ids = [uuid.uuid4() for _ in range(5)]
    for token_id in ids:
        cache.put(token_id, "h", caller, 0.0, cache.epoch())
    assert len(cache) == 3
    assert cache.get(ids[0], "h") is None


def test_a_load_that_raced_an_invalidation_is_not_stored(world):
    import uuid

    cache = callers.CallerCache()
    caller = callers.Caller(world.users["nurse"].id, "n", "N", None, frozenset(), frozenset(), None)
    token_id, epoch = uuid.uuid4(), cache.epoch()
    # Another thread revokes while this one's query runs.
    worker = threading.Thread(target=cache.drop_users, args=({world.users["nurse"].id},))
    worker.start()
    worker.join()
    cache.put(token_id, "h", caller, 0.0, epoch)
    assert cache.get(token_id, "h") is None
