"""vaccinations: live-vaccine safety answers and refusals apart from waivers

The pregnancy answer of the screening before a live vaccine (None: not asked) and the note that
explains an answer differing from the clinical facts. Refusals need no change of schema: they
are already records of their own kind (`refused`, NIP002 reason), and existing ones are kept as
they are; what changed is that they no longer read as waivers (pmha.vaccines.requirements).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vaccination_records") as batch:
        batch.add_column(sa.Column("pregnant", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("screening_note", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vaccination_records") as batch:
        batch.drop_column("screening_note")
        batch.drop_column("pregnant")
