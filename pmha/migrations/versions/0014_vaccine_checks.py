"""vaccine checks: immunosuppression screening before a live vaccine

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vaccination_records") as batch:
        batch.add_column(sa.Column("immunosuppressed", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column("immunosuppression_override", sa.String(length=300), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("vaccination_records") as batch:
        batch.drop_column("immunosuppression_override")
        batch.drop_column("immunosuppressed")
