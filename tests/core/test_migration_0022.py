"""Migration 0022 adds the vaccination review record. A review waived as a whole (a blanket
vaccine reason on the step, which 0016 let stand) goes back to pending with a note and its reason
kept: blanket waivers are per vaccine [S13a], and the review is completed on the Vaccinations tab
(issue 14, one record per fact); other steps are untouched."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0022_reopens_a_review_waived_as_a_whole(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0021")
        with engine.begin() as conn:
            person = a_person(conn, meta, programme="immigrant", sex="female")
            review = insert(conn, meta, "workflow_steps", id=uuid.uuid4(), applicant_id=person,
                            code="vaccination_review", state="waived", planned_status="waived",
                            waiver_reason="not_age_appropriate", note="over 65",
                            version=3)  # fmt: skip
            other = insert(conn, meta, "workflow_steps", id=uuid.uuid4(), applicant_id=person,
                           code="physical_exam", state="done", planned_status="done",
                           version=1)  # fmt: skip
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0022")
        steps = meta.tables["workflow_steps"]
        with engine.connect() as conn:
            rows = {
                uuid.UUID(str(r.id)): r
                for r in conn.execute(
                    sa.select(
                        steps.c.id,
                        steps.c.state,
                        steps.c.waiver_reason,
                        steps.c.note,
                        steps.c.version,
                    )
                )
            }
        kept = rows[review]
        assert (kept.state, kept.waiver_reason, kept.version) == (
            "pending",
            "not_age_appropriate",
            4,
        )
        assert kept.note.startswith("Reopened (migration 0022)")
        assert kept.note.endswith("Earlier note: over 65")
        assert (rows[other].state, rows[other].version) == ("done", 1)
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0021")
        assert "vaccination_reviews" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
