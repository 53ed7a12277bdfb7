"""vaccinations: the vaccination review, the record that settles the vaccination_review step

A review waived as a whole (a blanket vaccine reason on the step, allowed by 0016) goes back to
pending with a note: each vaccine's waiver is recorded per vaccine, and the review is completed
on the Vaccinations tab once they are settled. The reason is kept.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa

import pmha.core.db
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


_NOTE = (
    "Reopened (migration 0022): the review is not waived as a whole ('{reason}'); waive each "
    "vaccine on the Vaccinations tab, then complete the review there."
)
steps = sa.table(
    "workflow_steps",
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String(40)),
    sa.column("state", sa.String(16)),
    sa.column("waiver_reason", sa.String(40)),
    sa.column("note", sa.String(500)),
    sa.column("version", sa.Integer()),
)


def reopen_waived_reviews(bind: sa.Connection) -> int:
    """Waived vaccination reviews go back to pending with a note; returns how many."""
    rows = bind.execute(
        sa.select(steps.c.id, steps.c.waiver_reason, steps.c.note, steps.c.version).where(
            steps.c.code == "vaccination_review", steps.c.state == "waived"
        )
    ).all()
    for row in rows:
        note = _NOTE.format(reason=row.waiver_reason or "none given")
        if row.note:
            note = f"{note} Earlier note: {row.note}"
        bind.execute(
            steps.update()
            .where(steps.c.id == row.id)
            .values(state="pending", note=note[:500], version=row.version + 1)
        )
    return len(rows)


def upgrade() -> None:
    op.create_table(
        "vaccination_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("completed_at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_by", sa.Uuid(), nullable=True),
        sa.Column("rules_version", sa.String(length=40), nullable=True),
        sa.Column("requirements", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vaccination_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vaccination_reviews_applicant_id"), ["applicant_id"], unique=False
        )
    reopen_waived_reviews(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("vaccination_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vaccination_reviews_applicant_id"))
    op.drop_table("vaccination_reviews")
