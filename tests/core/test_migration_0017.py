"""Migration 0017 carries results typed on the workflow page over to their own records.

Lab results typed on the workflow page before there was one record per fact become a lab order
and a lab result (marked as carried over), so the Labs tab shows them and nothing is lost;
results that came from a record are linked to it; the rest stay as they were.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine

DAY = date(2026, 3, 2)
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Float | sa.Numeric):
        return 1
    if isinstance(kind, sa.DateTime):
        return WHEN
    if isinstance(kind, sa.Date):
        return date(1990, 1, 1)
    if isinstance(kind, sa.JSON):
        return {}
    return "x"


def insert(conn: sa.Connection, meta: sa.MetaData, table: str, **values: Any) -> uuid.UUID:
    t = meta.tables[table]
    row = {
        c.name: _filler(c)
        for c in t.columns
        if not c.nullable and c.name not in values and c.server_default is None
    }
    row.update(values)
    conn.execute(t.insert().values(**row))
    return row["id"]


def test_0017_carries_typed_lab_results_over_and_links_the_rest(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0016")
        meta = sa.MetaData()
        meta.reflect(engine)
        for table in meta.tables.values():  # SQLite reflects UUIDs as CHAR(32)
            for column in table.columns:
                if column.name == "id" or column.name.endswith(("_id", "_by")):
                    column.type = sa.Uuid()
        ids: dict[str, uuid.UUID] = {}
        with engine.begin() as conn:
            site = insert(conn, meta, "sites", id=uuid.uuid4(), code="IST", country="TR")
            case = insert(conn, meta, "family_cases", id=uuid.uuid4(), site_id=site,
                          destination="US", programme="refugee", case_number="IST-1")  # fmt: skip
            person = insert(conn, meta, "applicants", id=uuid.uuid4(), case_id=case, sex="female",
                            relationship="principal", nationality="SY")  # fmt: skip
            # An IGRA ordered on the Labs tab, its result typed on the workflow page.
            open_order = insert(conn, meta, "lab_orders", id=uuid.uuid4(), applicant_id=person,
                                code="igra", status="ordered", ordered_at=WHEN)  # fmt: skip
            # A hepatitis B result entered on the Labs tab, which told the plan.
            hbv_order = insert(conn, meta, "lab_orders", id=uuid.uuid4(), applicant_id=person,
                               code="hbv_test", status="resulted", ordered_at=WHEN)  # fmt: skip
            ids["hbv_result"] = insert(conn, meta, "lab_results", id=uuid.uuid4(),
                                       order_id=hbv_order, value="negative", result_date=DAY,
                                       details={}, recorded_at=WHEN)  # fmt: skip
            section = insert(conn, meta, "exam_sections", id=uuid.uuid4(), applicant_id=person,
                             kind="physical_exam", number=1, status="signed", data={},
                             signed_at=WHEN)  # fmt: skip
            for code, value in [
                ("syphilis_serology", "non_reactive"),  # typed, no order: carried over
                ("igra", "negative"),  # typed against an open order: that order's result
                ("hbv_test", "negative"),  # from the Labs tab: linked
                ("physical_exam", "normal"),  # from the signed section: linked
                ("chest_xray", "normal"),  # typed, no reading to link: kept as it was
                ("vaccination_review", "completed"),  # no record of its own: kept
            ]:
                ids[code] = insert(conn, meta, "workflow_results", id=uuid.uuid4(),
                                   applicant_id=person, code=code, value=value, result_date=DAY,
                                   treated=False, recorded_at=WHEN)  # fmt: skip
        with engine.begin() as conn:
            migrate.upgrade(connection=conn, rev="0017")
        with engine.connect() as conn:
            results = {
                r.id: r
                for r in conn.execute(
                    sa.text("SELECT id, code, source_kind, source_id FROM workflow_results")
                )
            }
            labs = conn.execute(
                sa.text(
                    "SELECT o.id AS order_id, o.code, o.status, r.id AS result_id, r.value, "
                    "r.result_date, r.details FROM lab_orders o "
                    "LEFT JOIN lab_results r ON r.order_id = o.id ORDER BY o.code"
                )
            ).all()

        def source(code: str) -> tuple[Any, Any]:
            row = next(r for r in results.values() if r.code == code)
            return row.source_kind, row.source_id and uuid.UUID(str(row.source_id))

        by_code = {row.code: row for row in labs}
        assert set(by_code) == {"hbv_test", "igra", "syphilis_serology"}  # one new order only
        syphilis = by_code["syphilis_serology"]
        assert syphilis.status == "resulted" and syphilis.value == "non_reactive"
        assert str(syphilis.result_date)[:10] == DAY.isoformat()
        assert "carried_over" in str(syphilis.details)  # the Labs tab says where it came from
        assert source("syphilis_serology") == ("lab_result", uuid.UUID(str(syphilis.result_id)))
        igra = by_code["igra"]
        assert uuid.UUID(str(igra.order_id)) == open_order and igra.status == "resulted"
        assert igra.value == "negative"
        assert source("igra") == ("lab_result", uuid.UUID(str(igra.result_id)))
        assert source("hbv_test") == ("lab_result", ids["hbv_result"])
        assert source("physical_exam") == ("exam_section", section)
        assert source("chest_xray") == (None, None)
        assert source("vaccination_review") == (None, None)
        assert len(results) == 6  # nothing lost
    finally:
        engine.dispose()
