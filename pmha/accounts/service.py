"""Account verbs: create users, sign in and out, lock out, issue and check API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from zxcvbn import zxcvbn

from pmha.accounts.models import ApiToken, LoginSession, User, UserRole, UserSite
from pmha.cases.models import Destination, Site
from pmha.core import audit
from pmha.core.auth import Actor, Role
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 12


@dataclass(frozen=True)
class LoginPolicy:
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    idle_minutes: int = 30
    max_hours: int = 12


def _with_access(user: Any) -> tuple[Any, ...]:
    """Load a caller's user with roles and sites in the same query: it runs on every request."""
    return (
        joinedload(user).joinedload(User.role_rows),
        joinedload(user).joinedload(User.site_rows),
    )


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str, *, username: str = "", full_name: str = "") -> str | None:
    """Why a password may not be used, in words; None when it may (OWASP ASVS 4.0 V2.1).

    At least 12 characters (2.1.1), any characters allowed (2.1.4), not the username or the
    person's name, and not easy to guess: zxcvbn (Dropbox's estimator, with its lists of common
    passwords, words and keyboard patterns) must score it 3 of 4 or more (2.1.7's intent, offline).
    """
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    folded = password.casefold()
    if username and username.casefold() in folded:
        return "A password cannot contain the username."
    if any(len(part) > 3 and part.casefold() in folded for part in full_name.split()):
        return "A password cannot contain the person's name."
    if _easy_to_guess(password):
        return (
            "This password is too easy to guess (a common password, word or pattern). "
            "Use a longer phrase of unrelated words."
        )
    return None


@lru_cache(maxsize=256)
def _easy_to_guess(password: str) -> bool:
    # zxcvbn's time grows with length (up to ~10 ms); the first 64 characters decide.
    return bool(zxcvbn(password[:64])["score"] < 3)


def check_password_strength(password: str, *, username: str = "", full_name: str = "") -> None:
    problem = password_problem(password, username=username, full_name=full_name)
    if problem:
        raise ValidationFailed(errors={"password": [problem]})


def actor_for(user: User, *, ip: str | None, request_id: str | None, via: str) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=user.roles,
        site_ids=user.site_ids,
        ip=ip,
        request_id=request_id,
        via=via,
        destination=user.destination,
        extra={"full_name": user.full_name},
    )


def display_name(actor: Actor) -> str:
    """The acting user's full name as their account gives it, for what they sign or confirm
    (issue 18: never a username on a signed record); the username for system actors."""
    name = actor.extra.get("full_name")
    return str(name) if name else actor.username


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    full_name: str,
    password: str,
    roles: list[Role],
    site_codes: list[str],
    destination: str | None = None,
    registration_number: str | None = None,
) -> User:
    """Create a user with roles at sites (a receiving authority has a destination instead)."""
    username = username.strip().lower()
    errors: dict[str, list[str]] = {}
    registration = _registration(registration_number, errors)
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        errors["username"] = ["Use letters, digits, dots, dashes or underscores."]
    elif session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = ["This username is taken."]
    if not roles:
        errors["roles"] = ["Give at least one role."]
    sites = list(session.scalars(select(Site).where(Site.code.in_(site_codes))))
    missing = sorted(set(site_codes) - {s.code for s in sites})
    if missing:
        errors["sites"] = [f"Unknown site code: {', '.join(missing)}."]
    if Role.RECEIVING_AUTHORITY in roles:
        if destination not in {d.value for d in Destination}:
            errors["destination"] = ["A receiving authority needs its destination (US, CA, ...)."]
    elif not site_codes and set(roles) - {Role.ADMIN, Role.AUDITOR}:
        errors["sites"] = ["Staff roles need at least one site."]
    problem = password_problem(password, username=username, full_name=full_name)
    if problem:
        errors["password"] = [problem]
    if errors:
        raise ValidationFailed(errors=errors)
    user = User(
        username=username,
        full_name=full_name.strip(),
        registration_number=registration,
        password_hash=hash_password(password),
        destination=destination if Role.RECEIVING_AUTHORITY in roles else None,
        role_rows=[UserRole(role=r) for r in sorted(set(roles))],
        site_rows=[UserSite(site_id=s.id) for s in sites],
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "user",
        user.id,
        after={
            "username": username,
            "registration_number": registration,
            "roles": sorted(roles),
            "sites": sorted(site_codes),
        },
    )
    return user


def _registration(value: str | None, errors: dict[str, list[str]]) -> str | None:
    """A professional registration number: letters, digits, dashes, dots, slashes, spaces."""
    value = " ".join((value or "").split())
    if not value:
        return None
    if len(value) > 40 or not all(c.isalnum() or c in "-./ " for c in value):
        errors["registration_number"] = [
            "Use up to 40 letters, digits, dashes, dots or slashes (as on the registration)."
        ]
    return value


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str | None,
    request_id: str | None,
    policy: LoginPolicy,
) -> User | None:
    """Check a password; count failures and lock the account after too many."""
    now = utcnow()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    anonymous = Actor(None, "anonymous", frozenset(), frozenset(), ip=ip, request_id=request_id)
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        audit.record(session, anonymous, "login_failed", "user", None)
        return None
    if user.locked_until is not None and user.locked_until > now:
        # The same work as every other failure: the answer's timing must not tell that the
        # account exists and is locked.
        _verify(_DUMMY_HASH, password)
        audit.record(session, anonymous, "login_refused_locked", "user", user.id)
        return None
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= policy.lockout_threshold:
            user.locked_until = now + timedelta(minutes=policy.lockout_minutes)
            user.failed_logins = 0
            audit.record(session, anonymous, "locked", "user", user.id)
        else:
            audit.record(session, anonymous, "login_failed", "user", user.id)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(session: Session, user: User, *, ip: str | None, actor: Actor) -> str:
    """Open a login session; returns the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, secret_hash=_sha256(secret), ip=ip))
    audit.record(session, actor, "login", "user", user.id)
    return secret


def end_session(session: Session, secret: str, actor: Actor) -> None:
    row = session.scalar(select(LoginSession).where(LoginSession.secret_hash == _sha256(secret)))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        audit.record(session, actor, "logout", "user", row.user_id)


def user_for_session(session: Session, secret: str, policy: LoginPolicy) -> User | None:
    """The user of a live login session; idle or too-old sessions end here."""
    row = (
        session.execute(
            select(LoginSession)
            .where(LoginSession.secret_hash == _sha256(secret))
            .options(*_with_access(LoginSession.user))
        )
        .unique()
        .scalar_one_or_none()
    )
    if row is None or row.ended_at is not None or not row.user.active:
        return None
    now = utcnow()
    if now - row.last_seen_at > timedelta(
        minutes=policy.idle_minutes
    ) or now - row.created_at > timedelta(hours=policy.max_hours):
        row.ended_at = now
        return None
    if now - row.last_seen_at > timedelta(seconds=60):
        row.last_seen_at = now
    return row.user


# ASVS 3.5: tokens expire. An integration asks for a new one at least yearly; 90 days unless
# the operator says otherwise.
TOKEN_DAYS = 90
TOKEN_MAX_DAYS = 365


def create_token(
    session: Session, actor: Actor, user: User, name: str, days: int = TOKEN_DAYS
) -> str:
    """Issue a bearer token; the plain value is shown once and never stored."""
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise ValidationFailed(errors={"days": [f"A token lasts from 1 to {TOKEN_MAX_DAYS} days."]})
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        secret_hash=_sha256(secret),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "create", "api_token", token.id, details={"user": user.username})
    return f"pmha_{token.id.hex}_{secret}"


def user_for_token(session: Session, value: str) -> User | None:
    parts = value.split("_", 2)
    if len(parts) != 3 or parts[0] != "pmha":
        return None
    try:
        token_id = uuid.UUID(hex=parts[1])
    except ValueError:
        return None
    # unique(): joined collections come as several rows; all of them make the user complete.
    token = (
        session.execute(
            select(ApiToken).where(ApiToken.id == token_id).options(*_with_access(ApiToken.user))
        )
        .unique()
        .scalar_one_or_none()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, _sha256(parts[2])):
        return None
    now = utcnow()
    if token.revoked_at or (token.expires_at and token.expires_at < now) or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """A user's tokens, newest first, with when each was last used."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )


def token_state(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at < utcnow():
        return "expired"
    return "live"


def revoke_presented_token(session: Session, actor: Actor, authorization: str) -> int:
    """Revoke the bearer token of this request (the caller's own)."""
    _, _, value = authorization.partition(" ")
    parts = value.strip().split("_", 2)
    token = session.get(ApiToken, uuid.UUID(hex=parts[1])) if len(parts) == 3 else None
    if token is None or token.user_id != actor.user_id:
        raise NotFound("This request carries no token of yours.", code="tokens.not_found")
    user = session.get(User, token.user_id)
    assert user is not None
    return revoke_tokens(session, actor, user, token.id, because="revoked by its holder")


def revoke_tokens(
    session: Session,
    actor: Actor,
    user: User,
    token_id: uuid.UUID | None = None,
    *,
    because: str = "revoked",
) -> int:
    """Revoke one token of the user (`token_id`) or all that are still live; audited. Returns
    how many were revoked. NotFound when `token_id` is not one of the user's."""
    where = [ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)]
    if token_id is not None:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != user.id:
            raise NotFound("This user has no such token.", code="tokens.not_found")
        where.append(ApiToken.id == token_id)
    now, count = utcnow(), 0
    for token in session.scalars(select(ApiToken).where(*where)):
        token.revoked_at = now
        count += 1
        audit.record(session, actor, "revoke", "api_token", token.id, details={"because": because})
    return count


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("No such user.", code="users.not_found")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Deactivate or reactivate an account; deactivation ends its sessions."""
    if user.id == actor.user_id and not active:
        raise Conflict("You cannot deactivate your own account.", code="users.self_deactivate")
    user.active = active
    if not active:
        for row in session.scalars(
            select(LoginSession).where(
                LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
            )
        ):
            row.ended_at = utcnow()
        # Reactivating must not revive old tokens: they end with the account.
        revoke_tokens(session, actor, user, because="account deactivated")
    audit.record(
        session,
        actor,
        "update",
        "user",
        user.id,
        before={"active": not active},
        after={"active": active},
    )


def unlock(session: Session, actor: Actor, user: User) -> None:
    """Lift a lockout before it expires."""
    user.locked_until = None
    user.failed_logins = 0
    audit.record(session, actor, "unlock", "user", user.id)


def reset_password(session: Session, actor: Actor, user: User, password: str) -> None:
    """Set a new password; every open session and every token of the user ends."""
    check_password_strength(password, username=user.username, full_name=user.full_name)
    user.password_hash = hash_password(password)
    for row in session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ):
        row.ended_at = utcnow()
    revoke_tokens(session, actor, user, because="password reset")
    audit.record(session, actor, "reset_password", "user", user.id)


def update_access(
    session: Session,
    actor: Actor,
    user: User,
    *,
    full_name: str,
    roles: list[Role],
    site_codes: list[str],
    destination: str | None = None,
    registration_number: str | None = None,
) -> None:
    """Change a user's name, registration number, roles and sites (as on creation)."""
    errors: dict[str, list[str]] = {}
    registration = _registration(registration_number, errors)
    if not roles:
        errors["roles"] = ["Give at least one role."]
    found = list(session.scalars(select(Site).where(Site.code.in_(site_codes))))
    missing = sorted(set(site_codes) - {s.code for s in found})
    if missing:
        errors["sites"] = [f"Unknown site code: {', '.join(missing)}."]
    elif not site_codes and set(roles) - {Role.ADMIN, Role.AUDITOR, Role.RECEIVING_AUTHORITY}:
        errors["sites"] = ["Staff roles need at least one site."]
    if Role.RECEIVING_AUTHORITY in roles and destination not in {d.value for d in Destination}:
        errors["destination"] = ["A receiving authority needs its destination (US, CA, ...)."]
    if user.id == actor.user_id and Role.ADMIN not in roles:
        errors["roles"] = ["You cannot remove your own admin role."]
    if errors:
        raise ValidationFailed(errors=errors)
    before = {
        "full_name": user.full_name,
        "registration_number": user.registration_number,
        "roles": sorted(user.roles),
        "sites": sorted(str(s) for s in user.site_ids),
        "destination": user.destination,
    }
    user.full_name = full_name.strip()
    user.registration_number = registration
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    user.site_rows = [UserSite(site_id=s.id) for s in found]
    user.destination = destination if Role.RECEIVING_AUTHORITY in roles else None
    session.flush()
    after = {
        "full_name": user.full_name,
        "registration_number": user.registration_number,
        "roles": sorted(user.roles),
        "sites": sorted(str(s) for s in user.site_ids),
        "destination": user.destination,
    }
    audit.record(session, actor, "update", "user", user.id, before=before, after=after)


def sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)))


def describe(user: User, site_codes: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "registration_number": user.registration_number or "",
        "roles": sorted(user.roles),
        "sites": sorted(site_codes.get(s, "?") for s in user.site_ids),
        "active": user.active,
        "locked": is_locked(user),
        "last_login_at": user.last_login_at,
    }
