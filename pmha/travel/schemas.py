"""What the travel API and pages accept (StrictSchema: unknown fields and control characters
are refused) and what they return."""

from __future__ import annotations

from marshmallow import fields, validate

from pmha.core.schemas import CommandSchema, StrictSchema, date_in_range, strict_integer
from pmha.travel.commands import FollowUpDone, NewCheck, NewDeparture, NewTreatment, SetEscort
from pmha.travel.models import CheckKind, EscortType, Fitness, MedifStatus, Mobility
from pmha.travel.policy import COMMUNICABLE, MENTAL_STATES

DESTINATIONS = ["US", "CA", "AU", "NZ", "GB"]


class DepartureIn(CommandSchema):
    command = NewDeparture
    carrier = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Z0-9]{2}$", error="A 2-letter IATA code.")
    )
    flight_number = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9]{1,4}[A-Z]?$", error="Digits, e.g. 1.")
    )
    departs_at = fields.AwareDateTime(
        required=True, metadata={"description": "date and time with its UTC offset"}
    )
    route = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Z]{3}(-[A-Z]{3}){1,5}$", error="Airports, e.g. IST-FRA-ORD."
        ),
    )
    destination = fields.String(required=True, validate=validate.OneOf(DESTINATIONS))
    site_id = fields.UUID()


class BookingIn(StrictSchema):
    case_id = fields.UUID(required=True)


class CheckIn(CommandSchema):
    command = NewCheck
    kind = fields.Enum(CheckKind, by_value=True, required=True)
    checked_at = fields.AwareDateTime(required=True)
    temperature_c = fields.Float(validate=validate.Range(min=30, max=45))
    pulse = strict_integer(validate=validate.Range(min=20, max=250))
    systolic = strict_integer(validate=validate.Range(min=50, max=260))
    diastolic = strict_integer(validate=validate.Range(min=20, max=160))
    spo2 = strict_integer(validate=validate.Range(min=50, max=100))
    symptoms = fields.List(
        fields.String(validate=validate.OneOf(list(COMMUNICABLE))), load_default=list
    )
    pregnancy_weeks = strict_integer(validate=validate.Range(min=1, max=44))
    pregnancy_multiple = fields.Boolean(load_default=False)
    mobility = fields.String(
        load_default="none", validate=validate.OneOf([m.value for m in Mobility])
    )
    oxygen = fields.Boolean(load_default=False)
    mental_state = fields.String(
        load_default="stable", validate=validate.OneOf(list(MENTAL_STATES))
    )
    journey_medications = fields.String(validate=validate.Length(max=500))
    outcome = fields.String(validate=validate.OneOf([f.value for f in Fitness]))
    override_reason = fields.String(validate=validate.Length(max=300))


class EscortIn(CommandSchema):
    command = SetEscort
    escort_type = fields.String(
        required=True, validate=validate.OneOf([e.value for e in EscortType])
    )
    medif_status = fields.String(
        load_default="not_needed", validate=validate.OneOf([m.value for m in MedifStatus])
    )
    plan = fields.String(validate=validate.Length(max=1000))
    equipment = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)), load_default=list
    )
    handover_note = fields.String(validate=validate.Length(max=500))
    version = strict_integer()


class TreatmentIn(CommandSchema):
    command = NewTreatment
    drug = fields.String(required=True, validate=validate.Length(min=1, max=80))
    dose = fields.String(required=True, validate=validate.Length(min=1, max=80))
    given_on = fields.Date(required=True, validate=date_in_range)


class FollowUpDoneIn(CommandSchema):
    command = FollowUpDone
    completed_on = fields.Date(required=True, validate=date_in_range)
    note = fields.String(validate=validate.Length(max=500))


class VerifyIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=4, max=4000))


class DepartureOut(StrictSchema):
    id = fields.UUID()
    carrier = fields.String()
    flight_number = fields.String()
    departs_at = fields.DateTime()
    route = fields.String()
    destination = fields.String()
    version = fields.Integer()


class TravellerOut(StrictSchema):
    applicant_id = fields.UUID()
    case_id = fields.UUID()
    case_number = fields.String()
    name = fields.String()
    status = fields.String()
    medical_status = fields.String()
    blockers = fields.List(fields.Dict())
    due = fields.List(fields.String())
    fitness = fields.String(allow_none=True)
    escort = fields.Dict(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    ready = fields.Boolean()
    certificate = fields.String(allow_none=True)


class DepartureBoardOut(StrictSchema):
    departure = fields.Nested(DepartureOut)
    travellers = fields.List(fields.Nested(TravellerOut))
    ready = fields.Integer()
    total = fields.Integer()


class CheckOut(StrictSchema):
    id = fields.UUID()
    kind = fields.String()
    checked_at = fields.DateTime()
    suggested = fields.String()
    reasons = fields.List(fields.String())
    outcome = fields.String()
    in_window = fields.Boolean()


class CertificateOut(StrictSchema):
    code = fields.String()
    valid_until = fields.Date()
    revoked = fields.Boolean()
    statement = fields.Dict()
    token = fields.String()


class VerificationOut(StrictSchema):
    status = fields.String()
    statement = fields.Dict(allow_none=True)
    revoked_on = fields.Date(allow_none=True)
    message = fields.String(metadata={"description": "Why the code does not verify, in words"})
    kid = fields.String(metadata={"description": "The signing key's id, as the key list has it"})
