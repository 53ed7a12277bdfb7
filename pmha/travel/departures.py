"""Departure verbs: create a flight, book families on it, and the departure board.

The rule book and the travel rules come from the running app (pmha.travel.context), so that the
verbs other domains call (exports) need only the session, the actor and ids.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.commands import CaseChanges
from pmha.cases.models import Applicant, FamilyCase
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.travel import context
from pmha.travel.commands import NewDeparture
from pmha.travel.models import Booking, Certificate, Departure, Escort, FitnessCheck
from pmha.travel.status import (
    CaseReadiness,
    CheckView,
    EscortView,
    Traveller,
    case_readiness,
    traveller,
)
from pmha.workflow import clearance as cl
from pmha.workflow import lists
from pmha.workflow import service as workflow

NOT_FOUND = "travel.departure_not_found"


def load_departure(session: Session, actor: Actor, departure_id: uuid.UUID) -> Departure:
    """A departure at one of the actor's sites (another site's is a 404); the caller audits."""
    found = session.get(Departure, departure_id)
    if found is None or found.site_id not in actor.site_ids:
        raise NotFound("No such departure.", code=NOT_FOUND)
    return found


def _site_id(actor: Actor, site_id: uuid.UUID | None) -> uuid.UUID:
    if site_id is None:
        if len(actor.site_ids) == 1:
            return next(iter(actor.site_ids))
        raise ValidationFailed(errors={"site_id": ["Choose the site: you work at several."]})
    if site_id not in actor.site_ids:
        raise ValidationFailed(errors={"site_id": ["Not one of your sites."]})
    return site_id


def create_departure(session: Session, actor: Actor, data: NewDeparture) -> Departure:
    """A flight or movement to a destination, on a carrier whose rules the destination lists."""
    actor.check("travel:write")
    errors: dict[str, list[str]] = {}
    departs_at: datetime = data.departs_at
    if departs_at <= utcnow():
        errors["departs_at"] = ["The departure is in the past."]
    destination = data.destination
    if destination not in context.rulebook().rulesets:
        errors["destination"] = [f"No rule file for {destination}."]
    elif context.policy(destination).carrier(data.carrier) is None:
        errors["carrier"] = [
            f"No carrier rule for {data.carrier} in the {destination} rule file "
            "(country_rules/, [[travel.carrier]])."
        ]
    if errors:
        raise ValidationFailed(errors=errors)
    departure = Departure(
        site_id=_site_id(actor, data.site_id),
        carrier=data.carrier,
        flight_number=data.flight_number,
        departs_at=departs_at,
        route=data.route,
        destination=destination,
        created_by=actor.user_id,
    )
    session.add(departure)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "departure",
        departure.id,
        site_id=departure.site_id,
        after={"carrier": departure.carrier, "departs_at": departs_at.isoformat()},
    )
    return departure


def list_departures(session: Session, actor: Actor, *, upcoming: bool = True) -> list[Any]:
    """Departures at the actor's sites with how many families each carries, soonest first."""
    query = (
        select(Departure, func.count(Booking.id))
        .outerjoin(Booking, Booking.departure_id == Departure.id)
        .where(Departure.site_id.in_(actor.site_ids))
        .group_by(Departure.id)
        .order_by(Departure.departs_at)
    )
    if upcoming:
        query = query.where(Departure.departs_at > utcnow())
    return [(d, n) for d, n in session.execute(query)]


def book_case(
    session: Session, actor: Actor, departure_id: uuid.UUID, case_id: uuid.UUID
) -> Departure:
    """Put a family on a departure; its planned departure follows and its plans are re-made."""
    actor.check("travel:write")
    departure = load_departure(session, actor, departure_id)
    case = cases.load_case(session, actor, case_id)
    if case.destination.value != departure.destination:
        raise ValidationFailed(
            errors={"case_id": [f"The case goes to {case.destination.value}, not here."]}
        )
    booked = session.scalar(select(Booking).where(Booking.case_id == case.id))
    if booked is not None:
        if booked.departure_id == departure.id:
            return departure
        raise Conflict("The case is booked on another departure.", code="travel.case_booked")
    session.add(Booking(departure_id=departure.id, case_id=case.id, added_by=actor.user_id))
    day = departure.departs_at.date()
    if case.planned_departure != day:
        cases.update_case(
            session, actor, case.id, CaseChanges(version=case.version, planned_departure=day)
        )
    rules = context.rulebook()
    for member in case.applicants:
        workflow.replan(session, actor, rules, member, "departure")
    session.flush()
    audit.record(
        session,
        actor,
        "book",
        "departure",
        departure.id,
        site_id=departure.site_id,
        details={"case": str(case.id)},
    )
    session.expire(departure, ["bookings"])
    return departure


def booking_of(session: Session, case_id: uuid.UUID) -> Departure | None:
    """The departure a case is booked on (the caller has checked the case's site)."""
    return session.scalar(select(Departure).join(Booking).where(Booking.case_id == case_id))


# --- the board -----------------------------------------------------------------------------------


# What the board reads of each kept plan (pmha.travel.status): the checks the plan requires and
# the exam's validity.
PLAN_PARTS = ("requirements", "outcomes")


@dataclass
class CaseRow:
    case: FamilyCase
    travellers: list[tuple[Applicant, Traveller]]
    readiness: CaseReadiness
    certificates: dict[uuid.UUID, Certificate]


@dataclass
class Board:
    departure: Departure
    rows: list[CaseRow]

    @property
    def travellers(self) -> int:
        return sum(len(r.travellers) for r in self.rows)

    @property
    def ready(self) -> int:
        return sum(len(r.readiness.ready) for r in self.rows)

    def counts(self) -> Counter[str]:
        return Counter(t.decision.status for r in self.rows for _, t in r.travellers)


def _latest_checks(
    session: Session, departure: Departure, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, CheckView]]:
    out: dict[uuid.UUID, dict[str, CheckView]] = {i: {} for i in ids}
    rows = session.scalars(
        select(FitnessCheck)
        .where(FitnessCheck.departure_id == departure.id, FitnessCheck.applicant_id.in_(ids))
        .order_by(FitnessCheck.checked_at, FitnessCheck.recorded_at)
    )
    for row in rows:
        if row.in_window:
            out[row.applicant_id][row.kind.value] = CheckView(
                row.kind.value, row.checked_at, row.outcome.value, row.in_window
            )
    return out


def build_board(session: Session, actor: Actor, departure: Departure) -> Board:
    """Every traveller on the departure with the flight's decision (a fixed number of queries)."""
    policy = context.policy(departure.destination)
    rules = context.rulebook()
    family = "all_travellers"
    with contextlib.suppress(KeyError):
        family = rules.for_destination(departure.destination).clearance.family
    case_ids = [b.case_id for b in departure.bookings]
    found = cases.load_cases(session, actor, case_ids)
    ids = [a.id for c in found for a in c.applicants]
    plans = lists.kept_plans(session, ids, parts=PLAN_PARTS)
    checks = _latest_checks(session, departure, ids) if ids else {}
    escorts = {
        e.applicant_id: EscortView(e.escort_type.value, e.medif_status.value)
        for e in session.scalars(select(Escort).where(Escort.departure_id == departure.id))
    }
    certificates = {
        c.applicant_id: c
        for c in session.scalars(
            select(Certificate)
            .where(Certificate.departure_id == departure.id)
            .order_by(Certificate.issued_at)
        )
    }
    now = utcnow()
    rows: list[CaseRow] = []
    for case in found:
        members: list[tuple[Applicant, Traveller]] = []
        for a in case.applicants:
            # Dropped once read: a full board's plan bodies (~7 KB of JSON each) need not all
            # stay alive until the page is rendered.
            kept = plans.pop(a.id, None)
            medical = (
                kept.decision
                if kept is not None
                else cl.Decision(cl.PENDING, (cl.Blocker("plan", "plan", "not planned yet"),))
            )
            plan = kept.plan if kept is not None else None
            members.append(
                (
                    a,
                    traveller(
                        a.id,
                        medical,
                        plan,
                        departure.departs_at,
                        policy,
                        checks.get(a.id, {}),
                        escorts.get(a.id),
                        now,
                    ),
                )
            )
        readiness = case_readiness([t for _, t in members], family)
        mine = {a.id: certificates[a.id] for a, _ in members if a.id in certificates}
        rows.append(CaseRow(case, members, readiness, mine))
    return Board(departure, rows)


def board(session: Session, actor: Actor, departure_id: uuid.UUID) -> Board:
    """The departure board: each traveller's clearance, blockers and due checks (audited)."""
    actor.check("clearance:read")
    departure = load_departure(session, actor, departure_id)
    found = build_board(session, actor, departure)
    audit.record(
        session,
        actor,
        "read",
        "departure_board",
        departure.id,
        site_id=departure.site_id,
        details={"travellers": found.travellers},
    )
    return found


def traveller_on_board(
    session: Session, actor: Actor, applicant_id: uuid.UUID
) -> tuple[Departure, CaseRow, Applicant, Traveller]:
    """The departure an applicant is booked on and their row on its board."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    departure = booking_of(session, applicant.case_id)
    if departure is None:
        raise Conflict("The traveller is not booked on a departure.", code="travel.not_booked")
    found = build_board(session, actor, departure)
    for row in found.rows:
        for a, t in row.travellers:
            if a.id == applicant.id:
                return departure, row, a, t
    raise NotFound("No such applicant.", code="applicants.not_found")  # pragma: no cover
