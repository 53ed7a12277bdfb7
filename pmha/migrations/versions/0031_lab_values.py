"""issue 18, labs with values: measured values with units, reference ranges and flags, and the
performing laboratory

A quantitative result (serum creatinine, urinalysis) keeps each measured analyte: its value, its
UCUM unit, the reference range that applied to the applicant and the flag (H, L or N) the
range gave. A result names the laboratory that performed it. Existing results have neither.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("performing_lab", sa.String(length=120), nullable=True))
    op.create_table(
        "lab_measurements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("result_id", sa.Uuid(), nullable=False),
        sa.Column("analyte", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("reference_low", sa.Float(), nullable=True),
        sa.Column("reference_high", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=1), nullable=True),
        sa.ForeignKeyConstraint(["result_id"], ["lab_results.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("result_id", "analyte"),
    )
    op.create_index("ix_lab_measurements_result_id", "lab_measurements", ["result_id"])


def downgrade() -> None:
    op.drop_index("ix_lab_measurements_result_id", table_name="lab_measurements")
    op.drop_table("lab_measurements")
    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        batch_op.drop_column("performing_lab")
