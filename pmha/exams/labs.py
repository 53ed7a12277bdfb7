"""Laboratory orders and results, consent, and what a result tells the plan.

A result is accepted only for a test ordered for that applicant, dated on or after the order;
an HIV result needs the applicant's consent and pre-test counselling first. The three sputum
specimens are ordered and resulted one by one; the plan hears "positive" as soon as one is, and
"negative" once all three are.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pmha.core.db import Base, UUIDPk, str_enum, utcnow

LAB_CODES = (
    "igra", "tst", "sputum_smear", "sputum_culture", "tb_naat", "dst", "syphilis_serology",
    "gonorrhea_naat", "hiv_test", "hbv_test", "hcv_test", "urinalysis", "serum_creatinine",
    "pregnancy_test",
)  # fmt: skip
SPECIMENS = {"sputum_smear": 3, "sputum_culture": 3, "tb_naat": 1}
_ACCESSION_LETTERS = "ACDEFGHJKLMNPQRTUVWXY3479"  # no 0/O, 1/I, 2/Z, 5/S, 6/B, 8/B on a label


def new_accession() -> str:
    """A specimen (accession) number for a new order's label, e.g. L-7KQ4-MX3A: random, so it
    says nothing about the person, and short enough to read back from a tube."""
    body = "".join(secrets.choice(_ACCESSION_LETTERS) for _ in range(8))
    return f"L-{body[:4]}-{body[4:]}"


class Interpretation(enum.StrEnum):
    """Where a result's interpretation (its `value`) comes from."""

    DERIVED = "derived"  # from the values, by pmha.exams.lab_values
    OVERRIDDEN = "overridden"  # a physician's, with a reason, over the derived one
    ENTERED = "entered"  # typed: a test whose interpretation follows from no values
    BEFORE_DERIVATION = "before_derivation"  # typed before PMHA derived it (migration 0019)


class OrderStatus(enum.StrEnum):
    ORDERED = "ordered"
    COLLECTED = "collected"
    RESULTED = "resulted"
    CANCELLED = "cancelled"


class ConsentKind(enum.StrEnum):
    HIV_TEST = "hiv_test"
    CHEST_XRAY_IN_PREGNANCY = "chest_xray_in_pregnancy"


class LabOrder(UUIDPk, Base):
    __tablename__ = "lab_orders"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    specimen: Mapped[int] = mapped_column(Integer, default=1)  # sputum: 1 to 3
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, 12))
    ordered_at: Mapped[datetime] = mapped_column(default=utcnow)
    ordered_by: Mapped[uuid.UUID | None]
    collection_method: Mapped[str | None] = mapped_column(String(30))
    collected_on: Mapped[date | None]
    # The number on the specimen's label; a result must name it (one order's result cannot be
    # recorded against another's).
    accession: Mapped[str] = mapped_column(String(20), default=new_accession)

    __table_args__ = (
        UniqueConstraint("applicant_id", "code", "specimen"),
        Index("ix_lab_orders_accession", "accession", unique=True),
    )


class LabResult(UUIDPk, Base):
    __tablename__ = "lab_results"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lab_orders.id"), unique=True)
    value: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result_date: Mapped[date]
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    specimen_number: Mapped[str | None] = mapped_column(String(20))  # as the result named it
    # `value` is what the plan hears: the derived interpretation unless a physician overrode it.
    derived: Mapped[str | None] = mapped_column(String(40))
    derivation: Mapped[str | None] = mapped_column(String(300))  # why, in words
    interpretation: Mapped[Interpretation] = mapped_column(
        str_enum(Interpretation, 20), default=Interpretation.ENTERED
    )
    override_reason: Mapped[str | None] = mapped_column(String(500))
    overridden_by: Mapped[uuid.UUID | None]
    overridden_by_name: Mapped[str | None] = mapped_column(String(120))  # as it was then
    overridden_at: Mapped[datetime | None]
    performing_lab: Mapped[str | None] = mapped_column(String(120))  # 0031


class LabMeasurement(UUIDPk, Base):
    """One measured analyte of a quantitative result (0031): value, UCUM unit, the reference
    range that applied to this applicant (none: no range, e.g. a child) and the flag it gave."""

    __tablename__ = "lab_measurements"

    result_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lab_results.id", ondelete="CASCADE"), index=True
    )
    analyte: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    reference_low: Mapped[float | None] = mapped_column(Float)
    reference_high: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[str | None] = mapped_column(String(1))  # H, L, N

    __table_args__ = (UniqueConstraint("result_id", "analyte"),)


class Consent(UUIDPk, Base):
    __tablename__ = "consents"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind, 30))
    given: Mapped[bool] = mapped_column(Boolean)
    given_on: Mapped[date]
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


def combined(code: str, values: list[str | None]) -> str | None:
    """What a multi-specimen test tells the plan: positive at once; negative only when every
    specimen is in and negative; otherwise nothing yet (None)."""
    if "positive" in values:
        return "positive"
    if len(values) == SPECIMENS.get(code, 1) and all(v is not None for v in values):
        return "negative" if all(v == "negative" for v in values) else "inconclusive"
    return None
