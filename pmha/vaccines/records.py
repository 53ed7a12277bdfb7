"""Vaccination record verbs: list, record (with the checks at the point of giving), correct.

The checks (BRIEF §1.5-1.6, §7.4) name the field at fault; nothing is written when one fails.
Clinical facts (pregnancy) and TB test dates come from the workflow and lab services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.models import Applicant, Sex
from pmha.codes import CVX, MVX, NIP001, NIP002, NO_VACCINE_ADMINISTERED
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, StaleVersion, ValidationFailed
from pmha.exams import lab_service
from pmha.vaccines import live, stock
from pmha.vaccines.commands import NewVaccination
from pmha.vaccines.dosing import NO_BODY_SITE
from pmha.vaccines.models import GIVEN_HERE, RecordKind, VaccinationRecord, VaccineLot
from pmha.workflow import service as workflow

# Doses that count: a sub-potent dose does not, so repeating it the same day is not a duplicate.
COUNTED = (RecordKind.ADMINISTERED, RecordKind.HISTORICAL)
DOSES = (RecordKind.ADMINISTERED, RecordKind.HISTORICAL, RecordKind.SUBPOTENT)


@dataclass
class _Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)
    code: str | None = None

    def add(self, name: str, message: str, code: str) -> None:
        self.fields.setdefault(name, []).append(message)
        self.code = self.code or code

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationFailed(errors=self.fields, code=self.code)


def _active(session: Session, applicant_id: uuid.UUID) -> list[VaccinationRecord]:
    return list(
        session.scalars(
            select(VaccinationRecord)
            .where(
                VaccinationRecord.applicant_id == applicant_id,
                VaccinationRecord.deleted_at.is_(None),
            )
            .order_by(VaccinationRecord.occurred_on, VaccinationRecord.recorded_at)
        )
    )


def records(session: Session, actor: Actor, applicant_id: uuid.UUID) -> list[VaccinationRecord]:
    """The applicant's vaccination records, deleted ones included (audited read)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    found = list(
        session.scalars(
            select(VaccinationRecord)
            .where(VaccinationRecord.applicant_id == applicant.id)
            .order_by(VaccinationRecord.occurred_on, VaccinationRecord.recorded_at)
        )
    )
    audit.record(
        session, actor, "read", "vaccinations", applicant.id, site_id=applicant.case.site_id
    )
    return found


def _check_codes(kind: RecordKind, data: NewVaccination, errors: _Errors) -> None:
    cvx = data.cvx
    if kind is RecordKind.EVIDENCE_OF_IMMUNITY:
        if cvx not in (None, NO_VACCINE_ADMINISTERED):
            errors.add("cvx", "Evidence of immunity is recorded with CVX 998.", "vaccines.cvx")
    elif cvx not in CVX or cvx in (NO_VACCINE_ADMINISTERED, "999"):
        errors.add("cvx", "Not a known CVX vaccine code.", "vaccines.unknown_cvx")
    if data.mvx is not None and data.mvx not in MVX:
        errors.add("mvx", "Not a known MVX manufacturer code.", "vaccines.unknown_mvx")
    if kind is RecordKind.HISTORICAL and data.information_source not in set(NIP001) - {"00"}:
        errors.add(
            "information_source",
            "Choose where the historical dose is known from (a record, another provider...).",
            "vaccines.information_source",
        )
    if kind is RecordKind.REFUSED and data.refusal_reason not in NIP002:
        errors.add("refusal_reason", "Choose the reason for refusing.", "vaccines.refusal_reason")
    if kind is RecordKind.EVIDENCE_OF_IMMUNITY and not (
        data.immunity_evidence and data.immunity_disease
    ):
        errors.add(
            "immunity_disease",
            "Give the evidence (lab result or physician diagnosis) and the disease's SNOMED code.",
            "vaccines.immunity_evidence",
        )


class _Facts(Protocol):
    """What the screening reads of the workflow's clinical facts."""

    @property
    def pregnant(self) -> bool | None: ...

    @property
    def known_hiv(self) -> bool | None: ...


def asks_pregnancy(applicant: Applicant) -> bool:
    """The pregnancy question is not asked of a male applicant (issue 14, part 4)."""
    return applicant.sex is not Sex.MALE


def _check_screening(
    applicant: Applicant, data: NewVaccination, facts: _Facts | None, errors: _Errors
) -> None:
    """The questions before a live vaccine have no default: each must be answered, a pregnancy
    answer that differs from the clinical facts must be explained, and a Yes needs the
    physician's reason to give the dose anyway (BRIEF §7.4 [C S34], §1.5 [C S13a])."""
    immunosuppressed = data.immunosuppressed
    if immunosuppressed is None:
        errors.add(
            "immunosuppressed",
            "Answer the question before a live vaccine: is the applicant immunosuppressed (an "
            "illness or a treatment that weakens the immune system)?",
            "vaccines.screening_unanswered",
        )
    pregnant = data.pregnant if asks_pregnancy(applicant) else None
    on_file = facts.pregnant if facts is not None and asks_pregnancy(applicant) else None
    if asks_pregnancy(applicant) and pregnant is None:
        errors.add(
            "pregnant",
            "Answer the question before a live vaccine: is the applicant pregnant?",
            "vaccines.screening_unanswered",
        )
    elif on_file is not None and pregnant != on_file and not data.screening_note:
        said = "pregnant" if on_file else "not pregnant"
        errors.add(
            "screening_note",
            f"The clinical facts record the applicant as {said}, and the answer here differs: "
            "correct the answer, or explain why it differs (for example, delivered since).",
            "vaccines.screening_disagrees",
        )
    # Until a differing "No" is explained, the clinical facts' "pregnant" stands.
    explained = bool(data.screening_note)
    if (
        pregnant or (on_file and (pregnant is None or not explained))
    ) and not data.pregnancy_override:
        errors.add(
            "pregnancy_override",
            "A live vaccine is contraindicated in pregnancy: record the reason to give it anyway.",
            "vaccines.live_in_pregnancy",
        )
    known_hiv = facts is not None and facts.known_hiv
    if (immunosuppressed or known_hiv) and not data.immunosuppression_override:
        errors.add(
            "immunosuppression_override",
            "A live vaccine is contraindicated in immunosuppression (screening answer or known "
            "HIV infection): record the physician's reason to give it anyway.",
            "vaccines.live_in_immunosuppression",
        )


def _check_given_here(
    session: Session,
    applicant: Applicant,
    data: NewVaccination,
    day: date,
    lot: VaccineLot | None,
    existing: list[VaccinationRecord],
    errors: _Errors,
) -> None:
    when = "given_at"
    needed = ["amount", "unit", "route"]
    if data.route not in NO_BODY_SITE:
        needed.append("body_site")  # oral and nasal doses have no RXR-2 site
    for name in needed:
        if getattr(data, name) is None:
            errors.add(name, "Required for a dose given here.", "vaccines.missing")
    if lot is None:
        errors.add("lot_id", "No such lot in this site's stock.", "vaccines.lot_unknown")
        return
    if lot.cvx != data.cvx:
        errors.add("lot_id", f"This lot is of CVX {lot.cvx}.", "vaccines.lot_mismatch")
    if data.mvx is not None and lot.mvx != data.mvx:
        errors.add("mvx", f"This lot is made by {lot.mvx}.", "vaccines.lot_mismatch")
    if lot.expiry < day:
        errors.add(
            "lot_id", f"Lot {lot.lot} expired on {lot.expiry.isoformat()}.", "vaccines.lot_expired"
        )
    elif lot.quantity_left <= 0:
        errors.add("lot_id", f"Lot {lot.lot} has no doses left.", "vaccines.lot_exhausted")
    cvx = lot.cvx
    if not live.is_live(cvx):
        return
    _check_screening(applicant, data, workflow.clinical_facts(session, applicant.id), errors)
    departure = applicant.case.planned_departure
    if (
        departure is not None
        and day <= departure < day + timedelta(days=live.DEPARTURE_DAYS)
        and not data.outbreak_override
    ):
        errors.add(
            "outbreak_override",
            f"No live vaccine within 4 weeks of departure ({departure.isoformat()}) unless an "
            "outbreak is declared: record it to give the dose.",
            "vaccines.live_before_departure",
        )
    if not live.interferes(cvx):
        return
    for other in existing:
        gap = abs((other.occurred_on - day).days)
        if other.kind in DOSES and live.interferes(other.cvx) and 0 < gap < live.SPACING_DAYS:
            errors.add(
                when,
                f"Another live vaccine (CVX {other.cvx}) was given on "
                f"{other.occurred_on.isoformat()}: give live vaccines the same day or "
                f"{live.SPACING_DAYS} days apart.",
                "vaccines.live_spacing",
            )
            break
    for tested in lab_service.tb_test_dates(session, applicant.id, live.TB_TESTS):
        if 0 < (tested - day).days < live.SPACING_DAYS:
            errors.add(
                when,
                f"An IGRA/TST was done on {tested.isoformat()}: a TB test is done the same day "
                f"as a live vaccine or {live.SPACING_DAYS} days after it.",
                "vaccines.tb_test_after_live",
            )
            break


def record_vaccination(
    session: Session, actor: Actor, applicant_id: uuid.UUID, data: NewVaccination
) -> VaccinationRecord:
    """Record a dose given here, a historical or sub-potent dose, a refusal or evidence of
    immunity; a dose given here takes one dose from its lot."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    kind: RecordKind = data.kind
    errors = _Errors()
    given_at: datetime | None = data.given_at
    when = "given_at" if kind in GIVEN_HERE else "date"
    day: date | None = given_at.date() if given_at is not None else data.date
    if kind in GIVEN_HERE and given_at is None:
        errors.add("given_at", "Give the date and time the dose was given.", "vaccines.missing")
    elif kind not in GIVEN_HERE and data.date is None:
        errors.add("date", "Give the date.", "vaccines.missing")
    if kind in GIVEN_HERE and given_at is not None and given_at > utcnow():
        errors.add("given_at", "The dose cannot be given in the future.", "vaccines.future_date")
    elif day is not None and day > utcnow().date():
        errors.add(when, "The date cannot be in the future.", "vaccines.future_date")
    elif day is not None and day < applicant.dob:
        errors.add(when, "The date is before the applicant's birth.", "vaccines.before_birth")
    _check_codes(kind, data, errors)
    existing = _active(session, applicant.id)
    cvx = data.cvx
    if day is not None and kind in COUNTED and isinstance(cvx, str):
        same_day = next(
            (
                r
                for r in existing
                if r.kind in COUNTED and r.occurred_on == day and live.overlaps(r.cvx, cvx)
            ),
            None,
        )
        if same_day is not None:
            what = (
                f"A dose of CVX {cvx}"
                if same_day.cvx == cvx
                else f"CVX {same_day.cvx} ({CVX.get(same_day.cvx, '')}), which covers the same "
                "antigens,"
            )
            errors.add(
                "cvx",
                f"{what} is already recorded on {day.isoformat()}.",
                "vaccines.duplicate_dose",
            )
    lot: VaccineLot | None = None
    if kind in GIVEN_HERE and day is not None:
        lot_id = data.lot_id
        lot = session.get(VaccineLot, lot_id) if lot_id is not None else None
        if lot is not None and lot.site_id != applicant.case.site_id:
            lot = None
        _check_given_here(session, applicant, data, day, lot, existing, errors)
    errors.raise_any()
    assert day is not None
    if lot is not None:
        lot = stock.take_dose(session, lot.id, applicant.case.site_id, day)
    record = VaccinationRecord(
        applicant_id=applicant.id,
        kind=kind,
        cvx=NO_VACCINE_ADMINISTERED if kind is RecordKind.EVIDENCE_OF_IMMUNITY else cvx,
        occurred_on=day,
        given_at=given_at,
        mvx=lot.mvx if lot is not None else data.mvx,
        lot_id=lot.id if lot is not None else None,
        lot=lot.lot if lot is not None else data.lot,
        lot_expiry=lot.expiry if lot is not None else None,
        amount=data.amount if kind in GIVEN_HERE else None,
        unit=data.unit if kind in GIVEN_HERE else None,
        route=data.route if kind in GIVEN_HERE else None,
        body_site=data.body_site if kind in GIVEN_HERE else None,
        vis_published=data.vis_published,
        vis_given_on=data.vis_given_on,
        administered_by=actor.user_id if kind in GIVEN_HERE else None,
        information_source="00" if kind in GIVEN_HERE else data.information_source,
        refusal_reason=data.refusal_reason if kind is RecordKind.REFUSED else None,
        immunity_evidence=data.immunity_evidence,
        immunity_disease=data.immunity_disease,
        pregnancy_override=data.pregnancy_override,
        outbreak_override=data.outbreak_override,
        immunosuppressed=data.immunosuppressed if kind in GIVEN_HERE else None,
        immunosuppression_override=data.immunosuppression_override,
        pregnant=data.pregnant if kind in GIVEN_HERE and asks_pregnancy(applicant) else None,
        screening_note=data.screening_note if kind in GIVEN_HERE else None,
        recorded_by=actor.user_id,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "vaccination",
        record.id,
        site_id=applicant.case.site_id,
        details={"kind": kind.value, "lot_id": str(record.lot_id) if record.lot_id else None},
    )
    return record


def correct(
    session: Session, actor: Actor, record_id: uuid.UUID, reason: str, version: int
) -> VaccinationRecord:
    """Mark an erroneous record deleted, with the reason; it stays on file (never erased)."""
    record = session.get(VaccinationRecord, record_id)
    if record is None:
        raise NotFound("No such vaccination record.", code="vaccines.record_not_found")
    try:
        applicant = cases.load_applicant(session, actor, record.applicant_id)
    except NotFound:
        raise NotFound("No such vaccination record.", code="vaccines.record_not_found") from None
    if record.version != version:
        raise StaleVersion("The record was changed by someone else; reload it.")
    mark_deleted(
        session,
        actor,
        record,
        reason,
        record_type="vaccination",
        site_id=applicant.case.site_id,
        already=("This record is already marked deleted.", "vaccines.already_deleted"),
    )
    return record


class _Deletable(Protocol):
    id: Any
    deleted_at: Any
    deleted_by: Any
    deleted_reason: Any


def mark_deleted(
    session: Session,
    actor: Actor,
    row: _Deletable,
    reason: str,
    *,
    record_type: str,
    site_id: uuid.UUID,
    already: tuple[str, str],
) -> None:
    """Mark a record deleted with the reason, audited; it stays on file (never erased). A
    record already deleted is a 422 on `reason` with `already` (message, code)."""
    if row.deleted_at is not None:
        raise ValidationFailed(errors={"reason": [already[0]]}, code=already[1])
    row.deleted_at = utcnow()
    row.deleted_by = actor.user_id
    row.deleted_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        "delete",
        record_type,
        row.id,
        site_id=site_id,
        after={"deleted_reason": reason},
    )
