"""issue 15, residence and exposure facts: the countries an applicant lived in, with dates

Presumptive treatment of US-bound refugees depends on where they lived (Loa loa-endemic
countries, sub-Saharan Africa: BRIEF 1.6 [S16, S17, S18]). One row per period; no data to move.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa

import pmha.core.db
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residence_periods",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("residence_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residence_periods_applicant_id"), ["applicant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("residence_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residence_periods_applicant_id"))
    op.drop_table("residence_periods")
