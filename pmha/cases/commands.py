"""What the case and applicant write verbs take (issue 21): frozen commands built by the
schemas' post_load at the edge, so the services read typed fields and mypy sees a renamed one.
An update names only the fields sent (the others stay UNSET)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pmha.cases.models import Destination, DocumentType, Programme, Relationship, Sex
from pmha.core.commands import UNSET, Unset


@dataclass(frozen=True, kw_only=True)
class DocumentSpec:
    """An identity document: passport, travel document, refugee ID..."""

    doc_type: DocumentType
    number: str
    issuing_country: str
    expiry_date: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class NewApplicant:
    """A person to register: names (Latin and original script), birth, sex, nationality, their
    place in the family, documents. A possible duplicate is refused unless acknowledged."""

    family_name: str
    given_names: str
    dob: dt.date
    sex: Sex
    nationality: str
    relationship: Relationship
    family_name_original: str | None = None
    given_names_original: str | None = None
    dob_estimated: bool = False
    documents: Sequence[DocumentSpec] = ()
    acknowledge_duplicates: bool = False


@dataclass(frozen=True, kw_only=True)
class NewCase:
    """A family case with its principal applicant (the site by code when the actor works at
    several)."""

    destination: Destination
    programme: Programme
    principal: NewApplicant
    site_code: str | None = None
    planned_departure: dt.date | None = None
    external_ref: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaseChanges:
    """A change to a case: only the fields sent change. `version`: the one the caller read."""

    version: int
    destination: Destination | Unset = UNSET
    programme: Programme | Unset = UNSET
    planned_departure: dt.date | Unset | None = UNSET
    external_ref: str | Unset | None = UNSET


@dataclass(frozen=True, kw_only=True)
class ApplicantChanges:
    """A correction of an applicant's identity data: only the fields sent change (documents,
    when sent, replace the list). `version`: the one the caller read."""

    version: int
    family_name: str | Unset = UNSET
    given_names: str | Unset = UNSET
    family_name_original: str | Unset | None = UNSET
    given_names_original: str | Unset | None = UNSET
    dob: dt.date | Unset = UNSET
    dob_estimated: bool | Unset = UNSET
    sex: Sex | Unset = UNSET
    nationality: str | Unset = UNSET
    relationship: Relationship | Unset = UNSET
    documents: Sequence[DocumentSpec] | Unset = UNSET
