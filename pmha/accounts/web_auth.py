"""Who is calling: the login session cookie on pages, a bearer token on the API."""

from __future__ import annotations

from flask import current_app, request, session

from pmha.accounts import service, signatures
from pmha.accounts.signatures import Signature
from pmha.config import Config
from pmha.core.auth import Actor, actor
from pmha.core.db import get_session
from pmha.core.http import client_ip, request_id

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


def actor_from_token() -> Actor | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    user = service.user_for_token(get_session(), value.strip())
    if user is None:
        return None
    return service.actor_for(user, ip=client_ip(), request_id=request_id(), via="token")


def confirm_signature(password: str | None, permission: str) -> Signature:
    """The caller's signature for this request: their password again (see accounts.signatures)."""
    return signatures.confirm_signature(
        get_session(), actor(), password, permission, policy=policy()
    )
