"""Migration 0037 (issue 20): the X-ray study row says whether its previews and de-identified
copy are made (they follow the upload in a job). Every study stored before had them made in its
upload request: it is ready, its copy's digest kept; the downgrade restores the NOT NULL column."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0037_marks_every_stored_study_ready(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0036")
        with engine.begin() as conn:
            person = a_person(conn, meta)
            study = insert(
                conn, meta, "xray_studies", id=uuid.uuid4(), applicant_id=person,
                sha256="a" * 64, deidentified_sha256="b" * 64, instance_uid="1.2.3",
                uploaded_at=datetime.now(UTC),
            )  # fmt: skip
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0037")
        after = sa.MetaData()
        after.reflect(engine)
        studies = after.tables["xray_studies"]
        assert studies.c.deidentified_sha256.nullable
        with engine.begin() as conn:
            row = conn.execute(sa.select(studies)).one()
            assert row.images_status == "ready" and row.deidentified_sha256 == "b" * 64
            # A new upload's copy is not made yet.
            conn.execute(
                studies.update().where(studies.c.id == row.id).values(deidentified_sha256=None)
            )
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0036")
        before = sa.MetaData()
        before.reflect(engine)
        studies = before.tables["xray_studies"]
        assert "images_status" not in studies.c and not studies.c.deidentified_sha256.nullable
        with engine.begin() as conn:
            assert conn.execute(sa.select(studies.c.deidentified_sha256)).scalar() == ""
        assert study
    finally:
        engine.dispose()
