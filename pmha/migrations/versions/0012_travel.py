"""travel

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "travel_departures",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("carrier", sa.String(length=3), nullable=False),
        sa.Column("flight_number", sa.String(length=8), nullable=False),
        sa.Column("departs_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("route", sa.String(length=60), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("travel_departures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_travel_departures_departs_at"), ["departs_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_travel_departures_site_id"), ["site_id"], unique=False)

    op.create_table(
        "travel_bookings",
        sa.Column("departure_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["family_cases.id"],
        ),
        sa.ForeignKeyConstraint(["departure_id"], ["travel_departures.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("travel_bookings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_travel_bookings_departure_id"), ["departure_id"], unique=False
        )

    op.create_table(
        "travel_certificates",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("departure_id", sa.Uuid(), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("issued_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=120), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["departure_id"], ["travel_departures.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("travel_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_travel_certificates_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "travel_checks",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("departure_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("pdms", "pec", "dhc", name="checkkind", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("checked_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("pulse", sa.Integer(), nullable=True),
        sa.Column("systolic", sa.Integer(), nullable=True),
        sa.Column("diastolic", sa.Integer(), nullable=True),
        sa.Column("spo2", sa.Integer(), nullable=True),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("pregnancy_weeks", sa.Integer(), nullable=True),
        sa.Column("pregnancy_multiple", sa.Boolean(), nullable=False),
        sa.Column(
            "mobility",
            sa.Enum(
                "none",
                "WCHR",
                "WCHS",
                "WCHC",
                "stretcher",
                name="mobility",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("oxygen", sa.Boolean(), nullable=False),
        sa.Column("mental_state", sa.String(length=20), nullable=False),
        sa.Column("journey_medications", sa.String(length=500), nullable=True),
        sa.Column(
            "suggested",
            sa.Enum(
                "fit",
                "fit_with_conditions",
                "fit_with_escort",
                "fit_with_medical_escort",
                "deferred",
                "unfit",
                name="fitness",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "fit",
                "fit_with_conditions",
                "fit_with_escort",
                "fit_with_medical_escort",
                "deferred",
                "unfit",
                name="fitness",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("override_reason", sa.String(length=300), nullable=True),
        sa.Column("in_window", sa.Boolean(), nullable=False),
        sa.Column("carrier_rule", sa.String(length=40), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["departure_id"], ["travel_departures.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("travel_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_travel_checks_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_travel_checks_departure_id"), ["departure_id"], unique=False
        )

    op.create_table(
        "travel_escorts",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("departure_id", sa.Uuid(), nullable=False),
        sa.Column(
            "escort_type",
            sa.Enum(
                "non_medical", "nurse", "doctor", name="escorttype", native_enum=False, length=12
            ),
            nullable=False,
        ),
        sa.Column(
            "medif_status",
            sa.Enum(
                "not_needed",
                "to_send",
                "sent",
                "approved",
                "refused",
                name="medifstatus",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("plan", sa.String(length=1000), nullable=True),
        sa.Column("equipment", sa.JSON(), nullable=False),
        sa.Column("handover_note", sa.String(length=500), nullable=True),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["departure_id"], ["travel_departures.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("applicant_id", "departure_id"),
    )
    with op.batch_alter_table("travel_escorts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_travel_escorts_departure_id"), ["departure_id"], unique=False
        )

    op.create_table(
        "travel_follow_ups",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("what", sa.String(length=300), nullable=False),
        sa.Column("within_days", sa.Integer(), nullable=True),
        sa.Column("due_by", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("completed_by", sa.Uuid(), nullable=True),
        sa.Column("outcome_note", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("applicant_id", "rule_id"),
    )
    with op.batch_alter_table("travel_follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_travel_follow_ups_applicant_id"), ["applicant_id"], unique=False
        )

    op.create_table(
        "travel_treatments",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("drug", sa.String(length=80), nullable=False),
        sa.Column("dose", sa.String(length=80), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("travel_treatments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_travel_treatments_applicant_id"), ["applicant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("travel_treatments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_treatments_applicant_id"))

    op.drop_table("travel_treatments")
    with op.batch_alter_table("travel_follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_follow_ups_applicant_id"))

    op.drop_table("travel_follow_ups")
    with op.batch_alter_table("travel_escorts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_escorts_departure_id"))

    op.drop_table("travel_escorts")
    with op.batch_alter_table("travel_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_checks_departure_id"))
        batch_op.drop_index(batch_op.f("ix_travel_checks_applicant_id"))

    op.drop_table("travel_checks")
    with op.batch_alter_table("travel_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_certificates_applicant_id"))

    op.drop_table("travel_certificates")
    with op.batch_alter_table("travel_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_bookings_departure_id"))

    op.drop_table("travel_bookings")
    with op.batch_alter_table("travel_departures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_departures_site_id"))
        batch_op.drop_index(batch_op.f("ix_travel_departures_departs_at"))

    op.drop_table("travel_departures")
