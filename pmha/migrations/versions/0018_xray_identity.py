"""chest X-rays: the header identity, held when it differs from the applicant's

Images already uploaded cannot be compared without re-reading their files, so they are marked
'not_checked' (and the pages say so) rather than assumed to match.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pmha.core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xray_studies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("header_family", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("header_given", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("header_middle", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("header_other_names", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("header_sex", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("header_birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("header_patient_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "identity_status",
                sa.String(length=16),
                server_default="not_checked",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("identity_differs", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("identity_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("identity_confirmed_by", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("identity_confirmed_by_name", sa.String(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "identity_confirmed_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("xray_studies", schema=None) as batch_op:
        for column in (
            "identity_confirmed_at",
            "identity_confirmed_by_name",
            "identity_confirmed_by",
            "identity_reason",
            "identity_differs",
            "identity_status",
            "header_patient_id",
            "header_birth_date",
            "header_sex",
            "header_other_names",
            "header_middle",
            "header_given",
            "header_family",
        ):
            batch_op.drop_column(column)
