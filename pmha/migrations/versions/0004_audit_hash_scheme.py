"""audit events carry their hash scheme: 1 plain SHA-256 (the first events), 2 keyed HMAC links

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
]


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy), so the append-only triggers stay in place.
    op.add_column(
        "audit_events",
        sa.Column("scheme", sa.SmallInteger(), server_default="1", nullable=False),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column("audit_events", "scheme")
        return
    # SQLite rebuilds the table to drop a column, losing its triggers: put them back.
    for name in ("audit_events_no_update", "audit_events_no_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("scheme")
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
