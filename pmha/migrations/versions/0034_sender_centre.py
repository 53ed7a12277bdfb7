"""issue 19, a bundle's sending centre tied to its signer: a trusted sender's certificate names
the centre (site code) it signs for; an import whose manifest names another centre is refused.

Certificates registered before have none: bundles they sign are refused until the authority
registers them again with the centre's code (`pmha exports add-certificate trusted_sender ...
--sender CODE`).

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("export_certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_code", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("export_certificates", schema=None) as batch_op:
        batch_op.drop_column("sender_code")
