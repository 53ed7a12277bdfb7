"""Lab verbs: order tests from the plan, record consent, record results (which feed the plan)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from pmha.accounts import service as accounts
from pmha.accounts import signatures
from pmha.cases import service as cases
from pmha.cases.models import Applicant, FamilyCase
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.exams import lab_ranges, lab_values
from pmha.exams.commands import NewLabResult, Reinterpretation
from pmha.exams.labs import (
    LAB_CODES,
    SPECIMENS,
    Consent,
    ConsentKind,
    Interpretation,
    LabMeasurement,
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
from pmha.workflow.commands import NewResult
from pmha.workflow.models import Step, StepState
from pmha.workflow.roles import permission_for

TST_READ_DAYS = (2, 3)  # read 48 to 72 hours after placement
FACTS = ("tb_contact", "known_hiv", "tb_history", "tb_symptoms", "extrapulmonary_tb", "pregnant")
# A physician may override these derived interpretations; a TST's is not: the plan reads the
# induration in mm against the rule file's own cut-offs, so an override would change nothing.
OVERRIDABLE = frozenset({"syphilis_serology", "igra"})


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


def _check_details(
    order: LabOrder, value: str | None, details: dict[str, Any]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    allowed = vocab.RESULT_VALUES[order.code]
    if value is None and (allowed is None or order.code not in lab_values.DERIVED_CODES):
        errors["value"] = ["Give the result."]
    elif allowed is None:  # TST: the value is the induration in mm, read 48 to 72 h after placement
        try:
            if not 0 <= float(str(value)) <= 100:
                raise ValueError
        except ValueError:
            errors["value"] = ["Give the induration in mm, 0 to 100."]
        placed, read = details.get("placed_on"), details.get("read_on")
        if not (isinstance(placed, date) and isinstance(read, date)):
            errors["details"] = ["Give placed_on and read_on dates for a TST."]
        elif (read - placed).days not in TST_READ_DAYS:
            errors["details"] = ["A TST is read 48 to 72 hours after it is placed."]
    elif value is not None and value not in allowed:
        errors["value"] = [f"Use one of {', '.join(allowed)}."]
    return errors


def _specimen_checked(session: Session, order: LabOrder, number: object) -> str:
    """The specimen number the result names, which must be its own order's (a result typed
    against another tube is someone else's result)."""
    given = str(number or "").strip().upper()
    if not given:
        raise ValidationFailed(
            "Give the specimen number from the tube's label.",
            errors={"specimen_number": ["Give the specimen number from the tube's label."]},
        )
    if given == order.accession:
        return given
    theirs = session.scalar(select(LabOrder.id).where(LabOrder.accession == given))
    text = (
        f"Specimen {given} belongs to another order, not to this one ({order.accession}): "
        "check the tube's label. Nothing was recorded."
        if theirs is not None
        else f"No order has the specimen number {given}; this order's is {order.accession}: "
        "check the tube's label. Nothing was recorded."
    )
    raise ValidationFailed(text, errors={"specimen_number": [text]}, code="labs.specimen_mismatch")


def _facts(session: Session, applicant_id: uuid.UUID) -> dict[str, bool | None]:
    found = workflow.clinical_facts(session, applicant_id)
    return {f: getattr(found, f, None) for f in FACTS}


def _dates(
    order: LabOrder, dob: date, day: date, details: dict[str, Any], collected: date | None
) -> dict[str, list[str]]:
    """Dates that cannot be true, in words."""
    errors: dict[str, list[str]] = {}
    if day > utcnow().date():
        errors["date"] = ["The result is dated in the future."]
    elif day < dob:
        errors["date"] = ["The result is dated before the applicant was born."]
    elif day < order.ordered_at.date():
        errors["date"] = ["The result is dated before the test was ordered."]
    if collected is not None:
        if collected < dob:
            errors["collected_on"] = ["The specimen is dated before the applicant was born."]
        elif collected > day:
            errors["collected_on"] = [
                "The specimen is dated after its result: a specimen is collected before it is "
                "tested."
            ]
        elif collected > utcnow().date():
            errors["collected_on"] = ["The specimen is dated in the future."]
    placed = details.get("placed_on")
    if isinstance(placed, date) and placed < dob:
        errors["placed_on"] = ["The TST is dated before the applicant was born."]
    return errors


def _derive(
    session: Session,
    applicant_id: uuid.UUID,
    order: LabOrder,
    value: str | None,
    details: dict[str, Any],
    errors: dict[str, list[str]],
) -> tuple[lab_values.Derived | None, dict[str, list[str]]]:
    """The interpretation the values give, and the contradictions (field -> words). Missing
    values join `errors`."""
    if order.code not in lab_values.DERIVED_CODES or "value" in errors:
        return None, {}
    try:
        derived = lab_values.derive(order.code, value or "", details, _facts(session, applicant_id))
    except lab_values.Incomplete as exc:
        errors.update(exc.errors)
        return None, {}
    except lab_values.Contradiction as exc:
        return None, exc.errors
    if derived is None or order.code == "tst" or value is None:
        return derived, {}
    if derived.value is None:
        return derived, {
            "value": [
                f"{derived.why} Leave the interpretation blank: a physician records it with a "
                "reason."
            ]
        }
    if value != derived.value:
        return derived, {
            "value": [
                f"The values give {_words(derived.value)} ({derived.why}); the result cannot "
                f"say {_words(value)}. A physician may override the interpretation, with a "
                "reason, once the values are recorded."
            ]
        }
    return derived, {}


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _owned_order(session: Session, actor: Actor, order_id: uuid.UUID) -> tuple[LabOrder, Applicant]:
    """The order and its applicant, at one of the actor's sites; 404 otherwise (the same answer
    whether the order does not exist or is another site's)."""
    order = session.get(LabOrder, order_id)
    if order is None:
        raise NotFound("No such lab order.", code="labs.order_not_found")
    try:
        applicant = cases.load_applicant(session, actor, order.applicant_id)
    except NotFound:
        raise NotFound("No such lab order.", code="labs.order_not_found") from None
    return order, applicant


def record_result(
    session: Session, actor: Actor, rules: RuleBook, order_id: uuid.UUID, data: NewLabResult
) -> LabResult:
    """Record the result of an ordered test; the plan hears it (for sputum, once it can)."""
    order, applicant = _owned_order(session, actor, order_id)
    actor.check(permission_for(order.code))
    if order.status in (OrderStatus.RESULTED, OrderStatus.CANCELLED):
        raise Conflict(f"This order is {order.status.value}.", code="labs.order_closed")
    number = _specimen_checked(session, order, data.specimen_number)
    typed = data.value
    value = None if typed is None or str(typed).strip() == "" else str(typed).strip()
    day, details = data.date, dict(data.details)
    collected = data.collected_on or order.collected_on
    measured, quantity_errors, value = _measured(order, applicant, day, data, value)
    errors = _check_details(order, value, details)
    if quantity_errors:  # a value missing or impossible: that is the error, not "give the result"
        errors.pop("value", None)
        errors.update(quantity_errors)
    errors.update(_dates(order, applicant.dob, day, details, collected))
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
    if order.code in TB_TESTS and "date" not in errors:
        tested = details.get("placed_on") if isinstance(details.get("placed_on"), date) else None
        too_soon = given.tb_test_too_soon(session, applicant.id, tested or collected or day)
        if too_soon:
            errors["date"] = [too_soon]
    if order.code == "hiv_test" and not has_consent(session, applicant.id, ConsentKind.HIV_TEST):
        errors["consent"] = ["Record the applicant's consent to an HIV test first."]
    derived, contradicts = _derive(session, applicant.id, order, value, details, errors)
    if contradicts:
        errors.update(contradicts)
        raise ValidationFailed(
            "The values contradict each other: "
            + " ".join(m for ms in contradicts.values() for m in ms),
            errors=errors,
            code="labs.values_contradict",
        )
    if errors:
        raise ValidationFailed(errors=errors)
    kept = value or ""
    interpretation = Interpretation.ENTERED
    if measured and lab_ranges.interpretation(measured) is not None:
        interpretation = Interpretation.DERIVED
        derived = lab_values.Derived(kept, "; ".join(m.words() for m in measured) + ".")
    elif derived is not None:
        interpretation = Interpretation.DERIVED
        if order.code != "tst":  # a TST's value stays the induration in mm: the plan reads it
            kept = derived.value or lab_values.NEEDS_REVIEW
    result = LabResult(
        order_id=order.id,
        value=kept,
        result_date=day,
        recorded_by=actor.user_id,
        details={k: v.isoformat() if isinstance(v, date) else v for k, v in details.items()},
        specimen_number=number,
        derived=derived.value if derived else None,
        derivation=derived.why[:300] if derived else None,
        interpretation=interpretation,
        performing_lab=str(data.performing_lab or "").strip()[:120] or None,
    )
    order.status = OrderStatus.RESULTED
    if collected is not None:
        order.collected_on = collected
    session.add(result)
    session.flush()
    for m in measured:
        session.add(
            LabMeasurement(
                result_id=result.id,
                analyte=m.analyte.code,
                value=m.value,
                unit=m.analyte.ucum,
                reference_low=m.low,
                reference_high=m.high,
                flag=m.flag,
            )
        )
    session.flush()
    audit.record(
        session,
        actor,
        "result",
        "lab_order",
        order.id,
        site_id=applicant.case.site_id,
        after={"value": kept, "derived": result.derived},
    )
    _tell_the_plan(session, actor, rules, order, result, day)
    return result


def _age_years(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _measured(
    order: LabOrder, applicant: Any, day: date, data: NewLabResult, value: str | None
) -> tuple[list[lab_ranges.Measured], dict[str, list[str]], str | None]:
    """A quantitative test's measured values against the applicant's reference ranges, the
    errors, and the interpretation they give (a typed one must agree; without a range for the
    applicant, the typed one stands)."""
    given = dict(data.measurements)
    if not given:
        return [], {}, value
    if order.code not in lab_ranges.PANELS:
        text = "This test records no measured values."
        return [], {"measurements": [text]}, value
    sex, age = applicant.sex.value, _age_years(applicant.dob, day)
    measured, errors = lab_ranges.measure(order.code, given, sex, age)
    if errors:
        return [], errors, value
    said = lab_ranges.interpretation(measured)
    if said is None:
        if value is None:
            errors["value"] = [
                "No reference range applies to this applicant (a child): choose the "
                "laboratory's interpretation, Normal or Abnormal."
            ]
        return measured, errors, value
    if value is not None and value != said:
        errors["value"] = [
            f"The values are {_words(said).lower()} against the reference ranges; the result "
            f"cannot say {_words(value).lower()}."
        ]
    return measured, errors, said


def measurements(
    session: Session, results: Collection[LabResult]
) -> dict[uuid.UUID, list[LabMeasurement]]:
    """The measured values of results already read (one query), by result id."""
    found: dict[uuid.UUID, list[LabMeasurement]] = {r.id: [] for r in results}
    if not found:
        return found
    for row in session.scalars(
        select(LabMeasurement).where(LabMeasurement.result_id.in_(list(found)))
    ):
        found[row.result_id].append(row)
    return found


class OverrideRefused(ValidationFailed):
    code = "labs.override_refused"


def override_interpretation(
    session: Session, actor: Actor, rules: RuleBook, order_id: uuid.UUID, data: Reinterpretation
) -> LabResult:
    """A physician replaces the interpretation derived from a result's values with their own,
    saying why (audited); the plan hears the new interpretation."""
    order, applicant = _owned_order(session, actor, order_id)
    actor.check("exams:sign")
    result = session.scalar(select(LabResult).where(LabResult.order_id == order.id))
    if result is None:
        raise Conflict("This order has no result yet.", code="labs.no_result")
    if order.code not in OVERRIDABLE or result.interpretation not in (
        Interpretation.DERIVED,
        Interpretation.OVERRIDDEN,
    ):
        text = (
            "A TST is read by the plan in mm against the destination's cut-offs: record a "
            "new TST instead."
            if order.code == "tst"
            else "This result's interpretation was typed, not derived from values: there is "
            "nothing to override."
        )
        raise OverrideRefused(text, errors={"value": [text]})
    value = str(data.value or "").strip()
    reason = str(data.reason or "").strip()
    errors: dict[str, list[str]] = {}
    allowed = vocab.RESULT_VALUES[order.code] or ()
    if value not in allowed:
        errors["value"] = [f"Choose the interpretation: {', '.join(_words(v) for v in allowed)}."]
    elif value == result.value:
        errors["value"] = [f"The interpretation is already {_words(value)}."]
    if len(reason) < 10:
        errors["reason"] = [
            "Say why the interpretation differs from what the values give (a sentence a "
            "colleague can check)."
        ]
    if errors:
        raise OverrideRefused(
            "The interpretation was not overridden: "
            + " ".join(m for ms in errors.values() for m in ms),
            errors=errors,
        )
    before = {"value": result.value, "interpretation": result.interpretation.value}
    result.value = value
    result.interpretation = Interpretation.OVERRIDDEN
    result.override_reason = reason
    # Named as on a signed record (full name, role, registration), copied: a rename changes
    # nothing; the username where the account has no professional details.
    signer, _ = signatures.preview(session, actor, "exams:sign")
    result.overridden_by = actor.user_id
    result.overridden_by_name = (
        signer.line if signer is not None else accounts.display_name(actor)
    )[:120]
    result.overridden_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "override",
        "lab_result",
        result.id,
        site_id=applicant.case.site_id,
        before=before,
        after={"value": value, "interpretation": "overridden", "reason": reason},
    )
    _tell_the_plan(session, actor, rules, order, result, result.result_date)
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
    if value is not None and value != lab_values.NEEDS_REVIEW:
        workflow.record_result(
            session,
            actor,
            rules,
            order.applicant_id,
            NewResult(code=order.code, value=value, date=day),
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


@dataclass(frozen=True)
class Awaiting:
    """An order on the lab worklist: waiting for its specimen or for its result."""

    order: LabOrder
    applicant: Applicant
    case: FamilyCase
    due: date | None  # the plan's due date, else the planned departure
    due_from: str  # "plan", "departure" or ""


def awaiting(session: Session, actor: Actor) -> list[Awaiting]:
    """Orders at the actor's sites awaiting collection or result (one query), most urgent first:
    due date (the plan's, else the departure), then the oldest order. Audited."""
    rows = session.execute(
        select(LabOrder, Applicant, FamilyCase, Step.due_by)
        .join(Applicant, Applicant.id == LabOrder.applicant_id)
        .join(FamilyCase, FamilyCase.id == Applicant.case_id)
        .outerjoin(
            Step, and_(Step.applicant_id == LabOrder.applicant_id, Step.code == LabOrder.code)
        )
        .where(
            FamilyCase.site_id.in_(actor.site_ids),
            LabOrder.status.in_([OrderStatus.ORDERED, OrderStatus.COLLECTED]),
        )
        .order_by(LabOrder.ordered_at, LabOrder.code, LabOrder.specimen)
    )
    found = [
        Awaiting(
            order,
            applicant,
            case,
            step_due or case.planned_departure,
            "plan" if step_due else ("departure" if case.planned_departure else ""),
        )
        for order, applicant, case, step_due in rows
    ]
    found.sort(key=lambda w: (w.due or date.max, w.order.ordered_at))
    audit.record(session, actor, "read", "lab_worklist", None, details={"rows": len(found)})
    return found


def mark_collected(session: Session, actor: Actor, order_id: uuid.UUID, day: date) -> LabOrder:
    """The specimen of an ordered test is taken (the order then awaits its result); audited."""
    actor.check("labs:write")
    order, applicant = _owned_order(session, actor, order_id)
    if order.status != OrderStatus.ORDERED:
        raise Conflict(
            f"This specimen is already {order.status.value}: nothing was changed.",
            code="labs.order_not_awaiting_specimen",
        )
    if day > utcnow().date():
        text = "The specimen cannot be collected in the future."
        raise ValidationFailed(text, errors={"collected_on": [text]})
    if day < order.ordered_at.date():
        text = "The specimen cannot be collected before the test was ordered."
        raise ValidationFailed(text, errors={"collected_on": [text]})
    order.status = OrderStatus.COLLECTED
    order.collected_on = day
    session.flush()
    audit.record(
        session,
        actor,
        "collect",
        "lab_order",
        order.id,
        site_id=applicant.case.site_id,
        after={"status": "collected", "collected_on": day.isoformat()},
    )
    return order
