"""Migration 0023 ties each applicant's clinical facts to their latest signed medical history,
so that the facts the history set change only by amending it (issue 14, one record per fact);
facts with no signed history (entered on the workflow page) stay free."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0023_ties_facts_to_the_latest_signed_history(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0022")
        with engine.begin() as conn:
            person = a_person(conn, meta, sex="male")
            insert(conn, meta, "clinical_facts", applicant_id=person, tb_contact=False)
            ids = {}
            for name, status, day in (("old", "superseded", 1), ("new", "signed", 2),
                                      ("draft", "draft", 3)):  # fmt: skip
                ids[name] = insert(conn, meta, "exam_sections", id=uuid.uuid4(),
                                   applicant_id=person, kind="medical_history", number=day,
                                   status=status, data={},
                                   signed_at=datetime(2026, 3, day, tzinfo=UTC))  # fmt: skip
            other = a_person(conn, meta, sex="female", given_names="Lina")
            insert(conn, meta, "clinical_facts", applicant_id=other, tb_contact=True)
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0023")
        after = sa.MetaData()
        after.reflect(engine)
        facts = after.tables["clinical_facts"]
        with engine.connect() as conn:
            tied = {
                uuid.UUID(str(r.applicant_id)): r.history_section_id
                for r in conn.execute(sa.select(facts.c.applicant_id, facts.c.history_section_id))
            }
        assert uuid.UUID(str(tied[person])) == ids["new"]
        assert tied[other] is None
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0022")
        assert "history_section_id" not in {
            c["name"] for c in sa.inspect(engine).get_columns("clinical_facts")
        }
    finally:
        engine.dispose()
