"""Signing in and out, lockout, idle sessions, API tokens, user management."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pmha.accounts import service
from pmha.accounts.models import ApiToken, LoginSession
from pmha.core.auth import Role
from pmha.core.db import utcnow
from pmha.core.errors import ValidationFailed
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, SYSTEM


def test_login_then_logout_ends_the_session(client, world, session):
    assert login(client, "t_nurse").status_code == 302
    assert client.get("/").status_code == 200
    token = csrf_token(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    session.expire_all()
    rows = session.scalars(select(LoginSession)).all()
    assert rows and all(r.ended_at is not None for r in rows)


def test_wrong_password_is_401_and_says_how_lockout_works(client, world):
    response = login(client, "t_nurse", "wrong-password-123")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


def test_unknown_user_gets_the_same_answer(client, world):
    response = login(client, "nobody", "wrong-password-123")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


def test_lockout_after_repeated_failures_even_with_the_right_password(client, world, session):
    for _ in range(5):
        assert login(client, "t_nurse", "wrong-password-123").status_code == 401
    assert login(client, "t_nurse").status_code == 401
    session.expire_all()  # the requests changed the row since this session read it
    user = service.get_user(session, "t_nurse")
    assert user.locked_until is not None
    service.unlock(session, SYSTEM, user)
    session.commit()
    assert login(client, "t_nurse").status_code == 302


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "t_nurse", "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.text


def test_idle_session_ends(client, world, session):
    assert login(client, "t_nurse").status_code == 302
    session.expire_all()
    row = session.scalars(select(LoginSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_open_redirect_after_login_is_refused(client, world):
    page = client.get("/login")
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "t_nurse", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/"


def test_token_expiry_and_revocation(client, world, session):
    url = "/api/v1/cases"
    assert client.get(url, headers=world.auth("nurse")).status_code == 200
    token = session.scalars(
        select(ApiToken).where(ApiToken.user_id == world.users["nurse"].id)
    ).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert client.get(url, headers=world.auth("nurse")).status_code == 401
    token.expires_at = None
    token.revoked_at = utcnow()
    session.commit()
    assert client.get(url, headers=world.auth("nurse")).status_code == 401


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "a b"}, "username"),
        ({"username": "t_nurse"}, "username"),
        ({"password": "short"}, "password"),
        ({"roles": []}, "roles"),
        ({"site_codes": ["XXX"]}, "sites"),
        ({"site_codes": []}, "sites"),
        ({"roles": [Role.RECEIVING_AUTHORITY], "site_codes": []}, "destination"),
    ],
)
def test_create_user_names_the_wrong_field(session, world, kwargs, field):
    args = {
        "username": "newuser",
        "full_name": "New User",
        "password": PASSWORD,
        "roles": [Role.NURSE],
        "site_codes": ["IST"],
    }
    args.update(kwargs)
    with pytest.raises(ValidationFailed) as exc:
        service.create_user(session, SYSTEM, **args)
    assert field in exc.value.errors


def test_admin_creates_a_user_on_the_page(client, world, signed_in, session):
    c = signed_in("admin")
    page = c.get("/admin/users")
    assert page.status_code == 200
    response = c.post(
        "/admin/users",
        data={
            "username": "newnurse",
            "full_name": "New Nurse",
            "password": PASSWORD,
            "roles": ["nurse"],
            "site_codes": ["IST"],
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    assert service.get_user(session, "newnurse").roles == {Role.NURSE}


def test_admin_form_errors_are_inline_and_nothing_is_written(client, world, signed_in, session):
    c = signed_in("admin")
    page = c.get("/admin/users")
    response = c.post(
        "/admin/users",
        data={
            "username": "x y",
            "full_name": "N",
            "password": "short",
            "roles": [],
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 422
    assert "Please correct" in response.text
    assert len(service.list_users(session)) == len(world.users)


def test_deactivated_user_cannot_sign_in_and_loses_tokens(client, world, session):
    user = world.users["nurse"]
    service.set_active(session, world.actor("admin"), user, False)
    session.commit()
    assert login(client, "t_nurse").status_code == 401
    assert client.get("/api/v1/cases", headers=world.auth("nurse")).status_code == 401


def test_admin_changes_roles_and_sites(client, world, signed_in, session):
    c = signed_in("admin")
    page = c.get("/admin/users/t_nurse")
    assert page.status_code == 200
    response = c.post(
        "/admin/users/t_nurse",
        data={
            "full_name": "Test nurse",
            "roles": ["nurse", "dot_worker"],
            "site_codes": ["IST", "ANK"],
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    session.expire_all()
    user = service.get_user(session, "t_nurse")
    assert user.roles == {Role.NURSE, Role.DOT_WORKER}
    assert user.site_ids == {world.home.id, world.other.id}


def test_admin_role_change_errors_are_inline(client, world, signed_in, session):
    c = signed_in("admin")
    page = c.get("/admin/users/t_nurse")
    response = c.post(
        "/admin/users/t_nurse",
        data={"full_name": "Test nurse", "roles": [], "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 422
    session.expire_all()
    assert service.get_user(session, "t_nurse").roles == {Role.NURSE}


def test_admin_resets_a_password_and_old_sessions_end(app, client, world, signed_in, session):
    other = app.test_client()
    assert login(other, "t_nurse").status_code == 302
    c = signed_in("admin")
    page = c.get("/admin/users/t_nurse")
    response = c.post(
        "/admin/users/t_nurse/password",
        data={"password": "a-brand-new-password", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302
    assert other.get("/").status_code == 302  # signed out
    assert login(app.test_client(), "t_nurse", "a-brand-new-password").status_code == 302


def test_short_new_password_is_refused(client, world, signed_in):
    c = signed_in("admin")
    page = c.get("/admin/users/t_nurse")
    response = c.post(
        "/admin/users/t_nurse/password",
        data={"password": "short", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 422
    assert "12 characters" in response.text


def test_a_token_carries_every_role_and_site_of_its_user(session, world):
    user = world.users["nurse"]
    service.update_access(
        session,
        SYSTEM,
        user,
        full_name="Test nurse",
        roles=[Role.NURSE, Role.DOT_WORKER],
        site_codes=["IST", "ANK"],
    )
    session.commit()
    session.expunge_all()
    found = service.user_for_token(session, world.tokens["nurse"])
    assert found.roles == {Role.NURSE, Role.DOT_WORKER}
    assert found.site_ids == {world.home.id, world.other.id}
