"""Migration 0021 adds the pregnancy answer of the live-vaccine screening and its note; existing
vaccination records, refusals included, are kept as they were (a refusal stays a refusal, with
its NIP002 reason, for the HL7 export), and the new answers read "not asked" on old rows."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0021_keeps_existing_refusals_and_doses(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0020")
        with engine.begin() as conn:
            person = a_person(conn, meta, programme="immigrant", sex="female")
            refusal = insert(conn, meta, "vaccination_records", id=uuid.uuid4(),
                             applicant_id=person, kind="refused", cvx="21",
                             occurred_on=date(2026, 3, 2), refusal_reason="03")  # fmt: skip
            dose = insert(conn, meta, "vaccination_records", id=uuid.uuid4(), applicant_id=person,
                          kind="administered", cvx="03", occurred_on=date(2026, 3, 2),
                          immunosuppressed=False)  # fmt: skip
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0021")
        after = sa.MetaData()
        after.reflect(engine)
        records = after.tables["vaccination_records"]
        with engine.connect() as conn:
            rows = {
                uuid.UUID(str(r.id)): r
                for r in conn.execute(
                    sa.select(
                        records.c.id,
                        records.c.kind,
                        records.c.cvx,
                        records.c.refusal_reason,
                        records.c.immunosuppressed,
                        records.c.pregnant,
                        records.c.screening_note,
                    )
                )
            }
        assert len(rows) == 2
        kept = rows[refusal]
        assert (kept.kind, kept.cvx, kept.refusal_reason) == ("refused", "21", "03")
        assert (kept.pregnant, kept.screening_note) == (None, None)
        assert (rows[dose].kind, bool(rows[dose].immunosuppressed)) == ("administered", False)
        assert rows[dose].pregnant is None
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0020")
        assert "pregnant" not in {
            c["name"] for c in sa.inspect(engine).get_columns("vaccination_records")
        }
    finally:
        engine.dispose()
