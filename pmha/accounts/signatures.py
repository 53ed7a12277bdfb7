"""Signing: the signer re-enters their password, and the record names them as a professional.

A bearer token or a login session says who is at the keyboard; a signature says that this person
read this record and stands behind it. So every signing verb (an exam section, an X-ray reading,
a TB classification, a clearance certificate) takes a `Signature`, which only `confirm_signature`
makes from the password (or `trusted_signature`, for the seeded demo and the command line).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.accounts.models import LoginSession, User
from pmha.accounts.service import LoginPolicy, _verify, is_locked
from pmha.core import audit
from pmha.core.auth import PERMISSIONS, Actor, Role
from pmha.core.db import utcnow
from pmha.core.errors import AppError, Forbidden, LockedOut

# Roles whose signature is a registered professional's: they cannot sign without the number.
REGISTERED = frozenset({Role.PANEL_PHYSICIAN, Role.RADIOLOGIST})
ROLE_WORDS = {
    Role.PANEL_PHYSICIAN: "Panel physician",
    Role.NURSE: "Nurse",
    Role.RADIOLOGIST: "Radiologist",
    Role.LAB_TECHNICIAN: "Laboratory technician",
    Role.OPERATIONS: "Operations",
    Role.DOT_WORKER: "DOT worker",
}
# Preferred role to sign in, when a user holds several that grant the permission.
_ORDER = (Role.PANEL_PHYSICIAN, Role.RADIOLOGIST, Role.NURSE, Role.LAB_TECHNICIAN,
          Role.OPERATIONS, Role.DOT_WORKER)  # fmt: skip


def role_words(role: str | None) -> str:
    """'panel_physician' -> 'Panel physician'."""
    known = {r.value: words for r, words in ROLE_WORDS.items()}
    return known.get(role or "", (role or "").replace("_", " ").capitalize())


class SignatureNotConfirmed(AppError):
    status = 422
    code = "auth.signature_not_confirmed"
    title = "The signature was not confirmed"


class RegistrationMissing(AppError):
    status = 422
    code = "auth.registration_missing"
    title = "No professional registration number"


@dataclass(frozen=True)
class Signature:
    """Who signs, as the signed record shows them (copied: a later rename changes nothing)."""

    user_id: uuid.UUID | None
    full_name: str
    role: str
    registration_number: str | None

    @property
    def role_words(self) -> str:
        return role_words(self.role)

    @property
    def line(self) -> str:
        """'Dr A. Demir, Panel physician, reg. TR-12345'"""
        reg = f", reg. {self.registration_number}" if self.registration_number else ""
        return f"{self.full_name}, {self.role_words}{reg}"


def _role_for(user: User, permission: str) -> Role:
    held = user.roles & PERMISSIONS[permission]
    return next((r for r in _ORDER if r in held), next(iter(sorted(held)), Role.OPERATIONS))


def _signature_of(user: User, permission: str) -> Signature:
    role = _role_for(user, permission)
    if role in REGISTERED and not (user.registration_number or "").strip():
        raise RegistrationMissing(
            f"Your account has no professional registration number, so you cannot sign as "
            f"{ROLE_WORDS[role].lower()}: ask an administrator to add your registration number.",
            errors={"password": ["Ask an administrator to add your registration number."]},
        )
    return Signature(user.id, user.full_name, role.value, user.registration_number)


def confirm_signature(
    session: Session,
    actor: Actor,
    password: str | None,
    permission: str,
    policy: LoginPolicy | None = None,
) -> Signature:
    """Check the signer's password again; a wrong one is refused, audited and counts toward
    the lockout exactly as a failed sign-in does."""
    actor.check(permission)
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.active:
        raise Forbidden("Only a signed-in user can sign.", code="auth.forbidden")
    policy = policy or LoginPolicy()
    if is_locked(user):
        raise LockedOut(
            "Your account is locked after too many wrong passwords. Sign in again later, or "
            "ask an administrator to unlock it.",
            code="auth.locked",
        )
    if not password or not _verify(user.password_hash, password):
        user.failed_logins += 1
        locked = user.failed_logins >= policy.lockout_threshold
        if locked:
            user.locked_until = utcnow() + timedelta(minutes=policy.lockout_minutes)
            user.failed_logins = 0
            for row in session.scalars(
                select(LoginSession).where(
                    LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
                )
            ):
                row.ended_at = utcnow()
        audit.record(session, actor, "locked" if locked else "signature_failed", "user", user.id)
        # Kept although the request is refused (as a failed sign-in is): nothing else has been
        # written yet, because every signing verb confirms the signature first.
        session.commit()
        words = "Your password was not accepted, so nothing was signed."
        if locked:
            words += (
                f" After {policy.lockout_threshold} wrong passwords your account is locked for "
                f"{policy.lockout_minutes} minutes."
            )
        else:
            words += " Re-enter the password you sign in with."
        raise SignatureNotConfirmed(words, errors={"password": [words]})
    user.failed_logins = 0
    return _signature_of(user, permission)


def trusted_signature(user: User, permission: str) -> Signature:
    """A signature without a password: for the seeded demo and tests only, never a request."""
    return _signature_of(user, permission)


def preview(session: Session, actor: Actor, permission: str) -> tuple[Signature | None, str]:
    """How the caller would sign (shown before they sign), or why they cannot, in words."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not actor.can(permission):
        return None, "Your role does not sign this record."
    try:
        return _signature_of(user, permission), ""
    except RegistrationMissing as exc:
        return None, exc.detail
