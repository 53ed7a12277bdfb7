"""Applicants whose registry entry changed in a transaction, re-planned once when it commits.

A domain that changes what a plan depends on (the cases registry: a new applicant, a new birth
date, destination or departure) marks the applicant here; the app's handlers (the workflow's
re-plan, wired in pmha.app) run once per transaction, just before its commit, whatever number of
changes it made. Reads never re-plan: they show the plan as it would be now without writing
(pmha.workflow.service.view).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.core.db import DATABASE_KEY, PendingQueue

_CHANGED = PendingQueue("pmha_changed_applicants")

# A handler gets the session and {applicant id: the actor who changed it last}.
Handler = Callable[[Session, dict[uuid.UUID, Actor]], None]


def applicant_changed(session: Session, actor: Actor, applicant_id: uuid.UUID) -> None:
    """Mark the applicant for re-planning when this transaction commits (a rollback forgets)."""
    _CHANGED.append(session, (applicant_id, actor))


def _handlers(session: Session) -> list[Handler]:
    db: Any = session.info.get(DATABASE_KEY)
    return list(getattr(db, "on_applicants_changed", []))


def _run(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the whole transaction's commit runs them
    while items := _CHANGED.take(session):  # a handler's own marks are handled too
        for handler in _handlers(session):
            handler(session, dict(items))


# First among the before-commit listeners: a handler's audit events must be queued before the
# audit trail writes its pending rows (pmha.core.audit._write_pending).
event.listen(Session, "before_commit", _run, insert=True)
