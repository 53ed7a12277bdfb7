"""Migration 0025 adds the residence periods (issue 15: the countries an applicant lived in,
with dates, which presumptive treatment follows, BRIEF 1.6 [S16, S17, S18]); existing applicants
keep working with none recorded, and the downgrade removes the table."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0025_adds_residence_periods(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0024")
        assert "residence_periods" not in meta.tables
        with engine.begin() as conn:
            person = a_person(conn, meta, sex="female")
        meta = schema_at(engine, "0025")
        periods = meta.tables["residence_periods"]
        with engine.begin() as conn:
            insert(
                conn,
                meta,
                "residence_periods",
                id=uuid.uuid4(),
                applicant_id=person,
                country="CD",
                started_on=date(2012, 1, 1),
                ended_on=date(2019, 6, 1),
            )
            insert(
                conn,
                meta,
                "residence_periods",
                id=uuid.uuid4(),
                applicant_id=person,
                country="UG",
                started_on=date(2019, 6, 1),
                ended_on=None,
            )
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(periods.c.country, periods.c.ended_on).order_by(periods.c.started_on)
            ).all()
        assert [(r.country, r.ended_on) for r in rows] == [("CD", date(2019, 6, 1)), ("UG", None)]
        assert {i["name"] for i in sa.inspect(engine).get_indexes("residence_periods")} == {
            "ix_residence_periods_applicant_id"
        }
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0024")
        assert "residence_periods" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
