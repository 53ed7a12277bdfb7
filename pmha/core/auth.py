"""Roles, permissions and the acting user. Who may do what is decided here, in one table."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request

from pmha.core.errors import Forbidden, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])


class Role(enum.StrEnum):
    PANEL_PHYSICIAN = "panel_physician"
    NURSE = "nurse"
    RADIOLOGIST = "radiologist"
    LAB_TECHNICIAN = "lab_technician"
    OPERATIONS = "operations"
    DOT_WORKER = "dot_worker"
    RECEIVING_AUTHORITY = "receiving_authority"
    AUDITOR = "auditor"
    ADMIN = "admin"


R = Role
CLINICAL_STAFF = frozenset(
    {R.PANEL_PHYSICIAN, R.NURSE, R.RADIOLOGIST, R.LAB_TECHNICIAN, R.OPERATIONS, R.DOT_WORKER}
)

# Permission -> roles holding it. Least privilege: admins manage accounts but read no health data;
# auditors read the trail (which holds no values); receiving authorities only import bundles.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "cases:read": CLINICAL_STAFF,
    "cases:write": frozenset({R.PANEL_PHYSICIAN, R.NURSE, R.OPERATIONS}),
    "exams:read": frozenset({R.PANEL_PHYSICIAN, R.NURSE, R.RADIOLOGIST}),
    "exams:write": frozenset({R.PANEL_PHYSICIAN, R.NURSE}),
    "exams:sign": frozenset({R.PANEL_PHYSICIAN}),
    "labs:read": frozenset({R.PANEL_PHYSICIAN, R.NURSE, R.LAB_TECHNICIAN}),
    "labs:write": frozenset({R.PANEL_PHYSICIAN, R.LAB_TECHNICIAN}),
    "radiology:read": frozenset({R.PANEL_PHYSICIAN, R.RADIOLOGIST}),
    "radiology:write": frozenset({R.RADIOLOGIST}),
    "vaccines:read": frozenset({R.PANEL_PHYSICIAN, R.NURSE}),
    "vaccines:write": frozenset({R.PANEL_PHYSICIAN, R.NURSE}),
    "tb_dot:read": frozenset({R.PANEL_PHYSICIAN, R.NURSE, R.DOT_WORKER}),
    "tb_dot:write": frozenset({R.PANEL_PHYSICIAN, R.NURSE, R.DOT_WORKER}),
    "clearance:read": frozenset({R.PANEL_PHYSICIAN, R.NURSE, R.OPERATIONS}),
    "travel:write": frozenset({R.PANEL_PHYSICIAN, R.OPERATIONS}),
    "exports:create": frozenset({R.PANEL_PHYSICIAN, R.OPERATIONS}),
    "exports:import": frozenset({R.RECEIVING_AUTHORITY}),
    "exports:keys": frozenset({R.ADMIN}),  # the authorities' certificates (no health data)
    "users:manage": frozenset({R.ADMIN}),
    "audit:read": frozenset({R.AUDITOR}),
    "tokens:own": frozenset(Role),  # revoke the token one is calling with (no data)
}


@dataclass(frozen=True)
class Actor:
    """Who is acting, from where: passed explicitly to every service verb."""

    user_id: uuid.UUID | None
    username: str
    roles: frozenset[Role]
    site_ids: frozenset[uuid.UUID]
    ip: str | None = None
    request_id: str | None = None
    via: str = "session"
    destination: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def can(self, permission: str) -> bool:
        allowed = PERMISSIONS.get(permission)
        if allowed is None:
            raise KeyError(f"unknown permission {permission}")
        return bool(self.roles & allowed)

    def check(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"Your role does not allow {permission}.", code="auth.forbidden")

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(None, name, frozenset(), frozenset(), via="cli")


def permissions_of(roles: frozenset[Role]) -> list[str]:
    return sorted(p for p, allowed in PERMISSIONS.items() if roles & allowed)


ActorLoader = Callable[[], "Actor | None"]


def init_auth(app: Flask, *, token_loader: ActorLoader, session_loader: ActorLoader) -> None:
    app.extensions["pmha.auth"] = {"token": token_loader, "session": session_loader}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def current_actor(optional: bool = False) -> Actor | None:
    """The caller: bearer token on the API, login session on the pages (never both)."""
    if "pmha_actor" not in g:
        loaders = current_app.extensions["pmha.auth"]
        g.pmha_actor = loaders["token" if is_api_request() else "session"]()
    actor = cast("Actor | None", g.pmha_actor)
    if actor is None and not optional:
        raise Unauthenticated("Sign in, or send a valid bearer token.")
    return actor


def actor() -> Actor:
    found = current_actor()
    assert found is not None
    return found


def require(*permissions: str) -> Callable[[F], F]:
    """View decorator: 401 without a caller, 403 when no role of theirs holds the permission."""
    return _required(permissions, every=True)


def require_any(*permissions: str) -> Callable[[F], F]:
    """View decorator: 403 unless the caller holds at least one of the permissions (the service
    then decides which records each may see)."""
    return _required(permissions, every=False)


def _required(permissions: tuple[str, ...], *, every: bool) -> Callable[[F], F]:
    for permission in permissions:
        if permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission}")

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = actor()
            if every:
                for permission in permissions:
                    who.check(permission)
            elif not any(who.can(p) for p in permissions):
                raise Forbidden("Your role does not allow this.", code="auth.forbidden")
            return fn(*args, **kwargs)

        # What the OpenAPI document and the route-by-role tests read of the route.
        wrapper.pmha_permissions = permissions if every else ()  # type: ignore[attr-defined]
        if not every:
            wrapper.pmha_any_permission = permissions  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


# What a route declares it needs: one permission, any one of several, or None (its own check).
Permission = str | tuple[str, ...] | None


def guard(permission: Permission) -> Callable[[F], F]:
    """The check a route declares: one permission, any one of several (a tuple), or none here
    (the handler carries its own, e.g. any signed-in user, or the route is public)."""
    if permission is None:
        return lambda fn: fn
    if isinstance(permission, tuple):
        return require_any(*permission)
    return require(permission)


def require_login(fn: F) -> F:
    """View decorator for pages any signed-in user may see."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor()
        return fn(*args, **kwargs)

    wrapper.pmha_permissions = ()  # type: ignore[attr-defined]
    return cast(F, wrapper)
