"""What the case and applicant API takes and gives, field by field."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from pmha.cases.commands import (
    ApplicantChanges,
    CaseChanges,
    DocumentSpec,
    NewApplicant,
    NewCase,
)
from pmha.cases.models import Destination, DocumentType, Programme, Relationship, Sex
from pmha.cases.names import is_valid_name
from pmha.core.schemas import (
    CommandSchema,
    JsonPageArgs,
    PageArgs,
    StrictSchema,
    country_code,
    date_in_range,
    enum_field,
    nationality_code,
    past_date_of_birth,
    reference,
    strict_integer,
)


def person_name(value: str) -> None:
    if not is_valid_name(value):
        raise ValidationError(
            "Use letters (any script), spaces, hyphens, apostrophes or dots only."
        )


def _name(required: bool = True) -> fields.String:
    return fields.String(
        required=required,
        allow_none=not required,
        validate=[validate.Length(min=1, max=100), person_name],
    )


class DocumentIn(CommandSchema):
    command = DocumentSpec
    doc_type = enum_field(DocumentType, required=True)
    number = fields.String(required=True, validate=reference)
    issuing_country = fields.String(required=True, validate=country_code)
    expiry_date = fields.Date(load_default=None, allow_none=True, validate=date_in_range)


class ApplicantIn(CommandSchema):
    command = NewApplicant
    family_name = _name()
    given_names = _name()
    family_name_original = _name(required=False)
    given_names_original = _name(required=False)
    dob = fields.Date(required=True, validate=past_date_of_birth)
    dob_estimated = fields.Boolean(load_default=False)
    sex = enum_field(Sex, required=True)
    nationality = fields.String(
        required=True,
        validate=nationality_code,
        metadata={"description": "ISO 3166-1 alpha-2; XX for stateless or unknown."},
    )
    relationship = enum_field(Relationship, required=True)
    documents = fields.List(
        fields.Nested(DocumentIn), load_default=list, validate=validate.Length(max=10)
    )
    acknowledge_duplicates = fields.Boolean(
        load_default=False,
        metadata={"description": "Register even though possible duplicates were reported."},
    )


class ApplicantUpdate(CommandSchema):
    command = ApplicantChanges
    family_name = _name(required=False)
    given_names = _name(required=False)
    family_name_original = _name(required=False)
    given_names_original = _name(required=False)
    dob = fields.Date(validate=past_date_of_birth)
    dob_estimated = fields.Boolean()
    sex = enum_field(Sex)
    nationality = fields.String(validate=nationality_code)
    relationship = enum_field(Relationship)
    documents = fields.List(fields.Nested(DocumentIn), validate=validate.Length(max=10))
    version = strict_integer(required=True, metadata={"description": "The version you read."})

    @validates_schema
    def _not_null(self, data: dict[str, Any], **_: Any) -> None:
        for name in ("family_name", "given_names"):
            if name in data and data[name] is None:
                raise ValidationError("This name cannot be removed.", name)


class CaseIn(CommandSchema):
    command = NewCase
    site_code = fields.String(
        load_default=None,
        validate=validate.Length(min=2, max=8),
        metadata={"description": "One of your sites; may be left out if you have only one."},
    )
    destination = enum_field(Destination, required=True)
    programme = enum_field(Programme, required=True)
    planned_departure = fields.Date(load_default=None, allow_none=True, validate=date_in_range)
    external_ref = fields.String(load_default=None, allow_none=True, validate=reference)
    principal = fields.Nested(ApplicantIn, required=True)

    @validates_schema
    def _principal_is_principal(self, data: dict[str, Any], **_: Any) -> None:
        principal = data.get("principal")  # a NewApplicant: its schema's post_load built it
        if principal and principal.relationship != Relationship.PRINCIPAL:
            raise ValidationError(
                {"relationship": ["The first applicant of a case is its principal."]},
                "principal",
            )


class CaseUpdate(CommandSchema):
    command = CaseChanges
    destination = enum_field(Destination)
    programme = enum_field(Programme)
    planned_departure = fields.Date(allow_none=True, validate=date_in_range)
    external_ref = fields.String(allow_none=True, validate=reference)
    version = strict_integer(required=True, metadata={"description": "The version you read."})


class CaseSearch(JsonPageArgs):
    q = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Name in Latin or original script; spacing and transliteration tolerant."
        },
    )
    case_number = fields.String(load_default=None, validate=validate.Length(min=1, max=24))
    dob = fields.Date(load_default=None, validate=date_in_range)
    destination = enum_field(Destination, load_default=None)


class CaseSearchForm(CaseSearch):
    """The search form on the cases page: its numbers arrive as text."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class CaseListArgs(PageArgs):
    destination = enum_field(Destination, load_default=None)


class SiteOut(StrictSchema):
    code = fields.String()
    name = fields.String()
    country = fields.String()


class DocumentOut(StrictSchema):
    doc_type = enum_field(DocumentType)
    number = fields.String()
    issuing_country = fields.String()
    expiry_date = fields.Date(allow_none=True)


class ApplicantOut(StrictSchema):
    id = fields.UUID()
    case_id = fields.UUID()
    family_name = fields.String()
    given_names = fields.String()
    family_name_original = fields.String(allow_none=True)
    given_names_original = fields.String(allow_none=True)
    dob = fields.Date()
    dob_estimated = fields.Boolean()
    sex = enum_field(Sex)
    nationality = fields.String()
    relationship = enum_field(Relationship)
    documents = fields.List(fields.Nested(DocumentOut))
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CaseOut(StrictSchema):
    id = fields.UUID()
    case_number = fields.String()
    external_ref = fields.String(allow_none=True)
    site = fields.Nested(SiteOut)
    destination = enum_field(Destination)
    programme = enum_field(Programme)
    planned_departure = fields.Date(allow_none=True)
    applicants = fields.List(fields.Nested(ApplicantOut))
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CasePage(StrictSchema):
    items = fields.List(fields.Nested(CaseOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class DuplicateCandidate(StrictSchema):
    applicant_id = fields.UUID()
    case_id = fields.UUID()
    case_number = fields.String()
    family_name = fields.String()
    given_names = fields.String()
    family_name_original = fields.String(allow_none=True)
    given_names_original = fields.String(allow_none=True)
    dob = fields.Date()


class PhotoOut(StrictSchema):
    sha256 = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    content_type = fields.String()
    uploaded_at = fields.DateTime()


# ---------------------------------------------------------------------------------------------
# The same output as CaseOut / ApplicantOut / CasePage, built directly (issue 20): a search page
# of 25 families dumps about 5,000 fields, and marshmallow's per-field machinery was a fifth of
# the request's CPU. tests/cases/test_schemas_fast.py holds these equal to the schemas above,
# which stay the documented contract (OpenAPI) and the reference.


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _enum(value: Any) -> Any:
    return None if value is None else value.value


def dump_document(doc: Any) -> dict[str, Any]:
    return {
        "doc_type": _enum(doc.doc_type),
        "number": _str(doc.number),
        "issuing_country": _str(doc.issuing_country),
        "expiry_date": _iso(doc.expiry_date),
    }


def dump_applicant(a: Any) -> dict[str, Any]:
    """ApplicantOut().dump(a), faster."""
    return {
        "id": _str(a.id),
        "case_id": _str(a.case_id),
        "family_name": _str(a.family_name),
        "given_names": _str(a.given_names),
        "family_name_original": _str(a.family_name_original),
        "given_names_original": _str(a.given_names_original),
        "dob": _iso(a.dob),
        "dob_estimated": None if a.dob_estimated is None else bool(a.dob_estimated),
        "sex": _enum(a.sex),
        "nationality": _str(a.nationality),
        "relationship": _enum(a.relationship),
        "documents": [dump_document(d) for d in a.documents],
        "version": None if a.version is None else int(a.version),
        "created_at": _iso(a.created_at),
        "updated_at": _iso(a.updated_at),
    }


def dump_case(case: Any) -> dict[str, Any]:
    """CaseOut().dump(case), faster."""
    site = case.site
    return {
        "id": _str(case.id),
        "case_number": _str(case.case_number),
        "external_ref": _str(case.external_ref),
        "site": None
        if site is None
        else {"code": _str(site.code), "name": _str(site.name), "country": _str(site.country)},
        "destination": _enum(case.destination),
        "programme": _enum(case.programme),
        "planned_departure": _iso(case.planned_departure),
        "applicants": [dump_applicant(a) for a in case.applicants],
        "version": None if case.version is None else int(case.version),
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
    }


def dump_page(page: Any) -> dict[str, Any]:
    """CasePage().dump(page), faster."""
    return {
        "items": [dump_case(c) for c in page.items],
        "page": int(page.page),
        "per_page": int(page.per_page),
        "total": int(page.total),
    }
