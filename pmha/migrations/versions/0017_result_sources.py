"""results: each workflow result links to the record it comes from

A result for a requirement that has its own record (pmha.workflow.owners) is linked to that
record. Lab results typed on the workflow page before there was one record per fact are
carried over into a lab order and result (marked as carried over in the result's details), so
the Labs tab shows them and nothing is lost. Other results typed on the workflow page stay, with
no source, and the page says they were typed there.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from pmha.core.db import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

LAB_CODES = (
    "igra", "tst", "sputum_smear", "sputum_culture", "tb_naat", "dst", "syphilis_serology",
    "gonorrhea_naat", "hiv_test", "hbv_test", "hcv_test", "urinalysis", "serum_creatinine",
    "pregnancy_test",
)  # fmt: skip
SECTIONS = ("medical_history", "physical_exam", "mental_health", "specialist_referral")
CHECKS = ("pdms", "pec", "dhc")
SPECIMENS = ("sputum_smear", "sputum_culture", "tb_naat")
# Shown on the Labs tab as "carried over from a result typed on the workflow page ...".
CARRIED_OVER = "from a result typed on the workflow page before each result had its own record"

_meta = sa.MetaData()
results = sa.Table(
    "workflow_results", _meta,
    sa.Column("id", sa.Uuid()), sa.Column("applicant_id", sa.Uuid()),
    sa.Column("code", sa.String(40)), sa.Column("value", sa.String(40)),
    sa.Column("result_date", sa.Date()), sa.Column("recorded_by", sa.Uuid()),
    sa.Column("recorded_at", UTCDateTime(timezone=True)),
    sa.Column("source_kind", sa.String(24)), sa.Column("source_id", sa.Uuid()),
)  # fmt: skip
orders = sa.Table(
    "lab_orders", _meta,
    sa.Column("id", sa.Uuid()), sa.Column("applicant_id", sa.Uuid()),
    sa.Column("code", sa.String(40)), sa.Column("specimen", sa.Integer()),
    sa.Column("status", sa.String(12)), sa.Column("ordered_at", UTCDateTime(timezone=True)),
    sa.Column("ordered_by", sa.Uuid()),
)  # fmt: skip
lab_results = sa.Table(
    "lab_results", _meta,
    sa.Column("id", sa.Uuid()), sa.Column("order_id", sa.Uuid()),
    sa.Column("value", sa.String(40)), sa.Column("details", sa.JSON()),
    sa.Column("result_date", sa.Date()), sa.Column("recorded_by", sa.Uuid()),
    sa.Column("recorded_at", UTCDateTime(timezone=True)),
)  # fmt: skip
sections = sa.Table(
    "exam_sections", _meta,
    sa.Column("id", sa.Uuid()), sa.Column("applicant_id", sa.Uuid()),
    sa.Column("kind", sa.String(24)), sa.Column("status", sa.String(12)),
    sa.Column("signed_at", UTCDateTime(timezone=True)),
)  # fmt: skip
studies = sa.Table(
    "xray_studies", _meta, sa.Column("id", sa.Uuid()), sa.Column("applicant_id", sa.Uuid())
)
readings = sa.Table(
    "xray_readings", _meta,
    sa.Column("id", sa.Uuid()), sa.Column("study_id", sa.Uuid()),
    sa.Column("decision", sa.String(24)), sa.Column("read_at", UTCDateTime(timezone=True)),
)  # fmt: skip
checks = sa.Table(
    "travel_checks", _meta,
    sa.Column("id", sa.Uuid()), sa.Column("applicant_id", sa.Uuid()),
    sa.Column("kind", sa.String(8)), sa.Column("outcome", sa.String(24)),
    sa.Column("checked_at", UTCDateTime(timezone=True)),
)  # fmt: skip
episodes = sa.Table(
    "tb_episodes", _meta,
    sa.Column("id", sa.Uuid()), sa.Column("applicant_id", sa.Uuid()),
    sa.Column("outcome", sa.String(24)), sa.Column("outcome_date", sa.Date()),
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("workflow_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_kind", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("source_id", sa.Uuid(), nullable=True))
    conn = op.get_bind()
    for row in conn.execute(sa.select(results).order_by(results.c.recorded_at)).all():
        source = _source_of(conn, row)
        if source is not None:
            conn.execute(
                results.update()
                .where(results.c.id == row.id)
                .values(source_kind=source[0], source_id=source[1])
            )


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _latest(
    conn: sa.Connection, query: sa.Select[Any], day: date, when: sa.ColumnElement[Any]
) -> Any:
    """The id of the newest row of the query dated on the result's day, else None."""
    for found_id, found_when in conn.execute(query.add_columns(when).order_by(when.desc())):
        if _day(found_when) == day:
            return found_id
    return None


def _source_of(conn: sa.Connection, row: Any) -> tuple[str, uuid.UUID] | None:
    """The record a kept workflow result comes from (a lab result typed on the workflow page
    is carried over into an order and a result first)."""
    day = row.result_date
    if row.code in LAB_CODES:
        mine = sa.select(lab_results.c.id).join(orders, orders.c.id == lab_results.c.order_id)
        mine = mine.where(orders.c.applicant_id == row.applicant_id, orders.c.code == row.code)
        if row.code not in SPECIMENS:  # several specimens tell the plan one combined value
            mine = mine.where(lab_results.c.value == row.value)
        found = _latest(conn, mine, day, lab_results.c.result_date)
        return ("lab_result", found or _carry_over(conn, row))
    if row.code in SECTIONS:
        query = sa.select(sections.c.id).where(
            sections.c.applicant_id == row.applicant_id,
            sections.c.kind == row.code,
            sections.c.status.in_(("signed", "superseded")),
        )
        found = _latest(conn, query, day, sections.c.signed_at)
        return ("exam_section", found) if found else None
    if row.code == "chest_xray":
        query = (
            sa.select(readings.c.id)
            .join(studies, studies.c.id == readings.c.study_id)
            .where(studies.c.applicant_id == row.applicant_id, readings.c.decision == row.value)
        )
        found = _latest(conn, query, day, readings.c.read_at)
        return ("xray_reading", found) if found else None
    if row.code in CHECKS:
        query = sa.select(checks.c.id).where(
            checks.c.applicant_id == row.applicant_id, checks.c.kind == row.code
        )
        found = _latest(conn, query, day, checks.c.checked_at)
        return ("fitness_check", found) if found else None
    if row.code == "tb_treatment_dot":
        query = sa.select(episodes.c.id).where(
            episodes.c.applicant_id == row.applicant_id, episodes.c.outcome == row.value
        )
        found = _latest(conn, query, day, episodes.c.outcome_date)
        return ("tb_episode", found) if found else None
    return None


def _carry_over(conn: sa.Connection, row: Any) -> uuid.UUID:
    """An order and a result for a lab result typed on the workflow page: the order open for
    that test if there is one, else a new one (the next specimen number)."""
    open_order = conn.execute(
        sa.select(orders.c.id)
        .where(
            orders.c.applicant_id == row.applicant_id,
            orders.c.code == row.code,
            orders.c.status.in_(("ordered", "collected")),
        )
        .order_by(orders.c.specimen)
    ).first()
    if open_order is not None:
        order_id = open_order.id
        conn.execute(orders.update().where(orders.c.id == order_id).values(status="resulted"))
    else:
        last = conn.execute(
            sa.select(sa.func.max(orders.c.specimen)).where(
                orders.c.applicant_id == row.applicant_id, orders.c.code == row.code
            )
        ).scalar()
        order_id = uuid.uuid4()
        conn.execute(
            orders.insert().values(
                id=order_id,
                applicant_id=row.applicant_id,
                code=row.code,
                specimen=(last or 0) + 1,
                status="resulted",
                ordered_at=row.recorded_at or datetime.now(UTC),
                ordered_by=row.recorded_by,
            )
        )
    result_id = uuid.uuid4()
    conn.execute(
        lab_results.insert().values(
            id=result_id,
            order_id=order_id,
            value=row.value,
            details={"carried_over": CARRIED_OVER},
            result_date=row.result_date,
            recorded_by=row.recorded_by,
            recorded_at=row.recorded_at or datetime.now(UTC),
        )
    )
    return result_id


def downgrade() -> None:
    # Carried-over lab orders and results stay: they hold results that were recorded.
    with op.batch_alter_table("workflow_results", schema=None) as batch_op:
        batch_op.drop_column("source_id")
        batch_op.drop_column("source_kind")
