"""vaccinations: the vaccination review, the record that settles the vaccination_review step

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa

import pmha.core.db
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vaccination_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("completed_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_by", sa.Uuid(), nullable=True),
        sa.Column("rules_version", sa.String(length=40), nullable=True),
        sa.Column("requirements", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vaccination_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vaccination_reviews_applicant_id"), ["applicant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vaccination_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccination_reviews_applicant_id"))
    op.drop_table("vaccination_reviews")
