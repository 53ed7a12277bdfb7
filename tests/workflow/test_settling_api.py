"""Waive, mark not done and reopen through the API; the data migration that reopens old waivers.

Clinical rules: a US adult needs a chest X-ray [S1] and a refusal is not a waiver [S13f]; the
blanket vaccine waivers settle the vaccination review only [S13a].
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.audit import AuditEvent
from pmha.workflow import service
from pmha.workflow.models import Step, StepState
from tests.factories import World, applicant_data, make_case

PROBLEM = "application/problem+json"
MIGRATION = Path(__file__).resolve().parents[2] / "pmha/migrations/versions/0016_settling.py"


@pytest.fixture()
def xray(app: Any, session: Session, world: World) -> Step:
    """A US adult refugee's chest X-ray step [S1: applicants >= 15 years]."""
    case = make_case(session, world.actor("nurse"), principal=applicant_data(nationality="AF"))
    found = service.current(
        session, world.actor("panel_physician"), app.extensions["pmha.rules"], case.applicants[0].id
    )
    session.commit()
    return next(s for s in found.steps if s.code == "chest_xray")


def events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def move(client: Any, world: World, step: Step, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/steps/{step.id}/transition",
        json={"version": step.version, **body},
        headers=world.auth("radiologist"),
    )


@pytest.mark.parametrize(
    ("body", "code", "field", "words"),
    [
        (
            {"to": "waived", "waiver_reason": "refused"},
            "workflow.waiver_not_allowed",
            "waiver_reason",
            "This test cannot be waived: record its result, or mark it not done with the reason.",
        ),
        (
            {"to": "waived", "waiver_reason": "not_age_appropriate"},
            "workflow.waiver_not_allowed",
            "waiver_reason",
            "This test cannot be waived",
        ),
        (
            {"to": "not_done"},
            "workflow.not_done_reason",
            "not_done_reason",
            "Say why it was not done:",
        ),
    ],
)
def test_a_refused_move_is_422_names_the_fault_and_writes_nothing(
    client: Any,
    session: Session,
    world: World,
    xray: Step,
    body: Any,
    code: str,
    field: str,
    words: str,
) -> None:
    before = events(session)
    response = move(client, world, xray, body)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["code"] == code
    assert any(words in m for m in problem["errors"][field])
    session.expire_all()
    step = session.get(Step, xray.id)
    assert step is not None
    assert (step.state, step.version, step.waiver_reason) == (StepState.PENDING, xray.version, None)
    assert events(session) == before
    assert audit.verify(session).ok


def test_a_declined_xray_is_not_done_and_keeps_the_applicant_pending(
    client: Any, session: Session, world: World, xray: Step
) -> None:
    response = move(client, world, xray, {"to": "not_done", "not_done_reason": "declined"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    step = next(s for s in body["steps"] if s["code"] == "chest_xray")
    assert (step["state"], step["not_done_reason"]) == ("not_done", "declined")
    assert step["planned_status"] == "blocked"  # deferred: still wanted, never settled
    assert body["clearance"]["status"] == "pending"
    reopened = move(client, world, _fresh(session, xray), {"to": "pending"})
    assert reopened.status_code == 200
    step = next(s for s in reopened.get_json()["steps"] if s["code"] == "chest_xray")
    assert (step["state"], step["not_done_reason"]) == ("pending", None)
    assert audit.verify(session).ok


def _fresh(session: Session, step: Step) -> Step:
    session.expire_all()
    found = session.get(Step, step.id)
    assert found is not None
    return found


def test_the_migration_reopens_waivers_that_are_not_allowed(session: Session, xray: Step) -> None:
    """0016: a waived X-ray ('refused') goes back to pending with a note, the reason kept; a
    vaccination review waived 'not_age_appropriate' [S13a] stays waived (until 0022)."""
    spec = importlib.util.spec_from_file_location("m0016", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    xray.state, xray.waiver_reason, xray.note = StepState.WAIVED, "refused", "said no"
    review = Step(
        applicant_id=xray.applicant_id,
        code="vaccination_review",
        state=StepState.WAIVED,
        planned_status="waived",
        waiver_reason="not_age_appropriate",
    )
    session.add(review)
    session.flush()
    version = xray.version
    assert migration.reopen_disallowed_waivers(session.connection()) == 1
    session.expire_all()
    assert (xray.state, xray.waiver_reason) == (StepState.PENDING, "refused")
    assert xray.version == version + 1
    assert xray.note.startswith("Reopened (migration 0016): the waiver 'refused' is not allowed")
    assert xray.note.endswith("Earlier note: said no")
    assert review.state == StepState.WAIVED


def test_the_workflow_says_per_step_which_waivers_are_allowed(
    app: Any, client: Any, session: Session, world: World
) -> None:
    """US immigrant: the X-ray takes no waiver [S1]; nor does the vaccination review as a whole:
    blanket vaccine waivers [S13a] are per vaccine, and 'refused' never waives [S13f]."""
    case = make_case(
        session, world.actor("nurse"), programme="immigrant", principal=applicant_data()
    )
    session.commit()
    response = client.get(
        f"/api/v1/applicants/{case.applicants[0].id}/workflow", headers=world.auth("nurse")
    )
    assert response.status_code == 200
    settling = response.get_json()["settling"]
    assert settling["chest_xray"]["waivers_allowed"] == []
    assert settling["chest_xray"]["settled_by"] == "To settle it: record the Chest X-ray result."
    assert settling["vaccination_review"]["waivers_allowed"] == []
