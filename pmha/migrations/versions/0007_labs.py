"""lab orders, results and consents

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "hiv_test",
                "chest_xray_in_pregnancy",
                name="consentkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consents_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "lab_orders",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("specimen", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ordered",
                "collected",
                "resulted",
                "cancelled",
                name="orderstatus",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("ordered_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ordered_by", sa.Uuid(), nullable=True),
        sa.Column("collection_method", sa.String(length=30), nullable=True),
        sa.Column("collected_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("applicant_id", "code", "specimen"),
    )
    with op.batch_alter_table("lab_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_orders_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "lab_results",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("result_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["lab_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("lab_results")
    with op.batch_alter_table("lab_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_orders_applicant_id"))

    op.drop_table("lab_orders")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_applicant_id"))

    op.drop_table("consents")
