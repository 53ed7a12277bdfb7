"""Laboratory orders and results, consent, and what a result tells the plan.

A result is accepted only for a test ordered for that applicant, dated on or after the order;
an HIV result needs the applicant's consent and pre-test counselling first. The three sputum
specimens are ordered and resulted one by one; the plan hears "positive" as soon as one is, and
"negative" once all three are.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmha.core.db import Base, UUIDPk, str_enum, utcnow

LAB_CODES = (
    "igra", "tst", "sputum_smear", "sputum_culture", "tb_naat", "dst", "syphilis_serology",
    "gonorrhea_naat", "hiv_test", "hbv_test", "hcv_test", "urinalysis", "serum_creatinine",
    "pregnancy_test",
)  # fmt: skip
SPECIMENS = {"sputum_smear": 3, "sputum_culture": 3, "tb_naat": 1}


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

    __table_args__ = (UniqueConstraint("applicant_id", "code", "specimen"),)


class LabResult(UUIDPk, Base):
    __tablename__ = "lab_results"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lab_orders.id"), unique=True)
    value: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result_date: Mapped[date]
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


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
