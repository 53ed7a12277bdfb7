"""Exam sections (history, physical, mental health, referral, ...) as signed, versioned records.

One row per version of a section: a draft can be edited; signing freezes it; an amendment is a
new version that keeps a reason and points at the one it amends. Nothing is ever overwritten.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmha.core.db import Base, Timestamps, UUIDPk, str_enum


class SectionKind(enum.StrEnum):
    MEDICAL_HISTORY = "medical_history"
    PHYSICAL_EXAM = "physical_exam"
    MENTAL_HEALTH = "mental_health"
    SPECIALIST_REFERRAL = "specialist_referral"
    RECOMMENDATIONS = "recommendations"
    COUNSELLING = "counselling"


class SectionStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SUPERSEDED = "superseded"  # signed, then amended by a later signed version


class ExamSection(UUIDPk, Timestamps, Base):
    __tablename__ = "exam_sections"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SectionKind] = mapped_column(str_enum(SectionKind, 24))
    number: Mapped[int] = mapped_column(Integer)  # 1, then 2 for the first amendment, ...
    status: Mapped[SectionStatus] = mapped_column(str_enum(SectionStatus, 12))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_id: Mapped[uuid.UUID | None]
    signed_by: Mapped[uuid.UUID | None]
    signed_by_name: Mapped[str | None] = mapped_column(String(120))  # the signer's full name
    signed_by_role: Mapped[str | None] = mapped_column(String(40))
    signed_by_registration: Mapped[str | None] = mapped_column(String(40))
    signed_at: Mapped[datetime | None]
    amends_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("exam_sections.id"))
    amendment_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("applicant_id", "kind", "number"),)
