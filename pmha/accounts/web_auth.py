"""Who is calling: the login session cookie on pages, a bearer token on the API."""

from __future__ import annotations

from flask import current_app, request, session

from pmha.accounts import callers, service, signatures
from pmha.accounts.signatures import Signature
from pmha.config import Config
from pmha.core.auth import Actor, actor
from pmha.core.db import get_session
from pmha.core.http import client_ip, request_id
from pmha.core.throttle import Throttle

SESSION_KEY = "sid"


def policy() -> service.LoginPolicy:
    config: Config = current_app.extensions["pmha.config"]
    return service.LoginPolicy(
        lockout_threshold=config.LOCKOUT_THRESHOLD,
        lockout_minutes=config.LOCKOUT_MINUTES,
        idle_minutes=config.SESSION_IDLE_MINUTES,
        max_hours=config.SESSION_MAX_HOURS,
    )


def actor_from_session() -> Actor | None:
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str):
        return None
    user = service.user_for_session(get_session(), secret, policy())
    if user is None:
        session.pop(SESSION_KEY, None)
        return None
    return service.actor_for(user, ip=client_ip(), request_id=request_id(), via="session")


def throttle() -> Throttle:
    return current_app.extensions["pmha.throttle"]  # type: ignore[no-any-return]


def actor_from_token() -> Actor | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    # A token this process accepted seconds ago needs neither the throttle nor the database.
    caller = callers.cached(value.strip())
    if caller is None:
        throttle().check("token", client=client_ip())
        caller = callers.caller_for_token(get_session(), value.strip())
    if caller is None:
        throttle().failed("token", client=client_ip())
        return None
    return Actor(
        user_id=caller.user_id,
        username=caller.username,
        roles=caller.roles,
        site_ids=caller.site_ids,
        ip=client_ip(),
        request_id=request_id(),
        via="token",
        destination=caller.destination,
        extra={"full_name": caller.full_name},
    )


def confirm_signature(password: str | None, permission: str) -> Signature:
    """The caller's signature for this request: their password again (see accounts.signatures)."""
    return signatures.confirm_signature(
        get_session(), actor(), password, permission, policy=policy()
    )
