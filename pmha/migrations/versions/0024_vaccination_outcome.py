"""issue 15, vaccination outcome: the review records its outcome and the individual waivers

A review may now be completed with a required vaccine refused: it records the outcome (`complete`,
`class_a`, `refused`) and the vaccines an individual waiver covers. Reviews completed before had
nothing open, so they are `complete`.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

reviews = sa.table("vaccination_reviews", sa.column("outcome", sa.String(20)))


def upgrade() -> None:
    with op.batch_alter_table("vaccination_reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("individual_waivers", sa.JSON(), nullable=True))
    op.get_bind().execute(reviews.update().values(outcome="complete"))


def downgrade() -> None:
    with op.batch_alter_table("vaccination_reviews", schema=None) as batch_op:
        batch_op.drop_column("individual_waivers")
        batch_op.drop_column("outcome")
