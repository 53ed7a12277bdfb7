"""Migration 0024 gives the vaccination review its outcome and individual waivers (issue 15);
reviews completed before had nothing open, so they read `complete`."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0024_old_reviews_are_complete(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0023")
        with engine.begin() as conn:
            person = a_person(conn, meta, programme="immigrant", sex="female")
            insert(conn, meta, "vaccination_reviews", id=uuid.uuid4(), applicant_id=person,
                   completed_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                   requirements=[])  # fmt: skip
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0024")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT outcome, individual_waivers FROM vaccination_reviews")
            )
            assert [tuple(r) for r in rows] == [("complete", None)]
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0023")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("vaccination_reviews")}
        assert "outcome" not in columns
    finally:
        engine.dispose()
