"""Vaccine stock: lots received per site, one dose taken per administration, and lot recalls.

Taking a dose locks the lot row (SELECT ... FOR UPDATE; SQLite serialises writers with BEGIN
IMMEDIATE) before reading what is left, so two nurses giving the last dose cannot both succeed.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.codes import CVX, MVX, NO_VACCINE_ADMINISTERED
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.vaccines.commands import NewLot
from pmha.vaccines.models import VaccinationRecord, VaccineLot


def receive_lot(session: Session, actor: Actor, data: NewLot) -> VaccineLot:
    """Record a lot received at one of the actor's sites."""
    site = cases.site_for(session, actor, data.site_code, problem="vaccines.site_unknown")
    errors: dict[str, list[str]] = {}
    if data.cvx not in CVX or data.cvx in {NO_VACCINE_ADMINISTERED, "999"}:
        errors["cvx"] = ["Not a known CVX vaccine code."]
    if data.mvx not in MVX:
        errors["mvx"] = ["Not a known MVX manufacturer code."]
    if data.received_on > utcnow().date():
        errors["received_on"] = ["The lot cannot be received in the future."]
    if errors:
        raise ValidationFailed(errors=errors, code="vaccines.invalid_lot")
    existing = session.scalar(
        select(VaccineLot).where(
            VaccineLot.site_id == site.id,
            VaccineLot.cvx == data.cvx,
            VaccineLot.mvx == data.mvx,
            VaccineLot.lot == data.lot,
        )
    )
    if existing is not None:
        raise Conflict("This lot is already in the site's stock.", code="vaccines.lot_exists")
    lot = VaccineLot(
        site_id=site.id,
        cvx=data.cvx,
        mvx=data.mvx,
        lot=data.lot,
        expiry=data.expiry,
        quantity_received=data.quantity,
        quantity_left=data.quantity,
        received_on=data.received_on,
        received_by=actor.user_id,
    )
    session.add(lot)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "vaccine_lot",
        lot.id,
        site_id=site.id,
        details={"cvx": lot.cvx, "quantity": lot.quantity_received},
    )
    return lot


def lots(session: Session, actor: Actor) -> list[VaccineLot]:
    """The lots of the actor's sites, soonest expiry first (audited)."""
    found = list(
        session.scalars(
            select(VaccineLot)
            .where(VaccineLot.site_id.in_(actor.site_ids))
            .order_by(VaccineLot.expiry, VaccineLot.cvx, VaccineLot.lot)
        )
    )
    audit.record(session, actor, "read", "vaccine_lots", None, details={"count": len(found)})
    return found


def locked_lot(lot_id: uuid.UUID, site_id: uuid.UUID) -> Select[VaccineLot]:
    """The lot row, locked until the transaction ends, re-read rather than taken from cache."""
    return (
        select(VaccineLot)
        .where(VaccineLot.id == lot_id, VaccineLot.site_id == site_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def take_dose(session: Session, lot_id: uuid.UUID, site_id: uuid.UUID, day: date) -> VaccineLot:
    """Lock the lot, check it can be used on `day`, and take one dose from it."""
    lot = session.scalar(locked_lot(lot_id, site_id))
    if lot is None:
        raise ValidationFailed(
            errors={"lot_id": ["No such lot in this site's stock."]}, code="vaccines.lot_unknown"
        )
    if lot.expiry < day:
        raise ValidationFailed(
            errors={"lot_id": [f"Lot {lot.lot} expired on {lot.expiry.isoformat()}."]},
            code="vaccines.lot_expired",
        )
    if lot.quantity_left <= 0:
        raise ValidationFailed(
            errors={"lot_id": [f"Lot {lot.lot} has no doses left."]},
            code="vaccines.lot_exhausted",
        )
    lot.quantity_left -= 1
    session.flush()
    return lot


def recall(session: Session, actor: Actor, lot_id: uuid.UUID) -> list[Applicant]:
    """Every applicant (at the actor's sites) who received a dose from this lot (audited)."""
    lot = session.get(VaccineLot, lot_id)
    if lot is None or lot.site_id not in actor.site_ids:
        raise NotFound("No such vaccine lot.", code="vaccines.lot_not_found")
    given = session.scalars(
        select(VaccinationRecord.applicant_id)
        .where(VaccinationRecord.lot_id == lot.id, VaccinationRecord.deleted_at.is_(None))
        .distinct()
    )
    applicants = cases.load_applicants(session, actor, list(given))
    audit.record(
        session,
        actor,
        "read",
        "vaccine_recall",
        lot.id,
        site_id=lot.site_id,
        details={"applicants": len(applicants)},
    )
    return applicants
