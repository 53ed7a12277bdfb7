"""tb_dot

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tb_classifications",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("confirmed_by", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tb_classifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tb_classifications_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "tb_episodes",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "closed", name="episodestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("diagnosed_on", sa.Date(), nullable=False),
        sa.Column("disease_site", sa.String(length=16), nullable=False),
        sa.Column("susceptibility", sa.String(length=16), nullable=False),
        sa.Column("resistance", sa.String(length=200), nullable=True),
        sa.Column("cavitation", sa.Boolean(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("regimen_code", sa.String(length=20), nullable=False),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("dot_site", sa.String(length=16), nullable=False),
        sa.Column("referral_centre", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("outcome_date", sa.Date(), nullable=True),
        sa.Column("outcome_note", sa.String(length=500), nullable=True),
        sa.Column("started_by", sa.Uuid(), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tb_episodes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tb_episodes_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tb_episodes_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tb_episodes_status"), ["status"], unique=False)

    op.create_table(
        "tb_alerts",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["tb_episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("episode_id", "kind", "raised_on"),
    )
    with op.batch_alter_table("tb_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tb_alerts_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "tb_dot_observations",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("dose_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "observed",
                "missed",
                "self_administered",
                "refused",
                "adverse_event",
                name="dosestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["tb_episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("episode_id", "dose_date"),
    )
    with op.batch_alter_table("tb_dot_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tb_dot_observations_episode_id"), ["episode_id"], unique=False
        )

    op.create_table(
        "tb_sputum_checks",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column("smear", sa.String(length=16), nullable=True),
        sa.Column("culture", sa.String(length=16), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["tb_episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("episode_id", "month"),
    )
    with op.batch_alter_table("tb_sputum_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tb_sputum_checks_episode_id"), ["episode_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tb_sputum_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tb_sputum_checks_episode_id"))

    op.drop_table("tb_sputum_checks")
    with op.batch_alter_table("tb_dot_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tb_dot_observations_episode_id"))

    op.drop_table("tb_dot_observations")
    with op.batch_alter_table("tb_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tb_alerts_episode_id"))

    op.drop_table("tb_alerts")
    with op.batch_alter_table("tb_episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tb_episodes_status"))
        batch_op.drop_index(batch_op.f("ix_tb_episodes_site_id"))
        batch_op.drop_index(batch_op.f("ix_tb_episodes_applicant_id"))

    op.drop_table("tb_episodes")
    with op.batch_alter_table("tb_classifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tb_classifications_applicant_id"))

    op.drop_table("tb_classifications")
