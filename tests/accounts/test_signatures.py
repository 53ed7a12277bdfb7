"""Signatures (issue 14 §5): the signer re-enters their password; a wrong one is refused in
words, audited and counted toward the lockout; the signed record names a professional (full name,
role, registration number), set by an administrator on the users pages or `pmha users create`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pmha.accounts import service, signatures
from pmha.accounts.models import User
from pmha.core import audit
from pmha.core.audit import AuditEvent
from pmha.core.errors import Forbidden, LockedOut
from pmha.tb_dot.models import TbClassification
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.tb_dot.helpers import authorization_classified


def _failures(session, world, role="panel_physician"):
    session.expire_all()
    return session.get(User, world.users[role].id).failed_logins


def test_the_right_password_gives_the_signers_line(session, world):
    found = signatures.confirm_signature(
        session, world.actor("panel_physician"), PASSWORD, "exams:sign"
    )
    assert found.line == "Test panel_physician, Panel physician, reg. TEST-MD-0001"
    radiologist = signatures.confirm_signature(
        session, world.actor("radiologist"), PASSWORD, "radiology:write"
    )
    assert radiologist.line == "Test radiologist, Radiologist, reg. TEST-RAD-0002"


def test_a_wrong_password_is_refused_audited_and_counted(session, world):
    with pytest.raises(signatures.SignatureNotConfirmed) as exc:
        signatures.confirm_signature(
            session, world.actor("panel_physician"), "wrong-password-123", "exams:sign"
        )
    assert exc.value.code == "auth.signature_not_confirmed"
    assert "nothing was signed" in exc.value.detail
    assert _failures(session, world) == 1
    events = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "signature_failed")
    )
    assert events == 1
    assert audit.verify(session).ok


def test_a_locked_account_cannot_sign(session, world):
    policy = service.LoginPolicy(lockout_threshold=2)
    physician = world.actor("panel_physician")
    for _ in range(2):
        with pytest.raises(signatures.SignatureNotConfirmed):
            signatures.confirm_signature(session, physician, "nope", "exams:sign", policy)
    with pytest.raises(LockedOut):
        signatures.confirm_signature(session, physician, PASSWORD, "exams:sign", policy)
    assert audit.verify(session).ok


def test_a_role_that_does_not_sign_is_forbidden_before_the_password(session, world):
    with pytest.raises(Forbidden):
        signatures.confirm_signature(session, world.actor("nurse"), PASSWORD, "exams:sign")
    assert _failures(session, world, "nurse") == 0


def test_a_physician_without_a_registration_number_is_told_what_to_do(session, world):
    world.users["panel_physician"].registration_number = None
    with pytest.raises(signatures.RegistrationMissing) as exc:
        signatures.confirm_signature(
            session, world.actor("panel_physician"), PASSWORD, "exams:sign"
        )
    assert "ask an administrator to add your registration number" in exc.value.detail


def test_the_tb_classification_is_signed_with_the_password(client, world, session, app):
    """Confirming a TB classification is a physician's signature (issue 14 §5)."""

    class Ctx:
        pass

    ctx = Ctx()
    ctx.world, ctx.applicant = world, _principal(session, world)
    authorization_classified(ctx)
    session.commit()
    url = f"/api/v1/applicants/{ctx.applicant.id}/tb/classification"
    headers = world.auth("panel_physician")
    refused = client.post(url, json={"password": "wrong-password-123"}, headers=headers)
    assert refused.status_code == 422 and refused.json["code"] == "auth.signature_not_confirmed"
    assert session.scalar(select(func.count()).select_from(TbClassification)) == 0
    done = client.post(url, json={"password": PASSWORD, "note": "as derived"}, headers=headers)
    assert done.status_code == 201, done.json
    session.expire_all()
    row = session.scalars(select(TbClassification)).one()
    assert row.confirmed_by_name == "Test panel_physician, Panel physician, reg. TEST-MD-0001"
    assert audit.verify(session).ok


def _principal(session, world):
    from tests.factories import make_case

    return make_case(session, world.actor("nurse")).principal


def test_an_administrator_sets_the_registration_number(signed_in, session, world):
    client = signed_in("admin")
    page = client.get("/admin/users/t_nurse")
    assert 'name="registration_number"' in page.text
    response = client.post(
        "/admin/users/t_nurse",
        data={
            "csrf_token": csrf_token(page.text),
            "full_name": "Test nurse",
            "registration_number": "RN 2024/0042",
            "roles": "nurse",
            "site_codes": "IST",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, world.users["nurse"].id).registration_number == "RN 2024/0042"
    bad = client.post(
        "/admin/users/t_nurse",
        data={
            "csrf_token": csrf_token(page.text),
            "full_name": "Test nurse",
            "registration_number": "<script>",
            "roles": "nurse",
            "site_codes": "IST",
        },
    )
    assert bad.status_code == 422 and "Use up to 40 letters" in bad.text


def test_pmha_users_create_sets_the_registration_number(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pmha.cli import main
    from pmha.core.db import make_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PMHA_DATABASE_URL", url)
    monkeypatch.delenv("PMHA_BROKER_URL", raising=False)
    monkeypatch.delenv("PMHA_ENV", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], catch_exceptions=False).exit_code == 0
    args = ["users", "create", "--username", "dr.demir", "--full-name", "Ayse Demir",
            "--role", "admin", "--password", "a-long-password-1",
            "--registration-number", "TR-TTB-123456"]  # fmt: skip
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        number = conn.scalar(select(User.registration_number).where(User.username == "dr.demir"))
    engine.dispose()
    assert number == "TR-TTB-123456"
