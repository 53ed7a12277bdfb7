"""What the bundles API takes and gives, field by field: the sending centre's jobs and bundles,
and the receiving authority's arrivals with each traveller's summary in words."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from pmha.core.schemas import StrictSchema
from pmha.exports.service import MANUAL_EVENTS
from pmha.workflow.labels import CLEARANCE, OUTCOMES, value_label

CLASSES = {"class_a": "Class A", "class_b": "Class B", "none": "No class"}  # exams' words


def classification_words(tag: str) -> str:
    """A manifest's `kind:value` classification in words ("TB class: Class B1 TB, pulmonary")."""
    kind, _, value = tag.partition(":")
    name = OUTCOMES.get(kind, "Mental health" if kind == "mental_health" else kind)
    return f"{name}: {CLASSES.get(value) or value_label(value)}"


def clearance_words(status: str) -> str:
    return str(CLEARANCE.get(status, (status, ""))[0])


class _DateRange(StrictSchema):
    date_from = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "Travel date on or after (the flight's, else the import's)."},
    )
    date_to = fields.Date(
        data_key="to", load_default=None, metadata={"description": "On or before."}
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError("The end of the range is before its start.", "to")


class ArrivalListArgs(_DateRange):
    pass


class ArrivalSearch(_DateRange):
    name = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of a traveller's name, or the case number."},
    )


class BundleEventIn(StrictSchema):
    event = fields.String(
        required=True,
        validate=validate.OneOf([e.value for e in MANUAL_EVENTS]),
        metadata={"description": "delivered (the centre) or acknowledged (centre or authority)"},
    )


class JobOut(Schema):
    id = fields.UUID()
    case_id = fields.UUID()
    state = fields.Function(lambda j: j.state.value, metadata={"enum": [
        "queued", "running", "done", "failed"]})  # fmt: skip
    step = fields.String()
    progress = fields.Integer(metadata={"description": "0 to 100"})
    attempts = fields.Integer()
    bundle_id = fields.UUID(allow_none=True)
    error_code = fields.String(allow_none=True)
    requested_at = fields.DateTime()
    updated_at = fields.DateTime()


class BundleEventOut(Schema):
    event = fields.Function(lambda e: e.event.value)
    at = fields.DateTime()
    actor = fields.String(attribute="actor_name")


class BundleOut(Schema):
    id = fields.UUID()
    case_id = fields.UUID()
    destination = fields.String()
    created_at = fields.DateTime()
    size_bytes = fields.Integer()
    files = fields.Integer()
    content_sha256 = fields.String()
    envelope_sha256 = fields.String()
    recipient_fingerprint = fields.String(
        metadata={"description": "SHA-256 of the authority certificate it is encrypted for"}
    )
    events = fields.List(fields.Nested(BundleEventOut))
    acknowledged = fields.Boolean()


def bundle_out(bundle: Any, events: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = BundleOut().dump(
        {
            **{k: getattr(bundle, k) for k in BundleOut._declared_fields if hasattr(bundle, k)},
            "events": events,
            "acknowledged": any(e.event.value == "acknowledged" for e in events),
        }
    )
    return found


class BundleList(Schema):
    items = fields.List(fields.Nested(BundleOut))


class CaseBundles(Schema):
    jobs = fields.List(fields.Nested(JobOut))
    bundles = fields.List(fields.Nested(BundleOut))


class ArrivalRow(Schema):
    traveller_id = fields.UUID()
    import_id = fields.UUID()
    family_name = fields.String()
    given_names = fields.String()
    birth_date = fields.Date()
    clearance = fields.String()
    clearance_text = fields.String()
    classifications = fields.List(fields.String(), metadata={"description": "in words"})
    follow_up = fields.List(fields.String())
    case_number = fields.String()
    sending_site = fields.String()
    flight = fields.String(allow_none=True)
    departs_at = fields.DateTime(allow_none=True)
    imported_at = fields.DateTime()


def arrival_row(b: Any, t: Any) -> dict[str, Any]:
    return {
        "traveller_id": t.id,
        "import_id": b.id,
        "family_name": t.family_name,
        "given_names": t.given_names,
        "birth_date": t.birth_date,
        "clearance": t.clearance,
        "clearance_text": clearance_words(t.clearance),
        "classifications": [classification_words(c) for c in t.classifications],
        "follow_up": list(t.follow_up),
        "case_number": b.case_number,
        "sending_site": b.sending_site,
        "flight": b.flight,
        "departs_at": b.departs_at,
        "imported_at": b.imported_at,
    }


class ArrivalList(Schema):
    items = fields.List(fields.Nested(ArrivalRow))


class ArrivalFile(Schema):
    index = fields.Integer()
    path = fields.String()
    media_type = fields.String()
    size = fields.Integer()


class ArrivalOut(Schema):
    id = fields.UUID()
    case_number = fields.String()
    sending_site = fields.String()
    signer_fingerprint = fields.String()
    signed_at = fields.DateTime()
    imported_at = fields.DateTime()
    flight = fields.String(allow_none=True)
    departs_at = fields.DateTime(allow_none=True)
    travellers = fields.List(fields.Nested(ArrivalRow))
    files = fields.List(fields.Nested(ArrivalFile))


def arrival_out(b: Any, travellers: list[Any]) -> dict[str, Any]:
    files = [
        {
            "index": i,
            "path": str(f.get("path", "")),
            "media_type": str(f.get("media_type", "")),
            "size": int(f.get("size", 0)),
        }
        for i, f in enumerate(b.manifest.get("files", []))
    ]
    found: dict[str, Any] = ArrivalOut().dump(
        {
            "id": b.id,
            "case_number": b.case_number,
            "sending_site": b.sending_site,
            "signer_fingerprint": b.signer_fingerprint,
            "signed_at": b.signed_at,
            "imported_at": b.imported_at,
            "flight": b.flight,
            "departs_at": b.departs_at,
            "travellers": [arrival_row(b, t) for t in travellers],
            "files": files,
        }
    )
    return found


class SummaryItem(Schema):
    resource_type = fields.String(metadata={"description": "the FHIR resource type"})
    group = fields.String(
        metadata={
            "description": "result, classification, vaccination, image, vital_sign, plan, "
            "medication, allergy or other"
        }
    )
    name = fields.String()
    value = fields.String()
    date = fields.String()
    status = fields.String()
    details = fields.List(fields.String())
    codes = fields.List(fields.String(), metadata={"description": "system|code"})
    files = fields.List(
        fields.String(), metadata={"description": "bundle files it names (its image)"}
    )


class SummarySection(Schema):
    title = fields.String()
    empty_reason = fields.String()
    items = fields.List(fields.Nested(SummaryItem))


class TravellerSummary(Schema):
    traveller_id = fields.UUID()
    import_id = fields.UUID()
    family_name = fields.String()
    given_names = fields.String()
    original_name = fields.String(metadata={"description": "the name in its own script"})
    birth_date = fields.String()
    sex = fields.String()
    identifiers = fields.List(fields.String())
    clearance = fields.String()
    clearance_text = fields.String()
    classifications = fields.List(fields.String())
    follow_up = fields.List(fields.String())
    flight = fields.String(allow_none=True)
    departs_at = fields.DateTime(allow_none=True)
    author = fields.String()
    date = fields.String()
    sections = fields.List(fields.Nested(SummarySection))
