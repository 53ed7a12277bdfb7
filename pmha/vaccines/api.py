"""JSON API for vaccination records, vaccine stock and lot recalls."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request
from sqlalchemy.orm import Session

from pmha.codes import CVX
from pmha.core.auth import Actor
from pmha.core.context import rulebook
from pmha.core.endpoint import Api
from pmha.core.http import load_json
from pmha.vaccines import observations, records, review, stock
from pmha.vaccines.commands import NewLot, NewObservation, NewVaccination
from pmha.vaccines.models import VaccinationRecord, VaccineLot, VaccineObservation
from pmha.vaccines.schemas import (
    CorrectionIn,
    LotIn,
    LotOut,
    LotsOut,
    ObservationIn,
    ObservationOut,
    ObservationRemoveIn,
    ObservationsOut,
    RecallOut,
    ReviewOut,
    VaccinationIn,
    VaccinationOut,
    VaccinationReviewIn,
    VaccinationsOut,
)

bp = Blueprint("vaccines_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="vaccines")
on_applicant = api.under("/applicants/<uuid:applicant_id>")

_RECORD_FIELDS = [
    name for name in VaccinationOut().fields if name not in {"kind", "vaccine", "date", "id"}
]


def _record(r: VaccinationRecord) -> dict[str, Any]:
    data = {name: getattr(r, name) for name in _RECORD_FIELDS}
    data.update(
        id=r.id,
        kind=r.kind.value,
        vaccine=CVX.get(r.cvx, ""),
        date=r.occurred_on,
        immunity_evidence=r.immunity_evidence.value if r.immunity_evidence else None,
    )
    out: dict[str, Any] = VaccinationOut().dump(data)
    return out


def _lot(lot: VaccineLot) -> dict[str, Any]:
    out: dict[str, Any] = LotOut().dump(lot)
    return out


@on_applicant.get("/vaccinations", "vaccines:read", response=VaccinationsOut)
def list_vaccinations(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The applicant's vaccination records, corrections included"""
    found = records.records(db, me, applicant_id)
    return {"records": [_record(r) for r in found]}


@on_applicant.create("/vaccinations", "vaccines:write", body=VaccinationIn, response=VaccinationOut)
def record_vaccination(
    db: Session, me: Actor, body: NewVaccination, applicant_id: uuid.UUID
) -> Any:
    """Record a dose given here (from a lot in stock), a historical or sub-potent dose, a refusal
    or evidence of immunity; a check that fails (unknown CVX/MVX, expired or exhausted lot,
    future date, same vaccine twice a day, a live vaccine's screening question
    (immunosuppressed, pregnant) unanswered, live vaccine in pregnancy or immunosuppression,
    live-vaccine spacing, TB test, departure) is a 422 naming the field"""
    made = records.record_vaccination(db, me, applicant_id, body)
    return _record(made)


@api.post(
    "/vaccinations/<uuid:record_id>/correction",
    "vaccines:write",
    body=CorrectionIn,
    response=VaccinationOut,
)
def correct_vaccination(db: Session, me: Actor, body: dict[str, Any], record_id: uuid.UUID) -> Any:
    """Mark an erroneous vaccination record deleted, with the reason (it is never erased)"""
    fixed = records.correct(db, me, record_id, body["reason"], body["version"])
    return _record(fixed)


def _observation(o: VaccineObservation) -> dict[str, Any]:
    out: dict[str, Any] = ObservationOut().dump(
        {
            "id": o.id,
            "applicant_id": o.applicant_id,
            "code": o.code,
            "title": observations.title(o.code),
            "begin": o.begin,
            "end": o.end,
            "recorded_at": o.recorded_at,
            "deleted_at": o.deleted_at,
            "deleted_reason": o.deleted_reason,
        }
    )
    return out


@on_applicant.get("/vaccine-observations", "vaccines:read", response=ObservationsOut)
def list_observations(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The applicant's conditions that change the vaccine schedule (CDSi observations with their
    dates), removed ones included"""
    found = observations.observations(db, me, applicant_id, removed=True)
    return {"observations": [_observation(o) for o in found]}


@on_applicant.create(
    "/vaccine-observations", "vaccines:write", body=ObservationIn, response=ObservationOut
)
def add_observation(db: Session, me: Actor, body: NewObservation, applicant_id: uuid.UUID) -> Any:
    """Record a condition that changes the vaccine schedule (a CDSi observation code, from and
    until dates, both optional); the forecast reads it. An unknown code, pregnancy or evidence
    of immunity (recorded elsewhere), a begin before birth or in the future, an end before the
    begin is a 422 naming the field"""
    made = observations.add(db, me, applicant_id, body)
    return _observation(made)


@api.post(
    "/vaccine-observations/<uuid:observation_id>/remove",
    "vaccines:write",
    body=ObservationRemoveIn,
    response=ObservationOut,
)
def remove_observation(
    db: Session, me: Actor, body: dict[str, Any], observation_id: uuid.UUID
) -> Any:
    """Remove a condition recorded in error or no longer true, with the reason (it stays on file)"""
    gone = observations.remove(db, me, observation_id, body["reason"])
    return _observation(gone)


@api.get("/vaccine-lots", "vaccines:read", response=LotsOut)
def list_lots(db: Session, me: Actor) -> Any:
    """The vaccine lots of your sites"""
    return {"lots": [_lot(lot) for lot in stock.lots(db, me)]}


@api.create("/vaccine-lots", "vaccines:write", body=LotIn, response=LotOut, also=(409,))
def receive_lot(db: Session, me: Actor, body: NewLot) -> Any:
    """Receive a lot into a site's stock; an unknown CVX/MVX is a 422, a lot already held a 409"""
    return _lot(stock.receive_lot(db, me, body))


@api.get("/vaccine-lots/<uuid:lot_id>/recall", "vaccines:read", response=RecallOut)
def lot_recall(db: Session, me: Actor, lot_id: uuid.UUID) -> Any:
    """Every applicant of your sites who received a dose from this lot"""
    session = db
    found = stock.recall(session, me, lot_id)
    lot = session.get(VaccineLot, lot_id)
    assert lot is not None
    return {
        "lot": _lot(lot),
        "applicants": [
            {
                "applicant_id": str(a.id),
                "case_id": str(a.case_id),
                "family_name": a.family_name,
                "given_names": a.given_names,
            }
            for a in found
        ],
    }


@on_applicant.create(
    "/vaccination-review",
    "vaccines:write",
    body=VaccinationReviewIn,
    response=ReviewOut,
    also=(403, 409),
)
def complete_review(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """Complete the applicant's vaccination review once every required vaccine is given,
    documented, immune or waived; it settles the plan's vaccination_review step and records the
    vaccination outcome. A vaccine still open (to give, due, waiting for a fact) is a 409 naming
    it; so is a refusal until a panel physician confirms it (`confirm_refusal`), which records
    the destination's outcome (US: Class A, which holds travel), or records the individual
    waiver for the refused vaccines (`individual_waivers`). The body is optional"""
    data = (
        load_json(VaccinationReviewIn())
        if request.get_data(cache=True)
        else VaccinationReviewIn().load({})
    )
    done = review.complete_review(
        db,
        me,
        rulebook(),
        applicant_id,
        confirm_refusal=data["confirm_refusal"],
        individual_waivers=data["individual_waivers"],
    )
    return ReviewOut().dump(done)
