"""issue 17, bundles over the API: an imported bundle keeps the journey it carries

The arrival list filters and sorts by the flight's departure time and shows the flight, both read
from the bundle's travel/journey.json when it has one (nullable: older bundles have none).
Token scoping needs no column: a token acts as its user, and a receiving authority's user
belongs to one destination (users.destination).

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pmha.core.db

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imported_bundles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flight", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("departs_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_imported_bundles_departs_at"), ["departs_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("imported_bundles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imported_bundles_departs_at"))
        batch_op.drop_column("departs_at")
        batch_op.drop_column("flight")
