"""TB classification confirmations, treatment episodes, DOT observations, sputum checks, alerts."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pmha.core.db import Base, Timestamps, UUIDPk, str_enum, utcnow


class DoseStatus(enum.StrEnum):
    OBSERVED = "observed"
    MISSED = "missed"
    SELF_ADMINISTERED = "self_administered"
    REFUSED = "refused"
    ADVERSE_EVENT = "adverse_event"


class EpisodeStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class TbClassification(UUIDPk, Base):
    """A physician's confirmation of the TB classification the rules derived: kept, never edited."""

    __tablename__ = "tb_classifications"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    destination: Mapped[str] = mapped_column(String(2))
    outcomes: Mapped[dict[str, Any]] = mapped_column(JSON)  # kind -> values, trace, status
    rules_version: Mapped[str | None] = mapped_column(String(40))
    plan_id: Mapped[uuid.UUID | None]
    note: Mapped[str | None] = mapped_column(String(500))
    confirmed_by: Mapped[uuid.UUID | None]
    # 'Full name, Panel physician, reg. ...' as signed with the password (accounts.signatures)
    confirmed_by_name: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TbEpisode(UUIDPk, Timestamps, Base):
    """One course of TB treatment under DOT, with its regimen as prescribed (phases snapshot)."""

    __tablename__ = "tb_episodes"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    destination: Mapped[str] = mapped_column(String(2))
    status: Mapped[EpisodeStatus] = mapped_column(str_enum(EpisodeStatus, 16), index=True)
    diagnosed_on: Mapped[date]
    disease_site: Mapped[str] = mapped_column(String(16))  # pulmonary, extrapulmonary
    susceptibility: Mapped[str] = mapped_column(String(16))  # susceptible, resistant, unknown
    resistance: Mapped[str | None] = mapped_column(String(200))  # drugs, for custom regimens
    cavitation: Mapped[bool] = mapped_column(Boolean, default=False)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    regimen_code: Mapped[str] = mapped_column(String(20))
    phases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date]
    dot_site: Mapped[str] = mapped_column(String(16))  # centre, referral
    referral_centre: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(24))
    outcome_date: Mapped[date | None]
    outcome_note: Mapped[str | None] = mapped_column(String(500))
    started_by: Mapped[uuid.UUID | None]
    closed_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    observations: Mapped[list[DotObservation]] = relationship(
        back_populates="episode", order_by="DotObservation.dose_date"
    )
    sputum: Mapped[list[SputumCheck]] = relationship(
        back_populates="episode", order_by="SputumCheck.collected_on"
    )

    __mapper_args__ = {"version_id_col": version}


class DotObservation(UUIDPk, Base):
    """One scheduled daily dose and what happened to it (one entry per dose)."""

    __tablename__ = "tb_dot_observations"

    episode_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tb_episodes.id", ondelete="CASCADE"), index=True
    )
    dose_date: Mapped[date]
    status: Mapped[DoseStatus] = mapped_column(str_enum(DoseStatus, 24))
    description: Mapped[str | None] = mapped_column(String(500))  # adverse events
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    episode: Mapped[TbEpisode] = relationship(back_populates="observations")

    __table_args__ = (UniqueConstraint("episode_id", "dose_date"),)


class SputumCheck(UUIDPk, Base):
    """Monthly sputum monitoring during treatment (smear and culture)."""

    __tablename__ = "tb_sputum_checks"

    episode_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tb_episodes.id", ondelete="CASCADE"), index=True
    )
    month: Mapped[int] = mapped_column(Integer)
    collected_on: Mapped[date]
    smear: Mapped[str | None] = mapped_column(String(16))
    culture: Mapped[str | None] = mapped_column(String(16))
    recorded_by: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    episode: Mapped[TbEpisode] = relationship(back_populates="sputum")

    __table_args__ = (UniqueConstraint("episode_id", "month"),)


class TbAlert(UUIDPk, Base):
    """What the nightly check found (missed doses, interruption, overdue sputum): one per
    episode, kind and day, so a re-run adds nothing."""

    __tablename__ = "tb_alerts"

    episode_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tb_episodes.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    raised_on: Mapped[date]
    detail: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("episode_id", "kind", "raised_on"),)
