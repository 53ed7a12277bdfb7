"""Lab verbs: order tests from the plan, record consent, record results (which feed the plan)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.exams.labs import (
    LAB_CODES,
    SPECIMENS,
    Consent,
    ConsentKind,
    LabOrder,
    LabResult,
    OrderStatus,
    combined,
)
from pmha.rules import RuleBook
from pmha.rules import vocabulary as vocab
from pmha.vaccines import given
from pmha.vaccines.live import TB_TESTS
from pmha.workflow import service as workflow
from pmha.workflow.models import StepState
from pmha.workflow.roles import permission_for

TST_READ_DAYS = (2, 3)  # read 48 to 72 hours after placement


def order_tests(
    session: Session, actor: Actor, rules: RuleBook, applicant_id: uuid.UUID, codes: list[str]
) -> list[LabOrder]:
    """Order the given tests of the applicant's plan (sputum: three specimens); already ordered
    tests are not ordered twice."""
    found = workflow.current(session, actor, rules, applicant_id)
    planned = {s.code for s in found.steps if s.state != StepState.NOT_APPLICABLE}
    wrong = [c for c in codes if c not in LAB_CODES or c not in planned]
    if wrong:
        raise ValidationFailed(
            errors={
                "codes": [
                    f"Not a laboratory test of this applicant's plan: {', '.join(sorted(wrong))}."
                ]
            }
        )
    existing = {
        (o.code, o.specimen)
        for o in _orders(session, found.applicant.id)
        if o.status != OrderStatus.CANCELLED
    }
    made = []
    for code in dict.fromkeys(codes):
        for specimen in range(1, SPECIMENS.get(code, 1) + 1):
            if (code, specimen) in existing:
                continue
            order = LabOrder(
                applicant_id=found.applicant.id,
                code=code,
                specimen=specimen,
                status=OrderStatus.ORDERED,
                ordered_by=actor.user_id,
            )
            session.add(order)
            made.append(order)
    session.flush()
    for order in made:
        audit.record(
            session,
            actor,
            "create",
            "lab_order",
            order.id,
            site_id=found.applicant.case.site_id,
            details={"code": order.code, "specimen": order.specimen},
        )
    return made


def _orders(session: Session, applicant_id: uuid.UUID) -> list[LabOrder]:
    return list(
        session.scalars(
            select(LabOrder)
            .where(LabOrder.applicant_id == applicant_id)
            .order_by(LabOrder.code, LabOrder.specimen)
        )
    )


def labs(
    session: Session, actor: Actor, applicant_id: uuid.UUID
) -> list[tuple[LabOrder, LabResult | None]]:
    """The applicant's orders with their results (audited read)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    orders = _orders(session, applicant.id)
    results = {
        r.order_id: r
        for r in session.scalars(
            select(LabResult).where(LabResult.order_id.in_([o.id for o in orders]))
        )
    }
    audit.record(session, actor, "read", "labs", applicant.id, site_id=applicant.case.site_id)
    return [(o, results.get(o.id)) for o in orders]


def record_consent(
    session: Session,
    actor: Actor,
    applicant_id: uuid.UUID,
    kind: ConsentKind,
    given: bool,
    given_on: date,
) -> Consent:
    """Record the applicant's consent (or refusal) for an HIV test or an X-ray in pregnancy."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    if given_on > utcnow().date() or given_on < applicant.dob:
        raise ValidationFailed(errors={"date": ["Give the date the applicant answered."]})
    consent = Consent(
        applicant_id=applicant.id,
        kind=kind,
        given=given,
        given_on=given_on,
        recorded_by=actor.user_id,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "consent",
        consent.id,
        site_id=applicant.case.site_id,
        after={"kind": kind.value, "given": given},
    )
    return consent


def has_consent(session: Session, applicant_id: uuid.UUID, kind: ConsentKind) -> bool:
    """Whether the applicant's latest answer to this consent was yes."""
    latest = session.scalar(
        select(Consent)
        .where(Consent.applicant_id == applicant_id, Consent.kind == kind)
        .order_by(Consent.recorded_at.desc())
        .limit(1)
    )
    return bool(latest and latest.given)


def _check_details(order: LabOrder, value: str, details: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    allowed = vocab.RESULT_VALUES[order.code]
    if allowed is None:  # TST: the value is the induration in mm, read 48 to 72 h after placement
        try:
            if not 0 <= float(value) <= 100:
                raise ValueError
        except ValueError:
            errors["value"] = ["Give the induration in mm, 0 to 100."]
        placed, read = details.get("placed_on"), details.get("read_on")
        if not (isinstance(placed, date) and isinstance(read, date)):
            errors["details"] = ["Give placed_on and read_on dates for a TST."]
        elif (read - placed).days not in TST_READ_DAYS:
            errors["details"] = ["A TST is read 48 to 72 hours after it is placed."]
    elif value not in allowed:
        errors["value"] = [f"Use one of {', '.join(allowed)}."]
    return errors


def record_result(
    session: Session, actor: Actor, rules: RuleBook, order_id: uuid.UUID, data: dict[str, Any]
) -> LabResult:
    """Record the result of an ordered test; the plan hears it (for sputum, once it can)."""
    order = session.get(LabOrder, order_id)
    if order is None:
        raise NotFound("No such lab order.", code="labs.order_not_found")
    try:
        applicant = cases.load_applicant(session, actor, order.applicant_id)
    except NotFound:
        raise NotFound("No such lab order.", code="labs.order_not_found") from None
    actor.check(permission_for(order.code))
    if order.status in (OrderStatus.RESULTED, OrderStatus.CANCELLED):
        raise Conflict(f"This order is {order.status.value}.", code="labs.order_closed")
    value, day, details = str(data["value"]), data["date"], dict(data.get("details") or {})
    errors = _check_details(order, value, details)
    if day < order.ordered_at.date():
        errors["date"] = ["The result is dated before the test was ordered."]
    elif day > utcnow().date():
        errors["date"] = ["The result is dated in the future."]
    if order.code == "hiv_test":
        counselled = details.get("pre_test_counselling_on")
        if not isinstance(counselled, date) or counselled > day:
            errors["details"] = ["Give the date of pre-test counselling (on or before the result)."]
    final = details.get("final_on")
    if (
        order.code == "sputum_culture"
        and isinstance(final, date)
        and final < order.ordered_at.date()
    ):
        errors["details"] = ["The culture cannot be final before it was ordered."]
    if order.code in TB_TESTS:
        tested = details.get("placed_on") if isinstance(details.get("placed_on"), date) else None
        too_soon = given.tb_test_too_soon(
            session, applicant.id, tested or order.collected_on or day
        )
        if too_soon:
            errors["date"] = [too_soon]
    if order.code == "hiv_test" and not has_consent(session, applicant.id, ConsentKind.HIV_TEST):
        errors["consent"] = ["Record the applicant's consent to an HIV test first."]
    if errors:
        raise ValidationFailed(errors=errors)
    result = LabResult(
        order_id=order.id,
        value=value,
        result_date=day,
        recorded_by=actor.user_id,
        details={k: v.isoformat() if isinstance(v, date) else v for k, v in details.items()},
    )
    order.status = OrderStatus.RESULTED
    session.add(result)
    session.flush()
    audit.record(
        session,
        actor,
        "result",
        "lab_order",
        order.id,
        site_id=applicant.case.site_id,
        after={"value": value},
    )
    _tell_the_plan(session, actor, rules, order, result, day)
    return result


def _tell_the_plan(
    session: Session, actor: Actor, rules: RuleBook, order: LabOrder, result: LabResult, day: date
) -> None:
    siblings = [
        o
        for o in _orders(session, order.applicant_id)
        if o.code == order.code and o.status != OrderStatus.CANCELLED
    ]
    results = {
        r.order_id: r.value
        for r in session.scalars(
            select(LabResult).where(LabResult.order_id.in_([o.id for o in siblings]))
        )
    }
    if order.code in SPECIMENS:
        value = combined(order.code, [results.get(o.id) for o in siblings])
    else:
        value = results.get(order.id)
    if value is not None:
        workflow.record_result(
            session,
            actor,
            rules,
            order.applicant_id,
            {"code": order.code, "value": value, "date": day},
            owner=True,
            source=("lab_result", result.id),
        )


def tb_test_dates(session: Session, applicant_id: uuid.UUID, codes: Collection[str]) -> list[date]:
    """When each of the applicant's TB tests (IGRA, TST) was done: a TST's placement, else the
    specimen's collection, else the result's date. (Vaccination reads this: a live vaccine
    and a TB test must be given the same day or 28 days apart.)"""
    rows = session.execute(
        select(LabOrder, LabResult)
        .outerjoin(LabResult, LabResult.order_id == LabOrder.id)
        .where(
            LabOrder.applicant_id == applicant_id,
            LabOrder.code.in_(codes),
            LabOrder.status != OrderStatus.CANCELLED,
        )
    )
    dates = []
    for order, result in rows:
        placed = (result.details or {}).get("placed_on") if result is not None else None
        if isinstance(placed, str):
            dates.append(date.fromisoformat(placed))
        elif order.collected_on is not None:
            dates.append(order.collected_on)
        elif result is not None:
            dates.append(result.result_date)
    return dates
