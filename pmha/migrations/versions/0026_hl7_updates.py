"""exports: which vaccination records each bundle's VXU carried, and a hash of what was sent

So that a record changed after it was sent goes out as an update (RXA-21 U) and one marked
deleted as D, under the same ORC-3, and an unchanged one is not sent again (CDC IG R1.5, BRIEF 8).
Records exported before this migration are not known to have been sent: the next bundle sends
them as A once more.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa

import pmha.core.db
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hl7_sent_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("bundle_id", sa.Uuid(), nullable=False),
        sa.Column("message_control_id", sa.String(length=20), nullable=False),
        sa.Column("filler_order_number", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=1), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("sent_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bundle_id"], ["export_bundles.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["vaccination_records.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "bundle_id"),
    )
    with op.batch_alter_table("hl7_sent_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hl7_sent_records_bundle_id"), ["bundle_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hl7_sent_records_record_id"), ["record_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("hl7_sent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hl7_sent_records_record_id"))
        batch_op.drop_index(batch_op.f("ix_hl7_sent_records_bundle_id"))
    op.drop_table("hl7_sent_records")
