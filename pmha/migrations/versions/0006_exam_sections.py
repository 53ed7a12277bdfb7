"""exam sections

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_sections",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "medical_history",
                "physical_exam",
                "mental_health",
                "specialist_referral",
                "recommendations",
                "counselling",
                name="sectionkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "signed", "superseded", name="sectionstatus", native_enum=False, length=12
            ),
            nullable=False,
        ),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("signed_by", sa.Uuid(), nullable=True),
        sa.Column("signed_by_name", sa.String(length=120), nullable=True),
        sa.Column("signed_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("amends_id", sa.Uuid(), nullable=True),
        sa.Column("amendment_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["exam_sections.id"],
        ),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("applicant_id", "kind", "number"),
    )
    with op.batch_alter_table("exam_sections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exam_sections_applicant_id"), ["applicant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exam_sections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exam_sections_applicant_id"))

    op.drop_table("exam_sections")
