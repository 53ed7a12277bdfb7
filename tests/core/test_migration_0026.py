"""Migration 0026 adds the record of which vaccination records each bundle's VXU sent (issue 15,
HL7 updates: RXA-21 U and D under the same ORC-3, CDC IG release 1.5 [S37a], BRIEF 8); records
exported before it are not known to be sent, so nothing is filled in."""

from __future__ import annotations

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import schema_at


def test_0026_adds_the_sent_records_table_and_takes_it_away(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        schema_at(engine, "0025")
        assert "hl7_sent_records" not in sa.inspect(engine).get_table_names()
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0026")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("hl7_sent_records")}
        assert columns == {
            "id", "record_id", "bundle_id", "message_control_id", "filler_order_number",
            "action", "content_sha256", "sent_at",
        }  # fmt: skip
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from hl7_sent_records")).scalar() == 0
        with engine.begin() as conn:
            migrate.downgrade(connection=conn, rev="0025")
        assert "hl7_sent_records" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
