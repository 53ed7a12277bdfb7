"""issue 20: audit events written with their own HMAC and chained later by a sealer

Events get an insertion-order key (`id`, the new primary key; existing events keep `id = seq`),
a random `event_id` and their own HMAC (`event_hmac`); `seq`, `prev_hash` and `hash` stay empty
until the sealer chains the event. The append-only triggers now let exactly one update through:
filling an unsealed event's three chain columns, every other column unchanged. Deletes,
truncation and any other update are still refused.

Revision ID: 0035
Revises: 0034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pmha.core.db

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

CHAIN = ("seq", "prev_hash", "hash")
OTHER = (
    "id", "at", "actor_id", "actor_name", "action", "record_type", "record_id", "site_id", "ip",
    "request_id", "changes", "details", "scheme", "event_id", "event_hmac",
)  # fmt: skip
OLD_OTHER = tuple(c for c in OTHER if c not in ("id", "event_id", "event_hmac"))

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION pmha_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The sealer's one update: an unsealed event gets its place in the chain, nothing else.
  IF TG_OP = 'UPDATE' THEN
    IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash')
           = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END $$;
"""
PG_FUNCTION_OLD = """
CREATE OR REPLACE FUNCTION pmha_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END $$;
"""

SQLITE_NO_DELETE = (
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)
SQLITE_NO_UPDATE_OLD = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)
SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN NOT ("
    + " AND ".join(
        [f"OLD.{c} IS NULL" for c in CHAIN]
        + [f"NEW.{c} IS NOT NULL" for c in CHAIN]
        + [f"NEW.{c} IS OLD.{c}" for c in OTHER]
    )
    + ") BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)

INDEXES = (("ix_audit_events_actor", ["actor_id"]), ("ix_audit_events_at", ["at"]),
           ("ix_audit_events_record", ["record_type", "record_id"]))  # fmt: skip


def _columns(new: bool) -> list[sa.Column[object]]:
    """audit_events' columns on SQLite, after (new) or before this revision."""
    cols: list[sa.Column[object]] = []
    if new:
        cols.append(sa.Column("id", sa.Integer(), nullable=False))
    cols += [
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=new),
        sa.Column("at", pmha.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=new),
        sa.Column("hash", sa.String(length=64), nullable=new),
        sa.Column("scheme", sa.SmallInteger(), server_default="1", nullable=False),
    ]
    if new:
        cols += [
            sa.Column("event_id", sa.Uuid(), nullable=True),
            sa.Column("event_hmac", sa.String(length=64), nullable=True),
        ]
    cols.append(sa.PrimaryKeyConstraint("id" if new else "seq"))  # type: ignore[arg-type]
    return cols


def _new_indexes() -> None:
    op.create_index("ux_audit_events_seq", "audit_events", ["seq"], unique=True)
    op.create_index("ux_audit_events_event_id", "audit_events", ["event_id"], unique=True)
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["id"],
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )


def _sqlite_rebuild(new: bool) -> None:
    """SQLite cannot change a primary key in place: copy into a table of the new shape."""
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    op.create_table("audit_events_rebuilt", *_columns(new))
    shared = ", ".join(("seq", *OLD_OTHER, "prev_hash", "hash"))
    if new:
        op.execute(
            f"INSERT INTO audit_events_rebuilt (id, {shared}) "  # noqa: S608 (our own names)
            f"SELECT seq, {shared} FROM audit_events ORDER BY seq"
        )
    else:
        copy = f"INSERT INTO audit_events_rebuilt ({shared}) SELECT {shared} FROM audit_events"  # noqa: S608
        op.execute(copy)
    op.drop_table("audit_events")
    op.rename_table("audit_events_rebuilt", "audit_events")
    for name, columns in INDEXES:
        op.create_index(name, "audit_events", columns)
    if new:
        _new_indexes()
    op.execute(SQLITE_NO_UPDATE if new else SQLITE_NO_UPDATE_OLD)
    op.execute(SQLITE_NO_DELETE)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(new=True)
        return
    op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    op.add_column("audit_events", sa.Column("id", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("event_id", sa.Uuid(), nullable=True))
    op.add_column("audit_events", sa.Column("event_hmac", sa.String(length=64), nullable=True))
    op.execute("UPDATE audit_events SET id = seq")
    op.execute("ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey")
    op.execute("ALTER TABLE audit_events ALTER COLUMN id SET NOT NULL")
    op.execute("ALTER TABLE audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id)")
    op.execute("ALTER TABLE audit_events ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
        "COALESCE((SELECT max(id) FROM audit_events), 0) + 1, false)"
    )
    for column in CHAIN:
        op.alter_column("audit_events", column, nullable=True)
    _new_indexes()
    op.execute(PG_FUNCTION)
    op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def downgrade() -> None:
    bind = op.get_bind()
    newer = bind.execute(
        sa.text("SELECT count(*) FROM audit_events WHERE scheme = 3 OR seq IS NULL")
    ).scalar()
    if newer:
        raise RuntimeError(
            "cannot downgrade below 0035: audit events of scheme 3 would no longer verify"
        )
    if bind.dialect.name == "sqlite":
        _sqlite_rebuild(new=False)
        return
    op.execute(PG_FUNCTION_OLD)
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    op.drop_index("ux_audit_events_event_id", table_name="audit_events")
    op.drop_index("ux_audit_events_seq", table_name="audit_events")
    op.execute("ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey")
    op.drop_column("audit_events", "id")
    op.drop_column("audit_events", "event_id")
    op.drop_column("audit_events", "event_hmac")
    for column in CHAIN:
        op.alter_column("audit_events", column, nullable=False)
    op.execute("ALTER TABLE audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY (seq)")
