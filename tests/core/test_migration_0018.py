"""Migration 0018 adds the chest X-ray's header identity, its hold state and the radiologist's
confirmation. Images already uploaded cannot be compared without re-reading their files: they
read 'not_checked' (and the viewer says so), never 'matched'; nothing else about them changes."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import a_person, insert, schema_at


def test_0018_marks_existing_xrays_not_checked(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0017")
        with engine.begin() as conn:
            person = a_person(conn, meta, programme="immigrant", sex="male", dob=date(1985, 3, 14))
            study = insert(conn, meta, "xray_studies", id=uuid.uuid4(), applicant_id=person,
                           sha256="a" * 64, instance_uid="1.2.3.4", modality="CR")  # fmt: skip
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0018")
        after = sa.MetaData()
        after.reflect(engine)
        studies = after.tables["xray_studies"]
        with engine.connect() as conn:
            row = conn.execute(sa.select(studies)).one()
        assert uuid.UUID(str(row.id)) == study
        assert (row.sha256, row.instance_uid, row.modality) == ("a" * 64, "1.2.3.4", "CR")
        assert row.identity_status == "not_checked"
        assert row.header_family is None and row.identity_confirmed_at is None
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0017")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("xray_studies")}
        assert "identity_status" not in columns and "header_family" not in columns
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(studies)).scalar() == 1
    finally:
        engine.dispose()
