"""issue 20: a name search that uses an index on both engines: the applicant search-key table

Every suffix of every word of `applicants.search_text` ("t:...") and every spelling key of
`search_skeletons` ("k:...") becomes a row of `applicant_search_keys` (with the applicant's case),
b-tree indexed on (key, case_id, applicant_id), so that the search's LIKE '%word%' and key matches
become prefix ranges answered by index-only scans (pmha.cases.search).
Backfilled from the derived columns. The trigram indexes of 0003, which the planner left unused
for common names and which could not serve words under three letters or SQLite, are dropped:
they made every applicant insert update two GIN indexes.

Revision ID: 0036
Revises: 0035
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

TRIGRAM = {
    "ix_applicants_search_text_trgm": "search_text",
    "ix_applicants_search_keys_trgm": "search_skeletons",
}
BATCH = 1000


def _key_type() -> sa.types.TypeEngine[str]:
    return sa.String(610).with_variant(sa.String(610, collation="C"), "postgresql")


def upgrade() -> None:
    from pmha.cases.names import index_keys

    op.create_table(
        "applicant_search_keys",
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("key", _key_type(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["applicants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["family_cases.id"]),
        sa.PrimaryKeyConstraint("applicant_id", "key"),
    )
    keys = sa.table(
        "applicant_search_keys",
        sa.column("applicant_id", sa.Uuid()),
        sa.column("key", sa.String()),
        sa.column("case_id", sa.Uuid()),
    )
    applicants = sa.table(
        "applicants",
        sa.column("id", sa.Uuid()),
        sa.column("case_id", sa.Uuid()),
        sa.column("search_text", sa.String()),
        sa.column("search_skeletons", sa.String()),
    )
    bind = op.get_bind()
    rows: list[dict[str, object]] = []
    for applicant_id, case_id, text, skeletons in bind.execute(
        sa.select(
            applicants.c.id,
            applicants.c.case_id,
            applicants.c.search_text,
            applicants.c.search_skeletons,
        )
    ).all():
        rows.extend(
            {"applicant_id": applicant_id, "key": key, "case_id": case_id}
            for key in sorted(index_keys(text or "", skeletons or ""))
        )
        if len(rows) >= BATCH:
            bind.execute(sa.insert(keys), rows)
            rows = []
    if rows:
        bind.execute(sa.insert(keys), rows)
    # After the backfill: one sorted build instead of row-by-row index inserts.
    op.create_index(
        "ix_applicant_search_keys_key", "applicant_search_keys", ["key", "case_id", "applicant_id"]
    )
    if bind.dialect.name == "postgresql":
        for name in TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, column in TRIGRAM.items():
            op.execute(f"CREATE INDEX {name} ON applicants USING gin ({column} gin_trgm_ops)")
    op.drop_index("ix_applicant_search_keys_key", table_name="applicant_search_keys")
    op.drop_table("applicant_search_keys")
