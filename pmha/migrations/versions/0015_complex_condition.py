"""clinical facts: a significant complex medical condition (US PDMS before travel)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinical_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complex_condition", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinical_facts", schema=None) as batch_op:
        batch_op.drop_column("complex_condition")
