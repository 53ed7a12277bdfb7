"""clinical facts: the signed medical history they come from

Once a signed medical history has set the facts it asks (TB history, contact, symptoms, HIV,
extrapulmonary signs, pregnancy), they change only by amending it, not on the workflow page.
Existing facts are tied to the applicant's latest signed (not superseded) medical history.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

facts = sa.table(
    "clinical_facts",
    sa.column("applicant_id", sa.Uuid()),
    sa.column("history_section_id", sa.Uuid()),
)
sections = sa.table(
    "exam_sections",
    sa.column("id", sa.Uuid()),
    sa.column("applicant_id", sa.Uuid()),
    sa.column("kind", sa.String(24)),
    sa.column("status", sa.String(12)),
    sa.column("signed_at", sa.DateTime(timezone=True)),
)


def tie_to_signed_histories(bind: sa.Connection) -> int:
    """Tie each applicant's facts to their latest signed medical history; returns how many."""
    rows = bind.execute(
        sa.select(sections.c.id, sections.c.applicant_id)
        .where(sections.c.kind == "medical_history", sections.c.status == "signed")
        .order_by(sections.c.applicant_id, sections.c.signed_at)
    ).all()
    latest = {row.applicant_id: row.id for row in rows}  # the last signed per applicant wins
    for applicant_id, section_id in latest.items():
        bind.execute(
            facts.update()
            .where(facts.c.applicant_id == applicant_id)
            .values(history_section_id=section_id)
        )
    return len(latest)


def upgrade() -> None:
    with op.batch_alter_table("clinical_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("history_section_id", sa.Uuid(), nullable=True))
    tie_to_signed_histories(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("clinical_facts", schema=None) as batch_op:
        batch_op.drop_column("history_section_id")
