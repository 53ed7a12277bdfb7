"""JSON API for TB classification, treatment episodes, DOT doses and sputum checks."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from marshmallow import fields, post_load, validate
from sqlalchemy.orm import Session

from pmha.accounts.web_auth import confirm_signature
from pmha.core.auth import Actor
from pmha.core.context import rulebook
from pmha.core.endpoint import Api
from pmha.core.schemas import (
    CommandSchema,
    StrictSchema,
    date_in_range,
    password_again,
    strict_integer,
)
from pmha.tb_dot import adherence, classify, regimens, service, summary
from pmha.tb_dot.commands import CloseEpisode, NewDose, NewSputum, PhaseSpec, StartEpisode
from pmha.tb_dot.context import catalogue

bp = Blueprint("tb_dot_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="tb_dot")
on_applicant = api.under("/applicants/<uuid:applicant_id>")
on_tb_episode = api.under("/tb-episodes/<uuid:episode_id>")
RESULT = validate.OneOf(["positive", "negative", "inconclusive"])


class PhaseIn(CommandSchema):
    command = PhaseSpec
    name = fields.String(required=True, validate=validate.OneOf(["intensive", "continuation"]))
    drugs = fields.String(required=True, validate=validate.Length(min=1, max=40))
    doses = strict_integer(required=True, validate=validate.Range(min=1, max=1000))


class EpisodeIn(CommandSchema):
    command = StartEpisode
    diagnosed_on = fields.Date(required=True, validate=date_in_range)
    site = fields.String(required=True, validate=validate.OneOf(regimens.SITES))
    susceptibility = fields.String(required=True, validate=validate.OneOf(regimens.SUSCEPTIBILITY))
    resistance = fields.String(validate=validate.Length(max=200))
    cavitation = fields.Boolean(load_default=False)
    weight_kg = fields.Float(validate=validate.Range(min=1, max=300))
    regimen = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "a code of the destination's catalogue, or `custom`"},
    )
    phases = fields.List(fields.Nested(PhaseIn), validate=validate.Length(min=1, max=2))
    start_date = fields.Date(required=True, validate=date_in_range)
    dot_site = fields.String(load_default="centre", validate=validate.OneOf(["centre", "referral"]))
    referral_centre = fields.String(validate=validate.Length(min=1, max=200))

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> StartEpisode:
        return StartEpisode(**{**data, "phases": tuple(data.get("phases", ()))})


class DoseIn(CommandSchema):
    command = NewDose
    date = fields.Date(required=True, validate=date_in_range)
    status = fields.String(required=True, validate=validate.OneOf(adherence.STATUSES))
    description = fields.String(validate=validate.Length(max=500))


class SputumIn(CommandSchema):
    command = NewSputum
    collected_on = fields.Date(required=True, validate=date_in_range)
    smear = fields.String(validate=RESULT)
    culture = fields.String(validate=RESULT)


class CloseIn(CommandSchema):
    command = CloseEpisode
    outcome = fields.String(required=True, validate=validate.OneOf(adherence.OUTCOMES))
    note = fields.String(validate=validate.Length(max=500))
    version = strict_integer(required=True)


class ConfirmIn(StrictSchema):
    note = fields.String(validate=validate.Length(max=500))
    password = password_again("physician")


class TreatmentOut(StrictSchema):
    episode = fields.Dict()
    adherence = fields.Dict()


class SummaryOut(StrictSchema):
    applicant_id = fields.String()
    classification = fields.Dict()
    episode = fields.Dict(allow_none=True)
    adherence = fields.Dict(allow_none=True)
    outcome = fields.Dict(allow_none=True)


class DoseOut(StrictSchema):
    id = fields.UUID()
    date = fields.Date()
    status = fields.String()


class ListOut(StrictSchema):
    patients = fields.List(fields.Dict())


def _treatment(found: service.Treatment) -> dict[str, Any]:
    out: dict[str, Any] = TreatmentOut().dump(
        {"episode": summary.episode_dict(found), "adherence": found.progress.to_dict()}
    )
    return out


@on_applicant.get("/tb", "tb_dot:read", response=SummaryOut)
def read_tb(db: Session, me: Actor, applicant_id: uuid.UUID) -> Any:
    """The applicant's TB classification (per the destination's rules, with its trace), latest
    treatment episode, adherence and outcome"""
    found = summary.tb_summary(db, me, applicant_id, rulebook(), catalogue())
    return SummaryOut().dump(found)


@on_applicant.create("/tb/classification", "exams:sign", body=ConfirmIn, also=(409, 423))
def confirm_classification(
    db: Session, me: Actor, body: dict[str, Any], applicant_id: uuid.UUID
) -> Any:
    """Confirm the TB classification the rules derive now (kept with the rule version), with the
    physician's password"""
    signature = confirm_signature(body["password"], "exams:sign")
    found = classify.confirm(db, me, rulebook(), applicant_id, body.get("note"), signature)
    return found.to_dict()


@on_applicant.create(
    "/tb-episodes", "exams:sign", body=EpisodeIn, response=TreatmentOut, also=(409,)
)
def start_episode(db: Session, me: Actor, body: StartEpisode, applicant_id: uuid.UUID) -> Any:
    """Start TB treatment under DOT; a regimen the applicant is not eligible for is a 422"""
    found = service.start_episode(db, me, catalogue(), applicant_id, body)
    return _treatment(found)


@on_tb_episode.create("/doses", "tb_dot:write", body=DoseIn, response=DoseOut, also=(409,))
def record_dose(db: Session, me: Actor, body: NewDose, episode_id: uuid.UUID) -> Any:
    """Record one scheduled dose (observed, missed, self_administered, refused, adverse_event); a
    second entry for the same day is a 409, a date before the start or in the future a 422"""
    made = service.record_dose(db, me, catalogue(), episode_id, body)
    return DoseOut().dump({"id": made.id, "date": made.dose_date, "status": made.status.value})


@on_tb_episode.create("/sputum", "tb_dot:write", body=SputumIn, response=TreatmentOut, also=(409,))
def record_sputum(db: Session, me: Actor, body: NewSputum, episode_id: uuid.UUID) -> Any:
    """Record a monthly sputum check (smear and/or culture)"""
    found = service.record_sputum(db, me, catalogue(), episode_id, body)
    return _treatment(found)


@on_tb_episode.post("/close", "exams:sign", body=CloseIn, response=TreatmentOut)
def close_episode(db: Session, me: Actor, body: CloseEpisode, episode_id: uuid.UUID) -> Any:
    """Close the episode with its WHO outcome; the workflow re-plans (e.g. Class A -> B0). Closing
    as completed or cured with doses outstanding is a 422"""
    found, planned = service.close_episode(db, me, rulebook(), catalogue(), episode_id, body)
    out = _treatment(found)
    out["clearance"] = planned.decision.to_dict()
    return out


@api.get("/dot-list", "tb_dot:read", response=ListOut)
def dot_list(db: Session, me: Actor) -> Any:
    """Today's DOT list at the caller's sites"""
    rows = summary.dot_list(db, me, catalogue())
    return {
        "patients": [
            {
                "applicant_id": str(r.applicant.id),
                "episode_id": str(r.episode.id),
                "case_number": r.case_number,
                "regimen": r.episode.regimen_code,
                "phase": r.treatment.progress.current.name
                if r.treatment.progress.current
                else None,
                "doses_taken": r.treatment.progress.taken,
                "doses_total": r.treatment.progress.total,
                "today": r.today,
                "alerts": r.alerts,
            }
            for r in rows
        ]
    }


@api.get("/tb-programme", "tb_dot:read")
def programme(db: Session, me: Actor) -> Any:
    """Programme summary: patients on treatment, adherence, conversions, outcomes"""
    return summary.programme_summary(db, me, catalogue())
