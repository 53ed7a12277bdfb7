"""chest x-ray studies and readings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xray_studies",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("deidentified_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("study_uid", sa.String(length=64), nullable=False),
        sa.Column("series_uid", sa.String(length=64), nullable=False),
        sa.Column("instance_uid", sa.String(length=64), nullable=False),
        sa.Column("sop_class_uid", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=4), nullable=False),
        sa.Column("body_part", sa.String(length=16), nullable=True),
        sa.Column("view_position", sa.String(length=16), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("acquired_on", sa.Date(), nullable=True),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("uploaded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_uid"),
    )
    with op.batch_alter_table("xray_studies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_xray_studies_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "xray_readings",
        sa.Column("study_id", sa.Uuid(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("comments", sa.String(length=2000), nullable=True),
        sa.Column("read_by", sa.Uuid(), nullable=True),
        sa.Column("read_by_name", sa.String(length=120), nullable=False),
        sa.Column("read_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["xray_studies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("xray_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_xray_readings_study_id"), ["study_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("xray_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_xray_readings_study_id"))

    op.drop_table("xray_readings")
    with op.batch_alter_table("xray_studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_xray_studies_applicant_id"))

    op.drop_table("xray_studies")
