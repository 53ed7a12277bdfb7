"""Migration 0019 gives every existing lab order a specimen number and keeps every existing
result's typed interpretation as it was, marked as entered before PMHA derived interpretations
from the values (issue 14, 4: nothing is lost)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import DAY, WHEN, a_person, insert, schema_at


def test_0019_numbers_existing_orders_and_keeps_typed_results(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0018")
        with engine.begin() as conn:
            person = a_person(conn, meta, programme="refugee", sex="male")
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
