"""Vaccination records (doses given here, historical doses, refusals, evidence of immunity,
sub-potent doses) and the vaccine lots each site holds.

A record is never erased: a correction marks it deleted with a reason (HL7 RXA-21 `D`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmha.core.db import Base, UUIDPk, str_enum, utcnow


class RecordKind(enum.StrEnum):
    """The same values as pmha.exports.immunization.RecordKind (the VXU patterns)."""

    ADMINISTERED = "administered"
    HISTORICAL = "historical"
    REFUSED = "refused"
    SUBPOTENT = "subpotent"
    EVIDENCE_OF_IMMUNITY = "evidence_of_immunity"


class ImmunityEvidence(enum.StrEnum):
    LAB_RESULT = "lab_result"
    PHYSICIAN_DIAGNOSIS = "physician_diagnosis"


GIVEN_HERE = frozenset({RecordKind.ADMINISTERED, RecordKind.SUBPOTENT})


class VaccineLot(UUIDPk, Base):
    """A lot received at a site; `quantity_left` counts doses and only goes down."""

    __tablename__ = "vaccine_lots"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    cvx: Mapped[str] = mapped_column(String(4))
    mvx: Mapped[str] = mapped_column(String(4))
    lot: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date]
    quantity_received: Mapped[int] = mapped_column(Integer)
    quantity_left: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[date]
    received_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("site_id", "cvx", "mvx", "lot"),)


class VaccinationRecord(UUIDPk, Base):
    __tablename__ = "vaccination_records"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RecordKind] = mapped_column(str_enum(RecordKind, 24))
    cvx: Mapped[str] = mapped_column(String(4))
    occurred_on: Mapped[date]
    given_at: Mapped[datetime | None]  # date and time, for a dose given here
    mvx: Mapped[str | None] = mapped_column(String(4))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vaccine_lots.id"), index=True)
    lot: Mapped[str | None] = mapped_column(String(20))
    lot_expiry: Mapped[date | None]
    amount: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    unit: Mapped[str | None] = mapped_column(String(10))
    route: Mapped[str | None] = mapped_column(String(4))
    body_site: Mapped[str | None] = mapped_column(String(6))
    vis_published: Mapped[date | None]
    vis_given_on: Mapped[date | None]
    administered_by: Mapped[uuid.UUID | None]
    information_source: Mapped[str | None] = mapped_column(String(2))  # NIP001
    refusal_reason: Mapped[str | None] = mapped_column(String(2))  # NIP002
    immunity_evidence: Mapped[ImmunityEvidence | None] = mapped_column(
        str_enum(ImmunityEvidence, 24)
    )
    immunity_disease: Mapped[str | None] = mapped_column(String(18))  # SNOMED CT
    pregnancy_override: Mapped[str | None] = mapped_column(String(300))
    outbreak_override: Mapped[str | None] = mapped_column(String(300))
    # Screening before a live vaccine: immunosuppressed and pregnant (None: not asked, as for
    # a vaccine that is not live or a pregnancy question to a male applicant), the physician's
    # reason to give it anyway, and why an answer differs from the clinical facts.
    immunosuppressed: Mapped[bool | None]
    immunosuppression_override: Mapped[str | None] = mapped_column(String(300))
    pregnant: Mapped[bool | None]
    screening_note: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[uuid.UUID | None]
    deleted_reason: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class VaccinationReview(UUIDPk, Base):
    """The nurse's vaccination review, completed once every required vaccine is settled (given,
    documented, immune, waived by an allowed reason, or not required): the record that settles
    the workflow's vaccination_review step, with the requirements as they stood."""

    __tablename__ = "vaccination_reviews"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_by: Mapped[uuid.UUID | None]
    rules_version: Mapped[str | None] = mapped_column(String(40))
    # [{"vaccine": ..., "status": ..., "waiver": ...}] as the review saw them.
    requirements: Mapped[list[dict[str, str | None]]] = mapped_column(JSON, default=list)
    # The vaccination outcome it recorded (pmha.vaccines.outcome: complete, class_a, refused);
    # None on reviews completed before issue 15 (they were complete: nothing could be open).
    outcome: Mapped[str | None] = mapped_column(String(20))
    # Vaccines an individual waiver covers (the destination's route, e.g. USCIS's religious or
    # moral waiver [S13d]), as the physician recorded them on completing the review.
    individual_waivers: Mapped[list[str] | None] = mapped_column(JSON, default=list)


class VaccineObservation(UUIDPk, Base):
    """A condition that changes the vaccine schedule (a CDSi observation code of the supporting
    data, e.g. 004 stem-cell transplant, 160 asplenia) with the dates it holds: from `begin`
    (None: not known) to `end` (None: still holds), both days included. Removed, never erased."""

    __tablename__ = "vaccine_observations"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(4))
    begin: Mapped[date | None]
    end: Mapped[date | None]
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[uuid.UUID | None]
    deleted_reason: Mapped[str | None] = mapped_column(String(300))
