"""The demo's results, each through its own record (one record per fact, pmha.workflow.owners).

A lab result is recorded on its order, as the Labs tab does, so that the Labs tab, the
workflow and the exports of the demo agree. The seed writes history: an order is dated on the
day of the result it carries when that day is in the past (a request never does this).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pmha.core.auth import Actor, Role
from pmha.core.db import utcnow
from pmha.exams import lab_service
from pmha.exams.commands import NewLabResult
from pmha.exams.labs import LAB_CODES, ConsentKind, OrderStatus
from pmha.rules import RuleBook
from pmha.vaccines import review
from pmha.workflow import service as workflow
from pmha.workflow.commands import NewResult
from pmha.workflow.roles import group_of

IGRA_VALUES: dict[str, dict[str, Any]] = {
    "negative": {"assay": "QFT-Plus", "nil": 0.1, "tb1": 0.12, "tb2": 0.15, "mitogen": 6.2},
    "positive": {"assay": "QFT-Plus", "nil": 0.1, "tb1": 1.4, "tb2": 1.9, "mitogen": 6.5},
    "indeterminate": {"assay": "QFT-Plus", "nil": 0.2, "tb1": 0.2, "tb2": 0.2, "mitogen": 0.3},
}


def lab_result(
    session: Session,
    clinic: Mapping[Role, Actor],
    rules: RuleBook,
    applicant_id: uuid.UUID,
    code: str,
    value: str,
    day: date,
) -> workflow.Workflow:
    """Order the test (every specimen) and record `value` on each open order, dated `day`."""
    assert code in LAB_CODES, code
    physician = clinic[Role.PANEL_PHYSICIAN]
    who = clinic[Role.LAB_TECHNICIAN if group_of(code) == "lab" else Role.NURSE]
    lab_service.order_tests(session, physician, rules, applicant_id, [code])
    if code == "hiv_test" and not lab_service.has_consent(
        session, applicant_id, ConsentKind.HIV_TEST
    ):
        lab_service.record_consent(
            session, physician, applicant_id, ConsentKind.HIV_TEST, True, day
        )
    open_orders = [
        order
        for order, result in lab_service.labs(session, physician, applicant_id)
        if order.code == code and result is None and order.status != OrderStatus.CANCELLED
    ]
    for order in open_orders:
        if order.ordered_at.date() > day:  # history: ordered on the day of its result
            order.ordered_at = datetime.combine(day, time(8, 0), tzinfo=UTC)
        details: dict[str, Any] = {}
        if code == "tst":
            details = {"placed_on": day - timedelta(days=2), "read_on": day}
        if code == "hiv_test":
            details = {"pre_test_counselling_on": day}
        if code == "syphilis_serology" and value == "non_reactive":  # reverse algorithm [S12c]
            details = {"treponemal": "non_reactive"}
        if code == "syphilis_serology" and value == "reactive":
            details = {"treponemal": "reactive", "non_treponemal": "reactive", "titre": "1:16"}
        if code == "igra":  # values that give `value` (QFT-Plus cut-offs, labs/assays.toml)
            details = IGRA_VALUES[value]
        data: dict[str, Any] = {"value": value, "date": day, "details": details}
        accession = getattr(order, "accession", None)
        if accession:  # the specimen number on the tube's label, where orders carry one
            data["specimen_number"] = accession
        lab_service.record_result(session, who, rules, order.id, NewLabResult(**data))
    return workflow.current(session, physician, rules, applicant_id)


# Makes the record (a signed section, a read X-ray) behind a result, or returns None when the
# seed cannot: pmha.demo's, which signs and reads as the demo clinicians.
Maker = Callable[[uuid.UUID, str, str, date], "workflow.Workflow | None"]


def settle(
    session: Session,
    clinic: Mapping[Role, Actor],
    rules: RuleBook,
    applicant_id: uuid.UUID,
    code: str,
    value: str,
    day: date,
    make: Maker | None = None,
) -> workflow.Workflow:
    """The demo's result for a step, through its own record where the seed can make one."""
    made = make(applicant_id, code, value, day) if make is not None else None
    if made is not None:
        return made
    if code in LAB_CODES:
        return lab_result(session, clinic, rules, applicant_id, code, value, day)
    if code == review.CODE and day == utcnow().date():
        try:  # the nurse's review, once every required vaccine is settled
            review.complete_review(session, clinic[Role.NURSE], rules, applicant_id)
            return workflow.current(session, clinic[Role.NURSE], rules, applicant_id)
        except review.ReviewOpen:
            pass  # a vaccine is still open: settled without the record, as below
    who = clinic[RECORDERS.get(group_of(code), Role.PANEL_PHYSICIAN)]
    data = NewResult(code=code, value=value, date=day)
    # Exam sections and chest X-rays the maker could not make (no maker; an applicant of
    # another site than the demo clinicians'; a result dated in the past, which a record made
    # today cannot carry) are settled as their owners would, without the record: the workflow
    # page says "no record linked". Steps with no record of their own (the vaccination review,
    # ...) take the generic result.
    return workflow.record_result(
        session, who, rules, applicant_id, data, owner=code in workflow.RECORDED_ELSEWHERE
    )


RECORDERS = {
    "physician": Role.PANEL_PHYSICIAN,
    "nurse": Role.NURSE,
    "radiology": Role.RADIOLOGIST,
    "lab": Role.LAB_TECHNICIAN,
}
