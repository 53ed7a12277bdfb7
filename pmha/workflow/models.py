"""Clinical facts the plan depends on, the steps it asks for, their results, and plan records."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmha.core.db import Base, Timestamps, UUIDPk, str_enum, utcnow


class StepState(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"
    BLOCKED = "blocked"
    # Not done, with a coded reason (vocabulary.NOT_DONE_REASONS): never settles the step.
    NOT_DONE = "not_done"


class ClinicalFacts(Base):
    """What the physician or nurse established that the rules ask about (None: not known yet)."""

    __tablename__ = "clinical_facts"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), primary_key=True
    )
    exam_date: Mapped[date | None]
    pregnant: Mapped[bool | None] = mapped_column(Boolean)
    gestation_weeks: Mapped[int | None] = mapped_column(Integer)
    tb_history: Mapped[bool | None] = mapped_column(Boolean)
    tb_contact: Mapped[bool | None] = mapped_column(Boolean)
    tb_symptoms: Mapped[bool | None] = mapped_column(Boolean)
    known_hiv: Mapped[bool | None] = mapped_column(Boolean)
    extrapulmonary_tb: Mapped[bool | None] = mapped_column(Boolean)
    complex_condition: Mapped[bool | None] = mapped_column(Boolean)
    urgent_surveillance: Mapped[bool | None] = mapped_column(Boolean)  # 0027: CA 7-day report
    # The signed medical history the history's facts come from (None: entered on the workflow
    # page): once set, those facts change only by amending the history (one record per fact).
    history_section_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Step(UUIDPk, Timestamps, Base):
    """One requirement of an applicant's plan, as work to do."""

    __tablename__ = "workflow_steps"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    state: Mapped[StepState] = mapped_column(str_enum(StepState, 16))
    # What the plan says (required, conditional, not_required, ...), why, and when.
    planned_status: Mapped[str] = mapped_column(String(16))
    reason_rule: Mapped[str | None] = mapped_column(String(80))
    reason_source: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason_detail: Mapped[str] = mapped_column(String(300), default="")
    due_by: Mapped[date | None]
    not_before: Mapped[date | None]
    valid_until: Mapped[date | None]
    awaiting: Mapped[list[str]] = mapped_column(JSON, default=list)
    count: Mapped[int | None] = mapped_column(Integer)
    waiver_reason: Mapped[str | None] = mapped_column(String(40))
    not_done_reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(500))
    changed_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("applicant_id", "code"),)


class StepResult(UUIDPk, Base):
    """A result recorded for a requirement (the latest per code feeds the plan)."""

    __tablename__ = "workflow_results"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(40))
    result_date: Mapped[date]
    treated: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The record the result comes from (pmha.workflow.owners: lab_result, exam_section,
    # xray_reading, fitness_check, tb_episode, ...); None: typed on the workflow page, for a
    # requirement that has no record of its own, or before results had their own records.
    source_kind: Mapped[str | None] = mapped_column(String(24))
    source_id: Mapped[uuid.UUID | None]


class PlanRecord(UUIDPk, Base):
    """A plan as evaluated, with the rule version it was evaluated under: kept, never edited."""

    __tablename__ = "workflow_plans"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    planned_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    as_of: Mapped[date]
    rules_version: Mapped[str | None] = mapped_column(String(40))
    rules_sha256: Mapped[str | None] = mapped_column(String(64))
    clearance: Mapped[str] = mapped_column(String(32))
    blockers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    problems: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(40))


class PlanChange(UUIDPk, Base):
    """A change a rule update would make to a signed (done or waived) step: held for review."""

    __tablename__ = "workflow_plan_changes"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    planned_before: Mapped[str] = mapped_column(String(16))
    planned_after: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(String(40))
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[uuid.UUID | None]
    reviewed_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))


class ResidencePeriod(UUIDPk, Base):
    """A country the applicant lived in, from `started_on` to `ended_on` (None: still there):
    a fact presumptive treatment depends on (BRIEF 1.6 [S16, S17, S18]; migration 0025)."""

    __tablename__ = "residence_periods"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    country: Mapped[str] = mapped_column(String(2))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
