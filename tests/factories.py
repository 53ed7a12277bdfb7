"""Synthetic test data. Every person is invented."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pmha.accounts import service as accounts
from pmha.accounts.models import User
from pmha.cases import service as cases
from pmha.cases.models import FamilyCase, Site
from pmha.core.auth import Actor, Role

PASSWORD = "correct-horse-battery"
SYSTEM = Actor.system("tests")
# Synthetic professional registration numbers: the signing roles need one to sign.
REGISTRATION = {
    Role.PANEL_PHYSICIAN: "TEST-MD-0001",
    Role.RADIOLOGIST: "TEST-RAD-0002",
    Role.NURSE: "TEST-RN-0003",
}


@dataclass
class World:
    home: Site
    other: Site
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def actor(self, role: str) -> Actor:
        return accounts.actor_for(self.users[role], ip="127.0.0.1", request_id="test", via="test")

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_world(session: Session) -> World:
    home = Site(code="IST", name="Istanbul test centre", country="TR")
    other = Site(code="ANK", name="Ankara test centre", country="TR")
    session.add_all([home, other])
    session.flush()
    world = World(home, other)
    for role in Role:
        sites = [] if role in {Role.RECEIVING_AUTHORITY, Role.ADMIN, Role.AUDITOR} else ["IST"]
        user = accounts.create_user(
            session,
            SYSTEM,
            username=f"t_{role.value}",
            full_name=f"Test {role.value}",
            password=PASSWORD,
            roles=[role],
            site_codes=sites,
            destination="US" if role == Role.RECEIVING_AUTHORITY else None,
            registration_number=REGISTRATION.get(role),
        )
        world.users[role.value] = user
        world.tokens[role.value] = accounts.create_token(session, SYSTEM, user, "tests")
    foreign = accounts.create_user(
        session,
        SYSTEM,
        username="t_foreign_physician",
        full_name="Test foreign physician",
        password=PASSWORD,
        roles=[Role.PANEL_PHYSICIAN],
        site_codes=["ANK"],
        registration_number="TEST-MD-9999",
    )
    world.users["foreign"] = foreign
    world.tokens["foreign"] = accounts.create_token(session, SYSTEM, foreign, "tests")
    return world


def applicant_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "family_name": "Haddad",
        "given_names": "Omar",
        "family_name_original": "حداد",
        "given_names_original": "عمر",
        "dob": "1985-03-14",
        "sex": "male",
        "nationality": "SY",
        "relationship": "principal",
    }
    data.update(overrides)
    return data


def case_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "destination": "US",
        "programme": "refugee",
        "planned_departure": (date.today() + timedelta(days=90)).isoformat(),
        "principal": applicant_data(),
    }
    data.update(overrides)
    return data


def loaded(schema_cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    return schema_cls().load(data)  # type: ignore[no-any-return]


def make_case(session: Session, actor: Actor, **overrides: Any) -> FamilyCase:
    from pmha.cases.schemas import CaseIn

    return cases.register_case(session, actor, loaded(CaseIn, case_data(**overrides)))


def dob(value: str) -> date:
    return date.fromisoformat(value)
