"""A traveller treated for Class A TB under DOT and reclassified B0, eight months after the exam,
is still valid: the validity runs from the final TB evaluation (issue 15).

BRIEF 1.3 and 6: Class A TB is not cleared until treatment is completed under DOT, then
re-classified B0 [C S2, S3, S4]; BRIEF 1.7: 6 months from the exam [S20] would have ended two
months ago. US.toml us.validity.reclassified (3 months [S21] from the later of the exam and the
final evaluation; open question us.validity.after_treatment).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from pmha.core.auth import Role
from pmha.core.db import utcnow
from pmha.rules import add_months
from pmha.tb_dot.reclassified import MONTHS_SINCE_EXAM, make_reclassified
from pmha.workflow import clearance as cl
from pmha.workflow.validity import long_date
from tests.conftest import login
from tests.factories import World, applicant_data, make_case
from tests.tb_dot.helpers import catalogue_of, rules_of
from tests.workflow.test_pages import page_of, wf

CLINIC = (Role.PANEL_PHYSICIAN, Role.NURSE, Role.RADIOLOGIST, Role.LAB_TECHNICIAN, Role.DOT_WORKER)


def _clinic(world: World) -> dict[Role, Any]:
    return {role: world.actor(role.value) for role in CLINIC}


@pytest.fixture()
def reclassified(app: Flask, session: Session, world: World) -> Any:
    case = make_case(
        session,
        world.actor("nurse"),
        destination="US",
        programme="immigrant",
        principal=applicant_data(sex="male", given_names="Kerem", dob="1985-04-02"),
    )
    applicant = case.principal
    found = make_reclassified(
        session, _clinic(world), rules_of(app), applicant.id, catalogue_of(app)
    )
    return case, found


def _outcome(found: Any, kind: str) -> dict[str, Any]:
    return next(o for o in found.record.plan["outcomes"] if o["kind"] == kind)


def test_reclassified_after_eight_months_is_valid(reclassified: Any) -> None:
    _, found = reclassified
    today = utcnow().date()
    tb = _outcome(found, "tb_class")
    assert tb["values"] == ["class_b0"]
    validity = _outcome(found, "exam_validity")
    assert validity["trace"] == ["us.validity.reclassified"]
    assert validity["anchor"] == "result:tb_treatment_dot"
    assert validity["date"] == today.isoformat()
    assert validity["valid_until"] == add_months(today, 3).isoformat()
    assert validity["expired"] is False
    exam = add_months(today, -MONTHS_SINCE_EXAM)
    assert found.record.plan["exam_date"] == exam.isoformat()  # 6 months from it: expired [S20]
    assert add_months(exam, 6) < today
    assert found.decision.status != cl.EXPIRED
    assert not [b for b in found.decision.blockers if b.detail == "expired"]
    assert found.decision.status in (cl.CLEARED, cl.WITH_CONDITIONS), found.decision


@pytest.mark.parametrize("role", ["panel_physician", "nurse"])
def test_the_page_says_what_the_validity_runs_from(
    app: Flask, session: Session, world: World, reclassified: Any, connection: Any, role: str
) -> None:
    case, _ = reclassified
    session.commit()
    client = app.test_client()
    login(client, world.users[role].username).close()
    page = page_of(client, wf(case))
    today = utcnow().date()
    words = (
        f"valid until {long_date(add_months(today, 3))}: 3 months from the final TB "
        f"evaluation on {long_date(today)}"
    )
    assert f"Exam {words}" in page
