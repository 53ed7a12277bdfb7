"""Data for migration tests: a database at a revision, rows with fillers for the columns a test
does not care about, and one applicant of a case at a site."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from pmha.core import migrate

DAY = date(2026, 3, 2)
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Float | sa.Numeric):
        return 1
    if isinstance(kind, sa.DateTime):
        return WHEN
    if isinstance(kind, sa.Date):
        return date(1990, 1, 1)
    if isinstance(kind, sa.JSON):
        return {}
    return "x"


def insert(conn: sa.Connection, meta: sa.MetaData, table: str, **values: Any) -> uuid.UUID:
    t = meta.tables[table]
    row = {
        c.name: _filler(c)
        for c in t.columns
        if not c.nullable and c.name not in values and c.server_default is None
    }
    row.update(values)
    conn.execute(t.insert().values(**row))
    return row.get("id") or row["applicant_id"]  # a table keyed by its applicant


def schema_at(engine: sa.Engine, rev: str) -> sa.MetaData:
    """Upgrade an empty database to `rev` and reflect its tables (UUID columns as UUIDs)."""
    with engine.begin() as conn:
        migrate.upgrade(connection=conn, rev=rev)
    meta = sa.MetaData()
    meta.reflect(engine)
    for table in meta.tables.values():  # SQLite reflects UUIDs as CHAR(32)
        for column in table.columns:
            if column.name == "id" or column.name.endswith(("_id", "_by")):
                column.type = sa.Uuid()
    return meta


def a_person(
    conn: sa.Connection, meta: sa.MetaData, programme: str = "refugee", **applicant: Any
) -> uuid.UUID:
    """One principal applicant (Syrian, of a US case at a site of its own in Türkiye)."""
    code = f"T{uuid.uuid4().hex[:5].upper()}"  # one site per person: codes are unique
    site = insert(conn, meta, "sites", id=uuid.uuid4(), code=code, country="TR")
    case = insert(conn, meta, "family_cases", id=uuid.uuid4(), site_id=site,
                  destination="US", programme=programme, case_number=f"{code}-1")  # fmt: skip
    values = {"relationship": "principal", "nationality": "SY", **applicant}
    return insert(conn, meta, "applicants", id=uuid.uuid4(), case_id=case, **values)
