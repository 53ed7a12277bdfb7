"""The nightly DOT check, run by Celery beat (pmha.core.tasks): no arguments, no health data."""

from __future__ import annotations

import logging

from celery import shared_task

from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import database
from pmha.tb_dot import summary
from pmha.tb_dot.context import catalogue

log = logging.getLogger("pmha.tb_dot")
NIGHTLY = "pmha.tb_dot.nightly_check"


@shared_task(name=NIGHTLY)  # type: ignore[untyped-decorator]
def nightly_check() -> dict[str, int]:
    """Flag missed doses and overdue sputum checks; idempotent (one alert per episode and day)."""
    with database().transaction() as session:
        counts = summary.nightly_check(session, catalogue())
        audit.record(session, Actor.system("tb_dot.nightly"), "check", "tb_episodes",
                     details=counts)  # fmt: skip
    log.info("tb_dot nightly check: %s", counts)
    return counts
