"""Sign in and out; the admin's user management pages."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from marshmallow import fields, validate
from werkzeug.wrappers import Response

from pmha.accounts import service
from pmha.accounts.api import token_row
from pmha.accounts.web_auth import SESSION_KEY, policy, throttle
from pmha.cases.models import Destination
from pmha.core.auth import Actor, Role, actor, current_actor
from pmha.core.db import get_session
from pmha.core.errors import TooManyRequests
from pmha.core.forms import Failed, form_action, form_load, sent_back
from pmha.core.http import client_ip, request_id
from pmha.core.schemas import StrictSchema
from pmha.web.pages import Pages

bp = Blueprint("accounts", __name__)
pages = Pages(bp)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.today")


@pages.route("/login", None, methods=("GET", "POST"))
def login() -> Any:
    if request.method == "GET":
        if current_actor(optional=True) is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("accounts/login.html", error=None, username="")
    username = request.form.get("username", "")[:60]
    if not username.isprintable():
        username = ""  # a control character (NUL, ...) cannot be in any username: a failed sign-in
    password = request.form.get("password", "")[:200]
    try:
        throttle().check("login", client=client_ip(), account=username)
    except TooManyRequests as exc:
        page = render_template("accounts/login.html", error=exc.detail, username=username)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    db = get_session()
    user = service.authenticate(
        db, username, password, ip=client_ip(), request_id=request_id(), policy=policy()
    )
    if user is None:
        throttle().failed("login", client=client_ip(), account=username)
        db.commit()  # keep the failure count and its audit event although the answer is 401
        p = policy()
        error = (
            "Wrong username or password. After "
            f"{p.lockout_threshold} failed attempts an account is locked for "
            f"{p.lockout_minutes} minutes."
        )
        return render_template("accounts/login.html", error=error, username=username), 401
    who = service.actor_for(user, ip=client_ip(), request_id=request_id(), via="session")
    session.clear()
    session[SESSION_KEY] = service.start_session(db, user, ip=client_ip(), actor=who)
    return redirect(_safe_next(request.args.get("next")))


@pages.post("/logout", None)
def logout() -> Response:
    who = current_actor(optional=True)
    secret = session.get(SESSION_KEY)
    if who is not None and isinstance(secret, str):
        service.end_session(get_session(), secret, who)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("accounts.login"))


class UserForm(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=60))
    full_name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    password = fields.String(required=True, validate=validate.Length(min=12, max=200))
    registration_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=40)
    )
    roles = fields.List(
        fields.Enum(Role, by_value=True), required=True, validate=validate.Length(min=1)
    )
    site_codes = fields.List(fields.String(), load_default=list)
    destination = fields.Enum(Destination, by_value=True, load_default=None)


@pages.page("/admin/users", "users:manage", endpoint="users")
def _users_page(failed: Failed | None = None, status: int = 200) -> Any:
    db = get_session()
    sites = service.sites(db)
    codes = {s.id: s.code for s in sites}
    users = [service.describe(u, codes) for u in service.list_users(db)]
    return render_template(
        "accounts/users.html",
        users=users,
        sites=sites,
        roles=list(Role),
        destinations=list(Destination),
        **sent_back(failed),
        nav="users",
    ), status


@pages.post("/admin/users", "users:manage")
def create_user() -> Any:
    raw = {
        "username": request.form.get("username", "").strip(),
        "full_name": request.form.get("full_name", "").strip(),
        "registration_number": request.form.get("registration_number", "").strip(),
        "password": request.form.get("password", ""),
        "roles": request.form.getlist("roles"),
        "site_codes": request.form.getlist("site_codes"),
    }
    if request.form.get("destination"):
        raw["destination"] = request.form["destination"]
    shown = {k: v for k, v in raw.items() if k != "password"}
    user = form_action(
        "user",
        shown,
        lambda data: service.create_user(
            get_session(),
            actor(),
            username=data["username"],
            password=data["password"],
            **_access(data),
        ),
        _users_page,
        schema=UserForm(),
        typed=raw,
        status=422,
    )
    flash(f"User {user.username} created.")
    return redirect(url_for("accounts.users"))


def _access(data: dict[str, Any]) -> dict[str, Any]:
    """A user's access as the form gives it: name, registration, roles, sites, destination."""
    destination = data["destination"]
    return {
        "full_name": data["full_name"],
        "registration_number": data["registration_number"],
        "roles": data["roles"],
        "site_codes": data["site_codes"],
        "destination": destination.value if destination else None,
    }


def _user_action(username: str, act: str) -> Response:
    db = get_session()
    me: Actor = actor()
    user = service.get_user(db, username)
    if act == "unlock":
        service.unlock(db, me, user)
    elif act in {"activate", "deactivate"}:
        service.set_active(db, me, user, act == "activate")
    flash(f"{user.username}: {act}d." if act != "unlock" else f"{user.username}: unlocked.")
    return redirect(url_for("accounts.users"))


@pages.post("/admin/users/<username>/<any(unlock, activate, deactivate):act>", "users:manage")
def user_action(username: str, act: str) -> Response:
    return _user_action(username, act)


class AccessForm(StrictSchema):
    full_name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    registration_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=40)
    )
    roles = fields.List(fields.Enum(Role, by_value=True), required=True)
    site_codes = fields.List(fields.String(), load_default=list)
    destination = fields.Enum(Destination, by_value=True, load_default=None)


@pages.page("/admin/users/<username>", "users:manage", endpoint="edit_user")
def _edit_page(
    username: str,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Any:
    db = get_session()
    user = service.get_user(db, username)
    sites = service.sites(db)
    codes = {s.id: s.code for s in sites}
    shown = form or {
        **service.describe(user, codes),
        "site_codes": service.describe(user, codes)["sites"],
        "destination": user.destination,
    }
    return render_template(
        "accounts/user_edit.html",
        user=service.describe(user, codes),
        form=shown,
        errors=errors or {},
        sites=sites,
        roles=list(Role),
        destinations=list(Destination),
        tokens=[token_row(t) for t in service.tokens_of(db, user)],
        nav="users",
    ), status


@pages.post("/admin/users/<username>", "users:manage")
def update_user(username: str) -> Any:
    raw: dict[str, Any] = {
        "full_name": request.form.get("full_name", "").strip(),
        "registration_number": request.form.get("registration_number", "").strip(),
        "roles": request.form.getlist("roles"),
        "site_codes": request.form.getlist("site_codes"),
    }
    if request.form.get("destination"):
        raw["destination"] = request.form["destination"]

    def page(failed: Failed) -> Any:
        return _edit_page(username, raw, failed.errors)

    data = form_load("access", raw, page, AccessForm())
    user = service.get_user(get_session(), username)
    form_action(
        "access",
        raw,
        lambda _: service.update_access(get_session(), actor(), user, **_access(data)),
        page,
        status=422,
    )
    flash(f"{user.username}: roles and sites saved.")
    return redirect(url_for("accounts.users"))


@pages.post("/admin/users/<username>/password", "users:manage")
def reset_password(username: str) -> Any:
    user = service.get_user(get_session(), username)
    form_action(
        "password",
        {},
        lambda _: service.reset_password(
            get_session(), actor(), user, request.form.get("password", "")
        ),
        lambda failed: _edit_page(username, {}, failed.errors),
        status=422,
    )
    flash(f"{user.username}: password changed; their open sessions have ended.")
    return redirect(url_for("accounts.users"))


@pages.post("/admin/users/<username>/tokens/<uuid:token_id>/revoke", "users:manage")
def revoke_token(username: str, token_id: uuid.UUID) -> Response:
    db = get_session()
    user = service.get_user(db, username)
    service.revoke_tokens(db, actor(), user, token_id)
    flash(f"{user.username}: the token was revoked; it no longer works.")
    return redirect(url_for("accounts.edit_user", username=user.username))


@pages.post("/admin/users/<username>/tokens/revoke", "users:manage")
def revoke_all_tokens(username: str) -> Response:
    db = get_session()
    user = service.get_user(db, username)
    count = service.revoke_tokens(db, actor(), user)
    flash(f"{user.username}: {count} token(s) revoked.")
    return redirect(url_for("accounts.edit_user", username=user.username))
