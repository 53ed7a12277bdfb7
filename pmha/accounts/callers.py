"""Who is calling with a bearer token: one query, cached briefly per token in this process.

Every API request checks its token. The check is one query (token, user, roles and sites joined)
and its answer is kept for `TTL_SECONDS` per token, so that a busy integration costs one query
every few seconds instead of one per request.

Revocation is honoured on the very next request in this process: any change to a token, a user,
their roles or their sites made through the ORM (the services, the CLI, an administrator's page)
drops that user's cached callers when it is flushed and again when it commits, so a request that
read the old rows between the two cannot keep them. Another process (a second gunicorn worker)
has its own cache and learns of the change when its entry expires: at most `TTL_SECONDS` after
the commit. Expiry is checked on every use, from the cached expiry time.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from pmha.accounts.models import ApiToken, User, UserRole, UserSite
from pmha.core.auth import Role
from pmha.core.db import utcnow

# The longest a revoked token, a deactivated user or old roles stay usable in ANOTHER process.
TTL_SECONDS = 5.0
MAX_ENTRIES = 2048
# last_used_at is a hint for administrators, not a log: written at most this often per token.
LAST_USED_STEP = timedelta(minutes=5)
_STALE_KEY = "pmha.callers.stale_users"


@dataclass(frozen=True)
class Caller:
    """The user behind a token, as the request needs it (no ORM object)."""

    user_id: uuid.UUID
    username: str
    full_name: str
    destination: str | None
    roles: frozenset[Role]
    site_ids: frozenset[uuid.UUID]
    token_expires_at: datetime | None


@dataclass(frozen=True)
class _Entry:
    caller: Caller
    secret_hash: str
    loaded: float


class CallerCache:
    """A bounded, thread-safe map of token id -> caller, each entry living `ttl` seconds."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[uuid.UUID, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by every invalidation: a load that began before one may not be stored after it.
        self._epoch = 0

    def epoch(self) -> int:
        return self._epoch

    def get(self, token_id: uuid.UUID, secret_hash: str) -> Caller | None:
        with self._lock:
            entry = self._entries.get(token_id)
            if entry is None:
                return None
            if time.monotonic() - entry.loaded > self.ttl:
                del self._entries[token_id]
                return None
        # The hash of the presented secret must still match the one the row held.
        if not hmac.compare_digest(entry.secret_hash, secret_hash):
            return None
        return entry.caller

    def put(
        self, token_id: uuid.UUID, secret_hash: str, caller: Caller, loaded: float, epoch: int
    ) -> None:
        with self._lock:
            if epoch != self._epoch:
                return
            self._entries[token_id] = _Entry(caller, secret_hash, loaded)
            self._entries.move_to_end(token_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def drop_users(self, user_ids: set[uuid.UUID]) -> None:
        if not user_ids:
            return
        with self._lock:
            self._epoch += 1
            for token_id in [k for k, e in self._entries.items() if e.caller.user_id in user_ids]:
                del self._entries[token_id]

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


cache = CallerCache()


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def parse_token(value: str) -> tuple[uuid.UUID, str] | None:
    """`pmha_<id hex>_<secret>` -> (id, hash of the secret); None when it is not one."""
    parts = value.split("_", 2)
    if len(parts) != 3 or parts[0] != "pmha":
        return None
    try:
        return uuid.UUID(hex=parts[1]), _sha256(parts[2])
    except ValueError:
        return None


def cached(value: str) -> Caller | None:
    """The caller of this token if this process checked it in the last few seconds (no query)."""
    parsed = parse_token(value)
    if parsed is None:
        return None
    caller = cache.get(*parsed)
    if caller is None or _expired(caller, utcnow()):
        return None
    return caller


def caller_for_token(session: Session, value: str) -> Caller | None:
    """The caller of a live token of an active user; None otherwise (one query on a miss)."""
    parsed = parse_token(value)
    if parsed is None:
        return None
    token_id, secret_hash = parsed
    now = utcnow()
    caller = cache.get(token_id, secret_hash)
    if caller is None:
        # Taken before the query: if anyone changes this caller while it runs, the answer is
        # used for this request only and not stored.
        loaded, epoch = time.monotonic(), cache.epoch()
        caller = _load(session, token_id, secret_hash, now)
        if caller is None:
            return None
        cache.put(token_id, secret_hash, caller, loaded, epoch)
    return None if _expired(caller, now) else caller


def _expired(caller: Caller, now: datetime) -> bool:
    return caller.token_expires_at is not None and caller.token_expires_at < now


def _load(session: Session, token_id: uuid.UUID, secret_hash: str, now: datetime) -> Caller | None:
    rows = session.execute(
        select(
            ApiToken.secret_hash,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
            User.id,
            User.username,
            User.full_name,
            User.destination,
            User.active,
            UserRole.role,
            UserSite.site_id,
        )
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .outerjoin(UserSite, UserSite.user_id == User.id)
        .where(ApiToken.id == token_id)
    ).all()
    if not rows:
        return None
    first = rows[0]
    if not hmac.compare_digest(first.secret_hash, secret_hash):
        return None
    if first.revoked_at is not None or not first.active:
        return None
    if first.expires_at is not None and first.expires_at < now:
        return None
    if first.last_used_at is None or now - first.last_used_at > LAST_USED_STEP:
        # A core UPDATE: it must not count as a change of the caller (see _note_changes).
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return Caller(
        user_id=first.id,
        username=first.username,
        full_name=first.full_name,
        destination=first.destination,
        roles=frozenset(r.role for r in rows if r.role is not None),
        site_ids=frozenset(r.site_id for r in rows if r.site_id is not None),
        token_expires_at=first.expires_at,
    )


# ---------------------------------------------------------------------------------------------
# Invalidation: any ORM change to who a caller is drops their entries, at flush and at commit.


def _user_of(obj: Any) -> uuid.UUID | None:
    if isinstance(obj, User):
        return obj.id
    if isinstance(obj, ApiToken | UserRole | UserSite):
        return obj.user_id
    return None


def _note_changes(session: Session, _context: Any) -> None:
    users = {
        u
        for obj in (*session.new, *session.dirty, *session.deleted)
        if (u := _user_of(obj)) is not None
    }
    if users:
        session.info.setdefault(_STALE_KEY, set()).update(users)
        cache.drop_users(users)


def _after_commit(session: Session) -> None:
    cache.drop_users(session.info.pop(_STALE_KEY, set()))


def _after_rollback(session: Session) -> None:
    # Nothing changed, but dropping is always safe (the next request reloads).
    cache.drop_users(session.info.pop(_STALE_KEY, set()))


event.listen(Session, "after_flush", _note_changes)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", lambda session, _previous: _after_rollback(session))
