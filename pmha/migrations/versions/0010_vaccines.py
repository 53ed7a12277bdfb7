"""vaccines

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vaccine_lots",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("cvx", sa.String(length=4), nullable=False),
        sa.Column("mvx", sa.String(length=4), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("quantity_received", sa.Integer(), nullable=False),
        sa.Column("quantity_left", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("received_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "cvx", "mvx", "lot"),
    )
    with op.batch_alter_table("vaccine_lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vaccine_lots_site_id"), ["site_id"], unique=False)

    op.create_table(
        "vaccination_records",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "administered",
                "historical",
                "refused",
                "subpotent",
                "evidence_of_immunity",
                name="recordkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("cvx", sa.String(length=4), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("given_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mvx", sa.String(length=4), nullable=True),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column("lot_expiry", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("unit", sa.String(length=10), nullable=True),
        sa.Column("route", sa.String(length=4), nullable=True),
        sa.Column("body_site", sa.String(length=6), nullable=True),
        sa.Column("vis_published", sa.Date(), nullable=True),
        sa.Column("vis_given_on", sa.Date(), nullable=True),
        sa.Column("administered_by", sa.Uuid(), nullable=True),
        sa.Column("information_source", sa.String(length=2), nullable=True),
        sa.Column("refusal_reason", sa.String(length=2), nullable=True),
        sa.Column(
            "immunity_evidence",
            sa.Enum(
                "lab_result",
                "physician_diagnosis",
                name="immunityevidence",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("immunity_disease", sa.String(length=18), nullable=True),
        sa.Column("pregnancy_override", sa.String(length=300), nullable=True),
        sa.Column("outbreak_override", sa.String(length=300), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_reason", sa.String(length=300), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["vaccine_lots.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vaccination_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vaccination_records_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vaccination_records_lot_id"), ["lot_id"], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table("vaccination_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccination_records_lot_id"))
        batch_op.drop_index(batch_op.f("ix_vaccination_records_applicant_id"))

    op.drop_table("vaccination_records")
    with op.batch_alter_table("vaccine_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccine_lots_site_id"))

    op.drop_table("vaccine_lots")
    # ### end Alembic commands ###
