"""Demo departures: one US flight from IST in two days carrying a family in every state the
board shows (ready, PEC due, exam pending, expiring before the flight, unfit at the PEC with its
certificate revoked, stretcher with a medical escort whose MEDIF is pending, held by the family
rule), and a Canadian flight whose travellers have bilingual certificates. Synthetic data."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, has_app_context
from sqlalchemy.orm import Session

from pmha import demo_records
from pmha.accounts.signatures import Signature
from pmha.cases import service as cases
from pmha.cases.schemas import ApplicantIn, CaseIn
from pmha.core.auth import Actor, Role
from pmha.rules import RuleBook, add_months
from pmha.rules import vocabulary as vocab
from pmha.travel import certificates, checks, departures
from pmha.travel.commands import NewCheck, NewDeparture, SetEscort
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.facts import NOTHING_FOUND
from pmha.workflow.models import StepState
from pmha.workflow.roles import group_of

ROLE = {"radiology": Role.RADIOLOGIST, "lab": Role.LAB_TECHNICIAN, "nurse": Role.NURSE}
# The families of the US flight, one per state, in the order they are booked.
STATES = ("ready", "pec_due", "exam_pending", "expires", "unfit", "escort", "family_hold")


@contextmanager
def _app(rules: RuleBook) -> Iterator[None]:
    """The travel verbs read the rules from the running app; `pmha demo seed` has none."""
    if has_app_context():
        yield
        return
    from pmha.config import Config

    app = Flask("pmha-demo")
    app.extensions["pmha.rules"] = rules
    app.extensions["pmha.config"] = Config.from_env()
    with app.app_context():
        yield


def complete_exam(
    session: Session,
    clinic: dict[Role, Actor],
    rules: RuleBook,
    applicant_id: Any,
    day: date,
    make: demo_records.Maker | None = None,
) -> None:
    """Facts and a reassuring result for every open required step (synthetic)."""
    found = workflow.set_facts(
        session,
        clinic[Role.PANEL_PHYSICIAN],
        rules,
        applicant_id,
        FactsUpdate(pregnant=False, exam_date=day, **NOTHING_FOUND),
    )
    while True:
        todo = [
            s
            for s in found.steps
            if s.state == StepState.PENDING
            and s.planned_status == "required"
            and group_of(s.code) != "travel"
        ]
        if not todo:
            return
        code = todo[0].code
        found = demo_records.settle(
            session, clinic, rules, applicant_id, code, vocab.reassuring(code), day, make
        )


def seed(
    session: Session,
    clinic: dict[Role, Actor],
    operations: Actor,
    rules: RuleBook,
    rng: random.Random,
    today: date,
    family: Callable[[random.Random, date], tuple[dict[str, Any], list[dict[str, Any]]]],
    make: demo_records.Maker | None = None,
    issuer: Signature | None = None,
) -> None:
    """The demo departures (see the module docstring). `family` is pmha.demo.synthetic_family;
    `make` makes the records (signed sections, read X-rays) behind the exam's results; `issuer`
    signs the certificates (the demo physician's, as the seed signs without a password)."""
    physician = clinic[Role.PANEL_PHYSICIAN]
    with _app(rules):
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        us = departures.create_departure(
            session,
            operations,
            NewDeparture(
                carrier="TK",
                flight_number="1",
                departs_at=now + timedelta(hours=50),
                route="IST-ORD",
                destination="US",
                site_id=_ist(operations, session),
            ),
        )
        for state in STATES:
            case_data, members = family(rng, today)
            case_data.update(destination="US", programme="refugee", site_code="IST")
            if state != "family_hold":
                members = members[:1]
            case = cases.register_case(session, operations, CaseIn().load(case_data))
            for member in members:
                cases.add_applicant(session, operations, case.id, ApplicantIn().load(member))
            session.flush()
            session.expire_all()
            departures.book_case(session, operations, us.id, case.id)
            _make(
                session, clinic, physician, operations, rules, state, case, today, now, make, issuer
            )
        ca = departures.create_departure(
            session,
            operations,
            NewDeparture(
                carrier="TK",
                flight_number="17",
                departs_at=now + timedelta(days=9),
                route="IST-YYZ",
                destination="CA",
                site_id=_ist(operations, session),
            ),
        )
        case_data, members = family(rng, today)
        case_data.update(destination="CA", programme="immigrant", site_code="IST")
        case = cases.register_case(session, operations, CaseIn().load(case_data))
        session.flush()
        session.expire_all()
        departures.book_case(session, operations, ca.id, case.id)
        for a in case.applicants:
            complete_exam(session, clinic, rules, a.id, today, make)
        certificates.issue_case_certificates(session, operations, case.id, issuer)


def _ist(actor: Actor, session: Session) -> Any:
    from sqlalchemy import select

    from pmha.cases.models import Site

    return session.scalar(select(Site.id).where(Site.code == "IST"))


def _make(
    session: Session,
    clinic: dict[Role, Actor],
    physician: Actor,
    operations: Actor,
    rules: RuleBook,
    state: str,
    case: Any,
    today: date,
    now: datetime,
    make: demo_records.Maker | None = None,
    issuer: Signature | None = None,
) -> None:
    people = list(case.applicants)
    principal = people[0]
    if state == "exam_pending":
        return
    day = add_months(today, -6) + timedelta(days=1) if state == "expires" else today
    for a in people if state != "family_hold" else people[:1]:
        complete_exam(session, clinic, rules, a.id, day, make)
    pec: dict[str, Any] = {
        "kind": "pec",
        "checked_at": now - timedelta(minutes=30),
        "temperature_c": 36.7,
        "pulse": 78,
        "spo2": 98,
    }
    if state == "ready":
        for a in people:
            checks.record_check(session, physician, a.id, NewCheck(**pec))
        certificates.issue_case_certificates(session, operations, case.id, issuer)
    elif state == "unfit":
        certificates.issue_certificate(session, operations, principal.id, issuer)
        checks.record_check(
            session,
            physician,
            principal.id,
            NewCheck(**{**pec, "temperature_c": 38.9, "symptoms": ["fever", "rash"]}),
        )
    elif state == "escort":
        checks.record_check(
            session, physician, principal.id, NewCheck(**{**pec, "mobility": "stretcher"})
        )
        checks.set_escort(
            session,
            operations,
            principal.id,
            SetEscort(
                escort_type="nurse",
                medif_status="sent",
                plan="Nurse escort IST-ORD",
                equipment=["stretcher", "oxygen concentrator"],
                handover_note="Ambulance booked at ORD arrivals",
            ),
        )
