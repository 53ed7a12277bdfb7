"""steps: how a requirement was settled (not done with a coded reason, allowed waivers)

A step may now be `not_done` with a coded reason, which never clears it. A waiver settles a
step only with a reason its rule file allows for it: no rule file allows one for a screening
test, and only the blanket vaccine waivers settle the vaccination review. Waived steps with any
other reason go back to `pending` with a note; the reason stays in `waiver_reason` (nothing is
lost) but no longer counts.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# As of this revision (pmha.rules.vocabulary.VACCINE_WAIVER_REASONS): frozen here on purpose.
_VACCINE_WAIVERS = (
    "not_age_appropriate",
    "contraindicated",
    "insufficient_interval",
    "not_routinely_available",
    "not_flu_season",
    "religious_or_moral_waiver",
    "evidence_of_immunity",
)
_NOTE = (
    "Reopened (migration 0016): the waiver '{reason}' is not allowed for this requirement. "
    "Record its result, or mark it not done with the reason."
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


def upgrade() -> None:
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_done_reason", sa.String(length=40), nullable=True))
    reopen_disallowed_waivers(op.get_bind())


def reopen_disallowed_waivers(bind: sa.Connection) -> int:
    """Waived steps whose reason is not allowed go back to pending with a note (the reason is
    kept in waiver_reason); returns how many."""
    rows = bind.execute(
        sa.select(
            steps.c.id, steps.c.code, steps.c.waiver_reason, steps.c.note, steps.c.version
        ).where(steps.c.state == "waived")
    ).all()
    moved = 0
    for row in rows:
        if row.code == "vaccination_review" and row.waiver_reason in _VACCINE_WAIVERS:
            continue
        note = _NOTE.format(reason=row.waiver_reason or "none given")
        if row.note:
            note = f"{note} Earlier note: {row.note}"
        bind.execute(
            steps.update()
            .where(steps.c.id == row.id)
            .values(state="pending", note=note[:500], version=row.version + 1)
        )
        moved += 1
    return moved


def downgrade() -> None:
    op.execute(sa.text("UPDATE workflow_steps SET state = 'pending' WHERE state = 'not_done'"))
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.drop_column("not_done_reason")
