"""Migration 0017 carries results typed on the workflow page over to their own records.

Lab results typed on the workflow page before there was one record per fact become a lab order
and a lab result (marked as carried over), so the Labs tab shows them and nothing is lost;
results that came from a record are linked to it; the rest stay as they were.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from pmha.core import migrate
from pmha.core.db import make_engine
from tests.core.migration_data import DAY, WHEN, a_person, insert, schema_at


def test_0017_carries_typed_lab_results_over_and_links_the_rest(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        meta = schema_at(engine, "0016")
        ids: dict[str, uuid.UUID] = {}
        with engine.begin() as conn:
            person = a_person(conn, meta, programme="refugee", sex="female")
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
