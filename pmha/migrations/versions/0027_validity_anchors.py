"""issue 15, validity anchors and reporting tiers: the physician's flag for urgent surveillance

Canada's medical surveillance is reported within 30 days of entry, but within 7 days for urgent
or complex non-infectious TB [S28h, S28i]: the physician's judgement, kept with the clinical facts.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinical_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urgent_surveillance", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinical_facts", schema=None) as batch_op:
        batch_op.drop_column("urgent_surveillance")
