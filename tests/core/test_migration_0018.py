"""Migration 0018 adds the chest X-ray's header identity, its hold state and the radiologist's
confirmation. Images already uploaded cannot be compared without re-reading their files: they
read 'not_checked' (and the viewer says so), never 'matched'; nothing else about them changes."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.test_migration_0017 import insert


def test_0018_marks_existing_xrays_not_checked(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0017")
        meta = sa.MetaData()
        meta.reflect(engine)
        for table in meta.tables.values():  # SQLite reflects UUIDs as CHAR(32)
            for column in table.columns:
                if column.name == "id" or column.name.endswith(("_id", "_by")):
                    column.type = sa.Uuid()
        with engine.begin() as conn:
            site = insert(conn, meta, "sites", id=uuid.uuid4(), code="IST", country="TR")
            case = insert(conn, meta, "family_cases", id=uuid.uuid4(), site_id=site,
                          destination="US", programme="immigrant", case_number="IST-1")  # fmt: skip
            person = insert(conn, meta, "applicants", id=uuid.uuid4(), case_id=case, sex="male",
                            relationship="principal", nationality="SY",
                            dob=date(1985, 3, 14))  # fmt: skip
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
