"""Test setup only: settle a workflow step as its own record's service would, without the record.

The real path is the owning service (a lab result, a signed exam section, an X-ray reading, a
fitness-to-travel check, a closed treatment episode: pmha.workflow.owners). Setup that only
needs a step settled, to test something else, may use this clearly named shortcut instead.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.rules import RuleBook
from pmha.workflow import service
from pmha.workflow.commands import NewResult


def settle_as_owner(
    session: Session, who: Actor, rules: RuleBook, applicant_id: uuid.UUID, data: dict[str, Any]
) -> service.Workflow:
    """Record the step's result as its owning service would (test setup only); `data` as the
    result's schema takes it (code, value, date, treated)."""
    result = NewResult(
        code=data["code"],
        value=str(data["value"]),
        date=data["date"],
        treated=bool(data.get("treated", False)),
    )
    return service.record_result(session, who, rules, applicant_id, result, owner=True)
