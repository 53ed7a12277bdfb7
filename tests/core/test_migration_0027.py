"""Migration 0027 adds the physician's flag for urgent surveillance to the clinical facts
(Canada: report within 7 days instead of 30 for urgent or complex non-infectious TB [S28h,
S28i], BRIEF 3): existing facts keep their values and the new flag is not known yet (null), so
the shorter deadline applies until someone answers it."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0027_adds_urgent_surveillance_not_known_yet(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0026")
        with engine.begin() as conn:
            person = a_person(conn, meta, sex="male")
            insert(conn, meta, "clinical_facts", applicant_id=person, tb_history=True)
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0027")
        after = sa.MetaData()
        after.reflect(engine)
        facts = after.tables["clinical_facts"]
        with engine.connect() as conn:
            rows = {
                uuid.UUID(str(r.applicant_id)): (r.tb_history, r.urgent_surveillance)
                for r in conn.execute(
                    sa.select(facts.c.applicant_id, facts.c.tb_history, facts.c.urgent_surveillance)
                )
            }
        assert rows[person] == (True, None)
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0026")
        assert "urgent_surveillance" not in {
            c["name"] for c in sa.inspect(engine).get_columns("clinical_facts")
        }
    finally:
        engine.dispose()
