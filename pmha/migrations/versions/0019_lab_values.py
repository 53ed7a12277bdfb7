"""labs: specimen numbers, assay values and derived interpretations

Every order gets a specimen (accession) number, existing ones too, so a result can be checked
against its order. A result records the number it named, the interpretation derived from its
values and why, and a physician's override with its reason. Existing results keep their typed
interpretation as it was, marked as entered before PMHA derived interpretations.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import pmha.core.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_LETTERS = "ACDEFGHJKLMNPQRTUVWXY3479"  # as pmha.exams.labs.new_accession
_meta = sa.MetaData()
orders = sa.Table(
    "lab_orders", _meta, sa.Column("id", sa.Uuid()), sa.Column("accession", sa.String(20))
)
results = sa.Table(
    "lab_results", _meta, sa.Column("id", sa.Uuid()), sa.Column("interpretation", sa.String(20))
)


def _accession(taken: set[str]) -> str:
    while True:
        body = "".join(secrets.choice(_LETTERS) for _ in range(8))
        number = f"L-{body[:4]}-{body[4:]}"
        if number not in taken:
            taken.add(number)
            return number


def upgrade() -> None:
    # Added NOT NULL with a placeholder default and filled in place: changing a column or adding
    # a constraint would make SQLite copy the table, which lab_results' foreign key forbids.
    with op.batch_alter_table("lab_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accession", sa.String(length=20), nullable=False, server_default="")
        )
    conn = op.get_bind()
    taken: set[str] = set()
    for (order_id,) in conn.execute(sa.select(orders.c.id)).all():
        conn.execute(
            orders.update().where(orders.c.id == order_id).values(accession=_accession(taken))
        )
    if conn.dialect.name != "sqlite":  # the app always sets it; SQLite cannot drop a default
        op.alter_column("lab_orders", "accession", server_default=None)
    op.create_index("ix_lab_orders_accession", "lab_orders", ["accession"], unique=True)

    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("specimen_number", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("derived", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("derivation", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column(
                "interpretation",  # existing results: typed before PMHA derived them
                sa.Enum(
                    "derived",
                    "overridden",
                    "entered",
                    "before_derivation",
                    name="interpretation",
                    native_enum=False,
                    length=20,
                ),
                nullable=False,
                server_default="before_derivation",
            )
        )
        batch_op.add_column(sa.Column("override_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("overridden_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("overridden_by_name", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("overridden_at", pmha.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    if conn.dialect.name != "sqlite":
        op.alter_column("lab_results", "interpretation", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        for column in (
            "overridden_at",
            "overridden_by_name",
            "overridden_by",
            "override_reason",
            "interpretation",
            "derivation",
            "derived",
            "specimen_number",
        ):
            batch_op.drop_column(column)
    op.drop_index("ix_lab_orders_accession", table_name="lab_orders")
    with op.batch_alter_table("lab_orders", schema=None) as batch_op:
        batch_op.drop_column("accession")
