"""issue 20: X-ray previews and the de-identified copy made in a background job

The upload request validates, checks identity, hashes and stores the original; the previews
and the de-identified copy follow in a job (pmha.exams.tasks.prepare_xray). The study row says
whether they are there: `images_status` preparing, ready or failed. Every study stored before
had them made in its upload request: ready. `deidentified_sha256` is empty until the copy
exists.

Revision ID: 0037
Revises: 0036
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xray_studies") as batch:
        batch.add_column(
            sa.Column("images_status", sa.String(length=16), nullable=False, server_default="ready")
        )
        batch.alter_column("deidentified_sha256", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    # A study whose copy is not made yet keeps an empty digest (not a file's address) in the
    # NOT NULL column of before.
    studies = sa.table("xray_studies", sa.column("deidentified_sha256", sa.String()))
    op.execute(
        studies.update()
        .where(studies.c.deidentified_sha256.is_(None))
        .values(deidentified_sha256="")
    )
    with op.batch_alter_table("xray_studies") as batch:
        batch.alter_column(
            "deidentified_sha256", existing_type=sa.String(length=64), nullable=False
        )
        batch.drop_column("images_status")
