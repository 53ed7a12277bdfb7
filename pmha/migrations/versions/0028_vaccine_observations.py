"""issue 16, observations with dates: the conditions that change an applicant's vaccine schedule

A nurse or physician records a CDSi observation (e.g. a stem-cell transplant, asplenia, HIV
infection) with the dates it holds; the forecast reads them. Removed with a reason, never erased.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pmha.core.db

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vaccine_observations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("begin", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vaccine_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vaccine_observations_applicant_id"), ["applicant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vaccine_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccine_observations_applicant_id"))
    op.drop_table("vaccine_observations")
