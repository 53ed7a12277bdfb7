"""search keys v2 (spelling keys per script) and trigram indexes for name search on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_applicants_search_text_trgm": "search_text",
    "ix_applicants_search_keys_trgm": "search_skeletons",
}


def _recompute_keys() -> None:
    # Backfill with today's key function: rows written before this revision used v1 outlines.
    from pmha.cases.names import search_keys

    bind = op.get_bind()
    table = sa.table(
        "applicants",
        sa.column("id", sa.Uuid()),
        sa.column("family_name", sa.String()),
        sa.column("given_names", sa.String()),
        sa.column("family_name_original", sa.String()),
        sa.column("given_names_original", sa.String()),
        sa.column("search_skeletons", sa.String()),
    )
    rows = bind.execute(
        sa.select(
            table.c.id,
            table.c.family_name,
            table.c.given_names,
            table.c.family_name_original,
            table.c.given_names_original,
        )
    ).all()
    for row in rows:
        bind.execute(
            table.update()
            .where(table.c.id == row.id)
            .values(search_skeletons=search_keys(*row[1:]))
        )


def upgrade() -> None:
    _recompute_keys()
    if op.get_bind().dialect.name != "postgresql":
        return
    # LIKE '%term%' cannot use a b-tree; trigram GIN indexes serve it (pg_trgm is a trusted
    # extension: the database owner may create it).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON applicants USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
