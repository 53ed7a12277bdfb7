"""Benchmark-only endpoint, registered when PMHA_BENCH_ENDPOINTS=1 (never in a real deployment).

It reads one row by primary key through the same stack as the API (Flask, the request session,
the commit at the edge) but with no auth and no audit: the ceiling that benchmarks/api_load.py
measures next to the real endpoints in the same run.
"""

from __future__ import annotations

import uuid

from flask import Blueprint

from pmha.cases.models import Site
from pmha.core.db import get_session
from pmha.core.errors import NotFound

bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.get("/row/<uuid:site_id>")
def read_row(site_id: uuid.UUID) -> tuple[dict[str, str], int]:
    site = get_session().get(Site, site_id)
    if site is None:
        raise NotFound("No such row.", code="bench.not_found")
    return {"id": str(site.id), "code": site.code}, 200
