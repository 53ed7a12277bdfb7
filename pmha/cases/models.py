"""Sites, family cases, applicants and their identity documents."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import relationship as orm_relationship

from pmha.core.db import Base, Timestamps, UUIDPk, str_enum, utcnow

SEARCH_KEY_TYPE = String(610).with_variant(String(610, collation="C"), "postgresql")


class Destination(enum.StrEnum):
    US = "US"
    CA = "CA"
    AU = "AU"
    NZ = "NZ"
    GB = "GB"


class Programme(enum.StrEnum):
    IMMIGRANT = "immigrant"
    REFUGEE = "refugee"
    HUMANITARIAN = "humanitarian"
    TEMPORARY = "temporary"
    STUDENT = "student"
    FAMILY_REUNIFICATION = "family_reunification"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class Relationship(enum.StrEnum):
    PRINCIPAL = "principal"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    OTHER_RELATIVE = "other_relative"
    OTHER = "other"


class DocumentType(enum.StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    REFUGEE_ID = "refugee_id"
    UNHCR_REGISTRATION = "unhcr_registration"
    TRAVEL_DOCUMENT = "travel_document"
    BIRTH_CERTIFICATE = "birth_certificate"
    OTHER = "other"


class Site(UUIDPk, Timestamps, Base):
    """An assessment centre. Its code prefixes the case numbers it issues."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    case_seq: Mapped[int] = mapped_column(Integer, default=0)


class FamilyCase(UUIDPk, Timestamps, Base):
    __tablename__ = "family_cases"

    case_number: Mapped[str] = mapped_column(String(24), unique=True)
    external_ref: Mapped[str | None] = mapped_column(String(40))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    destination: Mapped[Destination] = mapped_column(str_enum(Destination, 2))
    programme: Mapped[Programme] = mapped_column(str_enum(Programme, 24))
    planned_departure: Mapped[date | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    site: Mapped[Site] = orm_relationship(lazy="joined", innerjoin=True)
    applicants: Mapped[list[Applicant]] = orm_relationship(
        back_populates="case", order_by="Applicant.created_at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def principal(self) -> Applicant | None:
        return next((a for a in self.applicants if a.relationship == Relationship.PRINCIPAL), None)


class Applicant(UUIDPk, Timestamps, Base):
    __tablename__ = "applicants"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_cases.id"), index=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(100))
    family_name_original: Mapped[str | None] = mapped_column(String(100))
    given_names_original: Mapped[str | None] = mapped_column(String(100))
    dob: Mapped[date] = mapped_column(index=True)
    dob_estimated: Mapped[bool] = mapped_column(default=False)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 8))
    nationality: Mapped[str] = mapped_column(String(2))
    relationship: Mapped[Relationship] = mapped_column(str_enum(Relationship, 16))
    # The language the applicant reads (en, tr, ar): their documents default to it (issue 18).
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    # Derived from the names for search (see names.py); rebuilt on every save by the service.
    # Deferred: up to 1,200 characters per member that no reader needs (issue 20).
    search_text: Mapped[str] = mapped_column(String(600), deferred=True)
    search_skeletons: Mapped[str] = mapped_column(String(600), deferred=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    case: Mapped[FamilyCase] = orm_relationship(back_populates="applicants")
    documents: Mapped[list[IdentityDocument]] = orm_relationship(
        back_populates="applicant", cascade="all, delete-orphan", order_by="IdentityDocument.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(
            "uq_applicants_one_principal",
            "case_id",
            unique=True,
            sqlite_where=text("relationship = 'principal'"),
            postgresql_where=text("relationship = 'principal'"),
        ),
    )


class ApplicantSearchKey(Base):
    """One searchable key of an applicant's names (see names.index_keys), rebuilt with them."""

    __tablename__ = "applicant_search_keys"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), primary_key=True
    )
    # Byte order on PostgreSQL whatever the database's locale: prefix ranges must hold.
    key: Mapped[str] = mapped_column(SEARCH_KEY_TYPE, primary_key=True)
    # The applicant's case, copied here so that a name search never visits the applicants:
    # an index-only scan of (key, case_id, applicant_id) answers it. Members never move.
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_cases.id"))

    __table_args__ = (Index("ix_applicant_search_keys_key", "key", "case_id", "applicant_id"),)


class IdentityDocument(UUIDPk, Base):
    __tablename__ = "identity_documents"

    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applicants.id"), index=True)
    doc_type: Mapped[DocumentType] = mapped_column(str_enum(DocumentType, 24))
    number: Mapped[str] = mapped_column(String(40))
    issuing_country: Mapped[str] = mapped_column(String(2))
    expiry_date: Mapped[date | None]

    applicant: Mapped[Applicant] = orm_relationship(back_populates="documents")

    __table_args__ = (UniqueConstraint("applicant_id", "doc_type", "number"),)


class ApplicantPhoto(Base):
    """The applicant's photo, re-encoded without metadata (see photos.py)."""

    __tablename__ = "applicant_photos"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
