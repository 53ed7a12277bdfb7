"""Benchmark-only endpoints, registered when PMHA_BENCH_ENDPOINTS=1 (never in a real deployment).

They go through the same stack as the API (Flask, the request session, the commit at the edge)
but with no auth and no audit: the ceilings that benchmarks/api_load.py measures next to the real
endpoints in the same run. `/bench/row` reads one row by primary key; `/bench/write` reads it too
and inserts one row of about an audit event's size, committed durably, as every real request
writes one (issue 20). Its table, `bench_writes`, is made by the benchmark, not by a migration.
"""

from __future__ import annotations

import secrets
import uuid

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from sqlalchemy import text

from pmha.cases.models import Site
from pmha.core.db import get_session, utcnow
from pmha.core.errors import NotFound

bp = Blueprint("bench", __name__, url_prefix="/bench")

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_writes "
    "(id uuid PRIMARY KEY, at timestamptz NOT NULL, site_id uuid NOT NULL, body text NOT NULL)"
)


@bp.record_once
def _no_csrf(state: BlueprintSetupState) -> None:
    # Like the API: no cookies are read here, so there is nothing to forge.
    state.app.extensions["csrf"].exempt(bp)


@bp.get("/row/<uuid:site_id>")
def read_row(site_id: uuid.UUID) -> tuple[dict[str, str], int]:
    site = get_session().get(Site, site_id)
    if site is None:
        raise NotFound("No such row.", code="bench.not_found")
    return {"id": str(site.id), "code": site.code}, 200


@bp.post("/write/<uuid:site_id>")
def write_row(site_id: uuid.UUID) -> tuple[dict[str, str], int]:
    session = get_session()
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such row.", code="bench.not_found")
    row_id = uuid.uuid4()
    session.execute(
        text("INSERT INTO bench_writes (id, at, site_id, body) VALUES (:id, :at, :site, :body)"),
        # About an audit event's size: ids, an action, a digest and a small JSON detail.
        {"id": row_id, "at": utcnow(), "site": site.id, "body": secrets.token_hex(160)},
    )
    return {"id": str(row_id), "code": site.code}, 201
