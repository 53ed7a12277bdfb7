"""exports: certificates, build jobs, bundles and their log; imported bundles

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_bundles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column("sending_site", sa.String(length=120), nullable=False),
        sa.Column("signer_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signed_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("case_number", sa.String(length=24), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("envelope_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_imported_bundles_destination"), "imported_bundles", ["destination"], unique=False
    )
    op.create_table(
        "export_certificates",
        sa.Column(
            "purpose",
            sa.Enum(
                "signing",
                "encryption",
                "decryption",
                "trusted_sender",
                name="purpose",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("destination", sa.String(length=2), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=True),
        sa.Column("not_before", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("use_from", sa.Date(), nullable=False),
        sa.Column("added_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("purpose", "destination", "fingerprint"),
    )
    op.create_index(
        op.f("ix_export_certificates_destination"),
        "export_certificates",
        ["destination"],
        unique=False,
    )
    op.create_table(
        "imported_travellers",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_names", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("clearance", sa.String(length=32), nullable=False),
        sa.Column("classifications", sa.JSON(), nullable=False),
        sa.Column("follow_up", sa.JSON(), nullable=False),
        sa.Column("fhir", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imported_bundles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_imported_travellers_import_id"), "imported_travellers", ["import_id"], unique=False
    )
    op.create_table(
        "export_bundles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("envelope_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("recipient_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["family_cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_export_bundles_case_id"), "export_bundles", ["case_id"], unique=False)
    op.create_table(
        "export_jobs",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("requested_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued", "running", "done", "failed", name="jobstate", native_enum=False, length=12
            ),
            nullable=False,
        ),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.Uuid(), nullable=True),
        sa.Column("error_code", sa.String(length=60), nullable=True),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["export_bundles.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["family_cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_export_jobs_case_id"), "export_jobs", ["case_id"], unique=False)
    op.create_table(
        "export_log",
        sa.Column("bundle_id", sa.Uuid(), nullable=False),
        sa.Column(
            "event",
            sa.Enum(
                "created",
                "downloaded",
                "delivered",
                "acknowledged",
                name="logevent",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["export_bundles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_export_log_bundle_id"), "export_log", ["bundle_id"], unique=False)


def downgrade() -> None:
    for table in (
        "export_log",
        "export_jobs",
        "export_bundles",
        "imported_travellers",
        "export_certificates",
        "imported_bundles",
    ):
        op.drop_table(table)
