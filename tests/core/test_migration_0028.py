"""Migration 0028 adds the table of the conditions that change an applicant's vaccine schedule
(issue 16: CDSi observations with dates): empty for every applicant on file, who keep their
records; the downgrade drops it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0028_adds_vaccine_observations_empty(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0027")
        with engine.begin() as conn:
            person = a_person(conn, meta, sex="female")
            insert(conn, meta, "clinical_facts", applicant_id=person, pregnant=True)
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0028")
        after = sa.MetaData()
        after.reflect(engine)
        table = after.tables["vaccine_observations"]
        for column in table.columns:  # SQLite reflects UUIDs as CHAR(32)
            if column.name == "id" or column.name.endswith(("_id", "_by")):
                column.type = sa.Uuid()
        assert {c.name for c in table.columns} >= {
            "id", "applicant_id", "code", "begin", "end", "recorded_by", "recorded_at",
            "deleted_at", "deleted_by", "deleted_reason",
        }  # fmt: skip
        with engine.begin() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(table)) == 0
            conn.execute(
                table.insert().values(
                    id=uuid.uuid4(),
                    applicant_id=person,
                    code="004",
                    begin=date(2026, 9, 10),
                    recorded_at=datetime(2026, 12, 6, tzinfo=UTC),
                )
            )
            facts = after.tables["clinical_facts"]
            assert conn.scalar(sa.select(facts.c.pregnant)) in (True, 1)
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0027")
        assert "vaccine_observations" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
