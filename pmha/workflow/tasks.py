"""The nightly re-plan, run by Celery beat (pmha.core.tasks): reads never write, so the plans a
new day, a rule update or a registry change put out of date are kept here (and at the next
change to each applicant). No arguments, no health data."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from pmha.core.auth import Actor
from pmha.core.db import database, utcnow
from pmha.workflow import service

log = logging.getLogger("pmha.workflow")
NIGHTLY = "pmha.workflow.replan_out_of_date"


@shared_task(name=NIGHTLY)  # type: ignore[untyped-decorator]
def replan_out_of_date() -> dict[str, int]:
    """Every out-of-date plan re-planned and kept, a batch per transaction; idempotent."""
    actor = Actor.system("workflow.nightly")
    today = utcnow().date()
    looked = replanned = 0
    after = None
    while True:
        with database().transaction() as session:
            rules = current_app.extensions["pmha.rules"]
            seen, done, after = service.replan_out_of_date(
                session, actor, rules, today, after=after
            )
        looked, replanned = looked + seen, replanned + done
        if after is None:
            break
    counts = {"applicants": looked, "replanned": replanned}
    log.info("workflow nightly re-plan: %s", counts)
    return counts
