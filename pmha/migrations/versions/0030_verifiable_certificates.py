"""issue 17, verifiable certificates: the signed code as issued, and every signing key published

A clearance certificate keeps its signed code (COSE_Sign1, 'HC1:...') as issued, since a key
rotated out cannot sign it again; every public key that has signed one is recorded, so the
published key list keeps it and the certificate keeps verifying after a rotation.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
import pmha.core.db
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("travel_certificates") as batch:
        batch.add_column(sa.Column("signed_code", sa.Text(), nullable=True))
    op.create_table(
        "travel_certificate_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )


def downgrade() -> None:
    op.drop_table("travel_certificate_keys")
    with op.batch_alter_table("travel_certificates") as batch:
        batch.drop_column("signed_code")
