"""Marshmallow schemas of the vaccination API: input is strict, output lists its fields."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields, validate

from pmha.codes import HL70162, HL70163
from pmha.core.schemas import (
    CommandSchema,
    StrictSchema,
    date_in_range,
    enum_field,
    reference,
    strict_integer,
)
from pmha.rules import vocabulary as vocab
from pmha.vaccines.commands import NewLot, NewObservation, NewVaccination
from pmha.vaccines.models import ImmunityEvidence, RecordKind

_CODE = validate.Regexp(r"^[0-9]{1,3}$", error="A CVX code is 1 to 3 digits.")
_MVX = validate.Regexp(r"^[A-Z]{2,3}$", error="An MVX code is 2 or 3 capital letters.")
_LOT = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$", error="Letters, digits, dashes (20).")
_REASON = validate.Length(min=3, max=300)


def _dose_amount(value: Decimal) -> None:
    if not Decimal("0.01") <= value <= Decimal("10"):
        raise ValidationError("Give the amount given, 0.01 to 10.")


class VaccinationIn(CommandSchema):
    command = NewVaccination
    kind = enum_field(RecordKind, required=True)
    cvx = fields.String(validate=_CODE)
    mvx = fields.String(validate=_MVX)
    given_at = fields.AwareDateTime(metadata={"description": "a dose given here: date and time"})
    date = fields.Date(validate=date_in_range, metadata={"description": "other kinds: the date"})
    lot_id = fields.UUID(metadata={"description": "a dose given here: the lot in stock"})
    lot = fields.String(validate=_LOT, metadata={"description": "historical: the lot, if known"})
    amount = fields.Decimal(
        places=2, validate=_dose_amount, as_string=True, metadata={"description": "0.01 to 10"}
    )
    unit = fields.String(validate=validate.OneOf(["mL"]))
    route = fields.String(validate=validate.OneOf(sorted(HL70162)))
    body_site = fields.String(validate=validate.OneOf(sorted(HL70163)))
    vis_published = fields.Date(validate=date_in_range)
    vis_given_on = fields.Date(validate=date_in_range)
    information_source = fields.String(validate=validate.Regexp(r"^0[0-8]$"))
    refusal_reason = fields.String(validate=validate.Regexp(r"^0[0-3]$"))
    immunity_evidence = enum_field(ImmunityEvidence)
    immunity_disease = fields.String(
        validate=validate.Regexp(r"^[0-9]{6,18}$", error="A SNOMED CT code (6 to 18 digits).")
    )
    pregnancy_override = fields.String(validate=_REASON)
    outbreak_override = fields.String(validate=_REASON)
    immunosuppressed = fields.Boolean(
        metadata={
            "description": "screening before a live vaccine, required for one (no default): "
            "immunosuppressed?"
        }
    )
    immunosuppression_override = fields.String(validate=_REASON)
    pregnant = fields.Boolean(
        metadata={
            "description": "screening before a live vaccine, required for one unless the "
            "applicant is male (no default): pregnant?"
        }
    )
    screening_note = fields.String(
        validate=_REASON,
        metadata={"description": "why the pregnancy answer differs from the clinical facts"},
    )


class VaccinationReviewIn(StrictSchema):
    """The panel physician confirms a refusal (the review then records the destination's
    outcome, e.g. Class A [S13f]) and may record the individual waiver for refused vaccines."""

    confirm_refusal = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    individual_waivers = fields.List(
        fields.String(validate=validate.OneOf(sorted(vocab.VACCINES))),
        load_default=list,
        validate=validate.Length(max=len(vocab.VACCINES)),
    )


class CorrectionIn(StrictSchema):
    reason = fields.String(required=True, validate=_REASON)
    version = strict_integer(required=True, validate=validate.Range(min=1))


class VaccinationOut(StrictSchema):
    id = fields.UUID()
    kind = fields.String()
    cvx = fields.String()
    vaccine = fields.String()
    date = fields.Date()
    given_at = fields.DateTime(allow_none=True)
    mvx = fields.String(allow_none=True)
    lot_id = fields.UUID(allow_none=True)
    lot = fields.String(allow_none=True)
    lot_expiry = fields.Date(allow_none=True)
    amount = fields.Decimal(allow_none=True, as_string=True)
    unit = fields.String(allow_none=True)
    route = fields.String(allow_none=True)
    body_site = fields.String(allow_none=True)
    vis_published = fields.Date(allow_none=True)
    vis_given_on = fields.Date(allow_none=True)
    administered_by = fields.UUID(allow_none=True)
    information_source = fields.String(allow_none=True)
    refusal_reason = fields.String(allow_none=True)
    immunity_evidence = fields.String(allow_none=True)
    immunity_disease = fields.String(allow_none=True)
    pregnancy_override = fields.String(allow_none=True)
    outbreak_override = fields.String(allow_none=True)
    immunosuppressed = fields.Boolean(allow_none=True)
    immunosuppression_override = fields.String(allow_none=True)
    pregnant = fields.Boolean(allow_none=True)
    screening_note = fields.String(allow_none=True)
    deleted_at = fields.DateTime(allow_none=True)
    deleted_reason = fields.String(allow_none=True)
    version = fields.Integer()


class VaccinationsOut(StrictSchema):
    records = fields.List(fields.Nested(VaccinationOut))


class LotIn(CommandSchema):
    command = NewLot
    site_code = fields.String(validate=reference, metadata={"description": "when at several"})
    cvx = fields.String(required=True, validate=_CODE)
    mvx = fields.String(required=True, validate=_MVX)
    lot = fields.String(required=True, validate=_LOT)
    expiry = fields.Date(required=True, validate=date_in_range)
    quantity = strict_integer(required=True, validate=validate.Range(min=1, max=100_000))
    received_on = fields.Date(required=True, validate=date_in_range)


class LotOut(StrictSchema):
    id = fields.UUID()
    site_id = fields.UUID()
    cvx = fields.String()
    mvx = fields.String()
    lot = fields.String()
    expiry = fields.Date()
    quantity_received = fields.Integer()
    quantity_left = fields.Integer()
    received_on = fields.Date()


class LotsOut(StrictSchema):
    lots = fields.List(fields.Nested(LotOut))


class RecalledOut(StrictSchema):
    applicant_id = fields.UUID()
    case_id = fields.UUID()
    family_name = fields.String()
    given_names = fields.String()


class RecallOut(StrictSchema):
    lot = fields.Nested(LotOut)
    applicants = fields.List(fields.Nested(RecalledOut))


class ReviewedOut(StrictSchema):
    vaccine = fields.String()
    status = fields.String()
    waiver = fields.String(allow_none=True)


class ReviewOut(StrictSchema):
    id = fields.UUID()
    applicant_id = fields.UUID()
    completed_at = fields.DateTime()
    rules_version = fields.String(allow_none=True)
    requirements = fields.List(fields.Nested(ReviewedOut))
    outcome = fields.String(allow_none=True)  # complete, class_a or refused (issue 15)
    individual_waivers = fields.List(fields.String(), allow_none=True)


class ObservationIn(CommandSchema):
    """A condition that changes the vaccine schedule (issue 16): a CDSi observation code of the
    supporting data (not 007 pregnant or evidence of immunity, recorded elsewhere)."""

    command = NewObservation

    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{3}$", error="Choose a condition from the list."),
        error_messages={"required": "Choose a condition from the list."},
        metadata={"description": "CDSi observation code, e.g. 004 stem-cell transplant"},
    )
    begin = fields.Date(
        allow_none=True,
        validate=date_in_range,
        metadata={"description": "the day it began (not after today); empty: not known"},
    )
    end = fields.Date(
        allow_none=True,
        validate=date_in_range,
        metadata={"description": "the day it ended, included; empty: it still holds"},
    )


class ObservationRemoveIn(StrictSchema):
    reason = fields.String(required=True, validate=_REASON)


class ObservationOut(StrictSchema):
    id = fields.UUID()
    applicant_id = fields.UUID()
    code = fields.String()
    title = fields.String()
    begin = fields.Date(allow_none=True)
    end = fields.Date(allow_none=True)
    recorded_at = fields.DateTime()
    deleted_at = fields.DateTime(allow_none=True)
    deleted_reason = fields.String(allow_none=True)


class ObservationsOut(StrictSchema):
    observations = fields.List(fields.Nested(ObservationOut))
