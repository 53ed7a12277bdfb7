"""initial schema: sites, cases, applicants, users, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
import pmha.core.db


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_PG = """
CREATE FUNCTION pmha_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION pmha_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION pmha_audit_append_only();
"""
APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
]


def _append_only() -> None:
    """The trail can only grow: updates and deletes are refused by the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_PG)
    else:
        for statement in APPEND_ONLY_SQLITE:
            op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_actor", ["actor_id"], unique=False)
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_events_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sites",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("case_seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "family_cases",
        sa.Column("case_number", sa.String(length=24), nullable=False),
        sa.Column("external_ref", sa.String(length=40), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column(
            "destination",
            sa.Enum("US", "CA", "AU", "NZ", "GB", name="destination", native_enum=False),
            nullable=False,
        ),
        sa.Column(
            "programme",
            sa.Enum(
                "immigrant",
                "refugee",
                "humanitarian",
                "temporary",
                "student",
                "family_reunification",
                name="programme",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("planned_departure", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_number"),
    )
    with op.batch_alter_table("family_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_cases_site_id"), ["site_id"], unique=False)

    op.create_table(
        "login_sessions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("ended_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "panel_physician",
                "nurse",
                "radiologist",
                "lab_technician",
                "operations",
                "dot_worker",
                "receiving_authority",
                "auditor",
                "admin",
                name="role",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "role"),
    )
    op.create_table(
        "user_sites",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "site_id"),
    )
    op.create_table(
        "applicants",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_names", sa.String(length=100), nullable=False),
        sa.Column("family_name_original", sa.String(length=100), nullable=True),
        sa.Column("given_names_original", sa.String(length=100), nullable=True),
        sa.Column("dob", sa.Date(), nullable=False),
        sa.Column("dob_estimated", sa.Boolean(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum("female", "male", "unknown", name="sex", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("nationality", sa.String(length=2), nullable=False),
        sa.Column(
            "relationship",
            sa.Enum(
                "principal",
                "spouse",
                "child",
                "parent",
                "sibling",
                "grandparent",
                "grandchild",
                "other_relative",
                "other",
                name="relationship",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("search_text", sa.String(length=600), nullable=False),
        sa.Column("search_skeletons", sa.String(length=600), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["family_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("applicants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applicants_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applicants_dob"), ["dob"], unique=False)
        batch_op.create_index(
            "uq_applicants_one_principal",
            ["case_id"],
            unique=True,
            sqlite_where=sa.text("relationship = 'principal'"),
            postgresql_where=sa.text("relationship = 'principal'"),
        )

    op.create_table(
        "identity_documents",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "doc_type",
            sa.Enum(
                "passport",
                "national_id",
                "refugee_id",
                "unhcr_registration",
                "travel_document",
                "birth_certificate",
                "other",
                name="documenttype",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issuing_country", sa.String(length=2), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["applicants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("applicant_id", "doc_type", "number"),
    )
    with op.batch_alter_table("identity_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_documents_applicant_id"), ["applicant_id"], unique=False
        )

    _append_only()
    # The chain's head exists from the start, so concurrent first appends lock it, not race for it.
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP FUNCTION pmha_audit_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    with op.batch_alter_table("identity_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_documents_applicant_id"))

    op.drop_table("identity_documents")
    with op.batch_alter_table("applicants", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_applicants_one_principal",
            sqlite_where=sa.text("relationship = 'principal'"),
            postgresql_where=sa.text("relationship = 'principal'"),
        )
        batch_op.drop_index(batch_op.f("ix_applicants_dob"))
        batch_op.drop_index(batch_op.f("ix_applicants_case_id"))

    op.drop_table("applicants")
    op.drop_table("user_sites")
    op.drop_table("user_roles")
    op.drop_table("login_sessions")
    with op.batch_alter_table("family_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_cases_site_id"))

    op.drop_table("family_cases")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("sites")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_record")
        batch_op.drop_index("ix_audit_events_at")
        batch_op.drop_index("ix_audit_events_actor")

    op.drop_table("audit_events")
