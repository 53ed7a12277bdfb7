"""Departures, fitness-to-travel checks, escorts, certificates, treatments and follow-ups."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pmha.core.db import Base, Timestamps, UUIDPk, str_enum, utcnow


class CheckKind(enum.StrEnum):
    PDMS = "pdms"  # pre-departure medical screening (US: within 3 weeks)
    PEC = "pec"  # pre-embarkation check (24-72 h)
    DHC = "dhc"  # Australian departure health check (72 h)


class Fitness(enum.StrEnum):
    """Fitness to travel, best first (VOCABULARY.md, Clearance and travel)."""

    FIT = "fit"
    FIT_WITH_CONDITIONS = "fit_with_conditions"
    FIT_WITH_ESCORT = "fit_with_escort"
    FIT_WITH_MEDICAL_ESCORT = "fit_with_medical_escort"
    DEFERRED = "deferred"
    UNFIT = "unfit"


class Mobility(enum.StrEnum):
    NONE = "none"
    WCHR = "WCHR"  # wheelchair to the aircraft door; walks the cabin and the steps
    WCHS = "WCHS"  # wheelchair; cannot manage steps
    WCHC = "WCHC"  # immobile; carried to the seat
    STRETCHER = "stretcher"


class EscortType(enum.StrEnum):
    NON_MEDICAL = "non_medical"
    NURSE = "nurse"
    DOCTOR = "doctor"


class MedifStatus(enum.StrEnum):
    NOT_NEEDED = "not_needed"
    TO_SEND = "to_send"
    SENT = "sent"
    APPROVED = "approved"
    REFUSED = "refused"


class Departure(UUIDPk, Timestamps, Base):
    """A flight or movement, at one site, with the family cases booked on it."""

    __tablename__ = "travel_departures"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(3))
    flight_number: Mapped[str] = mapped_column(String(8))
    departs_at: Mapped[datetime] = mapped_column(index=True)
    route: Mapped[str] = mapped_column(String(60))  # IST-FRA-ORD
    destination: Mapped[str] = mapped_column(String(2))
    created_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    bookings: Mapped[list[Booking]] = relationship(
        back_populates="departure", cascade="all, delete-orphan", order_by="Booking.added_at"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def label(self) -> str:
        return f"{self.carrier} {self.flight_number}"


class Booking(UUIDPk, Base):
    """A family case on a departure (a case is on at most one departure at a time)."""

    __tablename__ = "travel_bookings"

    departure_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("travel_departures.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_cases.id"), unique=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[uuid.UUID | None]

    departure: Mapped[Departure] = relationship(back_populates="bookings")


class FitnessCheck(UUIDPk, Base):
    """A PDMS, PEC or DHC: what was found, the outcome the rules suggest and the physician's."""

    __tablename__ = "travel_checks"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    departure_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("travel_departures.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[CheckKind] = mapped_column(str_enum(CheckKind, 8))
    checked_at: Mapped[datetime]
    temperature_c: Mapped[float | None] = mapped_column(Float)
    pulse: Mapped[int | None] = mapped_column(Integer)
    systolic: Mapped[int | None] = mapped_column(Integer)
    diastolic: Mapped[int | None] = mapped_column(Integer)
    spo2: Mapped[int | None] = mapped_column(Integer)
    symptoms: Mapped[list[str]] = mapped_column(JSON, default=list)
    pregnancy_weeks: Mapped[int | None] = mapped_column(Integer)
    pregnancy_multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    mobility: Mapped[Mobility] = mapped_column(str_enum(Mobility, 12), default=Mobility.NONE)
    oxygen: Mapped[bool] = mapped_column(Boolean, default=False)
    mental_state: Mapped[str] = mapped_column(String(20), default="stable")
    journey_medications: Mapped[str | None] = mapped_column(String(500))
    suggested: Mapped[Fitness] = mapped_column(str_enum(Fitness, 24))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome: Mapped[Fitness] = mapped_column(str_enum(Fitness, 24))
    override_reason: Mapped[str | None] = mapped_column(String(300))
    in_window: Mapped[bool] = mapped_column(Boolean)
    carrier_rule: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Escort(UUIDPk, Timestamps, Base):
    """A traveller's escort on a departure: who, the airline's MEDIF, the plan and equipment."""

    __tablename__ = "travel_escorts"

    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"))
    departure_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("travel_departures.id", ondelete="CASCADE"), index=True
    )
    escort_type: Mapped[EscortType] = mapped_column(str_enum(EscortType, 12))
    medif_status: Mapped[MedifStatus] = mapped_column(str_enum(MedifStatus, 12))
    plan: Mapped[str | None] = mapped_column(String(1000))
    equipment: Mapped[list[str]] = mapped_column(JSON, default=list)
    handover_note: Mapped[str | None] = mapped_column(String(500))
    changed_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("applicant_id", "departure_id"),)


class Certificate(UUIDPk, Base):
    """A signed fitness-to-travel clearance: the statement as signed, and whether it stands."""

    __tablename__ = "travel_certificates"

    code: Mapped[str] = mapped_column(String(24), unique=True)
    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    departure_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("travel_departures.id", ondelete="CASCADE")
    )
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(100))  # base64url Ed25519
    key_id: Mapped[str] = mapped_column(String(16))
    valid_until: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[uuid.UUID | None]
    # 'Full name, role[, reg. ...]' as signed with the password (accounts.signatures)
    issued_by_name: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(120))
    # The signed code as issued ('HC1:...', COSE_Sign1): kept, as a rotated-out key cannot
    # sign it again; None for the older PMHA1 certificates (statement + signature rebuild them).
    signed_code: Mapped[str | None] = mapped_column(Text)


class CertificateKey(Base):
    """Every public key that has signed a certificate, published for ever (the key list) so a
    certificate issued before a key rotation keeps verifying after it."""

    __tablename__ = "travel_certificate_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)  # hex, SHA-256[:8]
    public_key: Mapped[str] = mapped_column(String(64))  # base64url raw Ed25519
    first_used_at: Mapped[datetime] = mapped_column(default=utcnow)


class Treatment(UUIDPk, Base):
    """Presumptive treatment or a pre-departure procedure given, under a rule of the file."""

    __tablename__ = "travel_treatments"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[str] = mapped_column(String(80))
    drug: Mapped[str] = mapped_column(String(80))
    dose: Mapped[str] = mapped_column(String(80))
    given_on: Mapped[date]
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArrivalFollowUp(UUIDPk, Base):
    """A follow-up the destination requires after arrival, for the receiving side to complete."""

    __tablename__ = "travel_follow_ups"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[str] = mapped_column(String(80))
    what: Mapped[str] = mapped_column(String(300))
    within_days: Mapped[int | None] = mapped_column(Integer)
    due_by: Mapped[date | None]
    completed_on: Mapped[date | None]
    completed_by: Mapped[uuid.UUID | None]
    outcome_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("applicant_id", "rule_id"),)
