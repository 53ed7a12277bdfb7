"""Migration 0019 gives every existing lab order a specimen number and keeps every existing
result's typed interpretation as it was, marked as entered before PMHA derived interpretations
from the values (issue 14, 4: nothing is lost)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.test_migration_0017 import DAY, WHEN, insert


def test_0019_numbers_existing_orders_and_keeps_typed_results(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0018")
        meta = sa.MetaData()
        meta.reflect(engine)
        for table in meta.tables.values():  # SQLite reflects UUIDs as CHAR(32)
            for column in table.columns:
                if column.name == "id" or column.name.endswith(("_id", "_by")):
                    column.type = sa.Uuid()
        with engine.begin() as conn:
            site = insert(conn, meta, "sites", id=uuid.uuid4(), code="IST", country="TR")
            case = insert(conn, meta, "family_cases", id=uuid.uuid4(), site_id=site,
                          destination="US", programme="refugee", case_number="IST-1")  # fmt: skip
            person = insert(conn, meta, "applicants", id=uuid.uuid4(), case_id=case, sex="male",
                            relationship="principal", nationality="SY")  # fmt: skip
            # The unsafe old entry the issue names: typed non-reactive, both tests reactive.
            syphilis = insert(conn, meta, "lab_orders", id=uuid.uuid4(), applicant_id=person,
                              code="syphilis_serology", status="resulted",
                              ordered_at=WHEN)  # fmt: skip
            insert(conn, meta, "lab_results", id=uuid.uuid4(), order_id=syphilis,
                   value="non_reactive", result_date=DAY, recorded_at=WHEN,
                   details={"treponemal": "reactive", "non_treponemal": "reactive",
                            "titre": "1:64"})  # fmt: skip
            insert(conn, meta, "lab_orders", id=uuid.uuid4(), applicant_id=person, code="igra",
                   status="ordered", ordered_at=WHEN)  # fmt: skip
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0019")
        with engine.connect() as conn:
            numbers = conn.execute(sa.text("SELECT accession FROM lab_orders")).scalars().all()
            result = conn.execute(
                sa.text("SELECT value, interpretation, derived FROM lab_results")
            ).one()
        assert len(numbers) == 2 and len(set(numbers)) == 2
        assert all(n and n.startswith("L-") for n in numbers)
        # kept as typed, visibly not derived: the page says so and no derivation is invented
        assert tuple(result) == ("non_reactive", "before_derivation", None)
    finally:
        engine.dispose()
