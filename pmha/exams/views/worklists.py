"""The clinical desk's list pages and what other pages ask of the lists: chest X-rays waiting
for a reading, counts on Today, today's DOT doses on the nurse's list."""

from __future__ import annotations

from typing import Any

from flask import render_template

from pmha.core.auth import actor
from pmha.core.db import get_session, utcnow
from pmha.exams import worklists
from pmha.exams.views.common import bp, pages
from pmha.workflow import lists


@pages.get("/worklists/radiology/studies", "radiology:write")
def xray_worklist() -> Any:
    """Chest X-rays uploaded and not read yet, each leading to the viewer."""
    db, me = get_session(), actor()
    rows = worklists.xrays_to_read(db, me)
    # Below the reading list, apart: people whose chest X-ray is still to be taken (nothing to
    # read yet), so the radiology desk can upload it.
    listed = {r.applicant.id for r in rows}
    untaken = [i for i in lists.worklist(db, me, "radiology") if i.applicant.id not in listed]
    return render_template(
        "exams/xray_worklist.html",
        rows=rows,
        untaken=untaken,
        nav="today",
    )


@bp.app_template_global("worklist_count")
def worklist_count(endpoint: str) -> int | None:
    """For the Today page: how many wait on a list (at the signed-in user's sites)."""
    return worklists.count(get_session(), actor(), endpoint, utcnow().date())


@bp.app_template_global("dot_due_today")
def dot_due_today() -> list[Any]:
    """For the nurse's worklist: treatments observed at the centre whose dose today is not
    recorded yet (the DOT list's rows, audited as that list is)."""
    from pmha.tb_dot import summary
    from pmha.tb_dot.context import catalogue

    who = actor()
    if not who.can("tb_dot:read"):
        return []
    rows = summary.dot_list(get_session(), who, catalogue())
    return [r for r in rows if r.today is None and r.treatment.progress.current]
