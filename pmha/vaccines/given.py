"""Which live vaccines an applicant was given, for other domains' checks (the labs' TB tests).

Kept apart from `records` so the labs can ask without importing the vaccination verbs (which
themselves ask the labs for TB test dates).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.vaccines import live
from pmha.vaccines.models import RecordKind, VaccinationRecord

_DOSES = (RecordKind.ADMINISTERED, RecordKind.HISTORICAL, RecordKind.SUBPOTENT)


def interfering_live_doses(session: Session, applicant_id: uuid.UUID) -> list[tuple[date, str]]:
    """(date, CVX) of every live vaccine dose that delays a TB test by 28 days, oldest first."""
    rows = session.execute(
        select(VaccinationRecord.occurred_on, VaccinationRecord.cvx)
        .where(
            VaccinationRecord.applicant_id == applicant_id,
            VaccinationRecord.deleted_at.is_(None),
            VaccinationRecord.kind.in_(_DOSES),
        )
        .order_by(VaccinationRecord.occurred_on)
    )
    return [(day, cvx) for day, cvx in rows if live.interferes(cvx)]


def tb_test_too_soon(session: Session, applicant_id: uuid.UUID, tested: date) -> str | None:
    """Why a TB test (IGRA/TST) done on `tested` does not count, or None: it must be done the
    same day as a live vaccine or 28 days after it (BRIEF §7.4, §1.6 [C S15])."""
    for given, cvx in interfering_live_doses(session, applicant_id):
        if 0 < (tested - given).days < live.SPACING_DAYS:
            return (
                f"A live vaccine (CVX {cvx}) was given on {given.isoformat()}: a TB test is done "
                f"the same day as a live vaccine or {live.SPACING_DAYS} days after it (from "
                f"{date.fromordinal(given.toordinal() + live.SPACING_DAYS).isoformat()})."
            )
    return None
