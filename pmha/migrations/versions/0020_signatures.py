"""signatures: the signer's registration number and re-authenticated signing

A user gets a professional registration number (a physician cannot sign without one); a signed
exam section keeps the signer's role and registration number beside the full name, as they were
when it was signed; a confirmed TB classification and an issued clearance certificate keep the signer's line.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("registration_number", sa.String(length=40), nullable=True))
    with op.batch_alter_table("exam_sections") as batch:
        batch.add_column(sa.Column("signed_by_role", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("signed_by_registration", sa.String(length=40), nullable=True))
    with op.batch_alter_table("tb_classifications") as batch:
        batch.add_column(sa.Column("confirmed_by_name", sa.String(length=200), nullable=True))
    with op.batch_alter_table("travel_certificates") as batch:
        batch.add_column(sa.Column("issued_by_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("travel_certificates") as batch:
        batch.drop_column("issued_by_name")
    with op.batch_alter_table("tb_classifications") as batch:
        batch.drop_column("confirmed_by_name")
    with op.batch_alter_table("exam_sections") as batch:
        batch.drop_column("signed_by_registration")
        batch.drop_column("signed_by_role")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("registration_number")
