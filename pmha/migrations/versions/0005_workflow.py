"""workflow: clinical facts, steps, results, plans, plan changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinical_facts",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("exam_date", sa.Date(), nullable=True),
        sa.Column("pregnant", sa.Boolean(), nullable=True),
        sa.Column("gestation_weeks", sa.Integer(), nullable=True),
        sa.Column("tb_history", sa.Boolean(), nullable=True),
        sa.Column("tb_contact", sa.Boolean(), nullable=True),
        sa.Column("tb_symptoms", sa.Boolean(), nullable=True),
        sa.Column("known_hiv", sa.Boolean(), nullable=True),
        sa.Column("extrapulmonary_tb", sa.Boolean(), nullable=True),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("applicant_id"),
    )
    op.create_table(
        "workflow_plan_changes",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("planned_before", sa.String(length=16), nullable=False),
        sa.Column("planned_after", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("detected_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workflow_plan_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_plan_changes_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "workflow_plans",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("planned_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=True),
        sa.Column("rules_sha256", sa.String(length=64), nullable=True),
        sa.Column("clearance", sa.String(length=32), nullable=False),
        sa.Column("blockers", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workflow_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_plans_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_plans_planned_at"), ["planned_at"], unique=False
        )

    op.create_table(
        "workflow_results",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("result_date", sa.Date(), nullable=False),
        sa.Column("treated", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workflow_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_results_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "workflow_steps",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "in_progress",
                "done",
                "waived",
                "not_applicable",
                "blocked",
                name="stepstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("planned_status", sa.String(length=16), nullable=False),
        sa.Column("reason_rule", sa.String(length=80), nullable=True),
        sa.Column("reason_source", sa.JSON(), nullable=False),
        sa.Column("reason_detail", sa.String(length=300), nullable=False),
        sa.Column("due_by", sa.Date(), nullable=True),
        sa.Column("not_before", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("awaiting", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("waiver_reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("applicant_id", "code"),
    )
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_steps_applicant_id"), ["applicant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_steps_applicant_id"))

    op.drop_table("workflow_steps")
    with op.batch_alter_table("workflow_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_results_applicant_id"))

    op.drop_table("workflow_results")
    with op.batch_alter_table("workflow_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_plans_planned_at"))
        batch_op.drop_index(batch_op.f("ix_workflow_plans_applicant_id"))

    op.drop_table("workflow_plans")
    with op.batch_alter_table("workflow_plan_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_plan_changes_applicant_id"))

    op.drop_table("workflow_plan_changes")
    op.drop_table("clinical_facts")
