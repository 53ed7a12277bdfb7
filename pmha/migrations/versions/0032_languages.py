"""issue 18, a language per user and per document

A user may choose the language their documents default to (`users.language`), and an
applicant's own language is recorded when the desk asks (`applicants.preferred_language`): a
document is printed in the language asked for on its link, else the applicant's, else the
user's, else English. Codes as BCP 47 primary subtags (en, tr, ar); empty means not chosen.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("applicants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferred_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("applicants", schema=None) as batch_op:
        batch_op.drop_column("preferred_language")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
