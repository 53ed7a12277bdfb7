"""Vaccination records: each check at the point of giving, one by one, with its source.

Every bad input is a 422 naming the field, with a stable code, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant
from pmha.core.audit import AuditEvent
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import StaleVersion, ValidationFailed
from pmha.exams.labs import LabOrder, OrderStatus
from pmha.exports.hl7 import build_vxu, validate_strict
from pmha.exports.immunization import Action, Facility
from pmha.vaccines import records, stock
from pmha.vaccines.commands import NewLot, NewVaccination
from pmha.vaccines.export import patient_of, to_immunization_records
from pmha.vaccines.models import RecordKind, VaccinationRecord, VaccineLot
from pmha.workflow.models import ClinicalFacts
from tests.factories import World, applicant_data, make_case

NOW = utcnow()
TODAY = NOW.date()
# A dose given a few minutes ago, but today (a run just after midnight UTC stays on one day).
JUST_NOW = max(
    NOW - dt.timedelta(minutes=5), NOW.replace(hour=0, minute=0, second=0, microsecond=0)
)


def _applicant(session: Session, actor: Actor, departs_in: int = 200, **who: Any) -> Applicant:
    case = make_case(
        session,
        actor,
        planned_departure=(TODAY + dt.timedelta(days=departs_in)).isoformat(),
        principal=applicant_data(**who),
    )
    assert case.principal is not None
    return case.principal


def _lot(
    session: Session,
    actor: Actor,
    cvx: str = "115",
    mvx: str = "SKB",
    expiry: dt.date | None = None,
    quantity: int = 10,
) -> VaccineLot:
    return stock.receive_lot(
        session,
        actor,
        NewLot(
            cvx=cvx,
            mvx=mvx,
            lot=f"L{uuid.uuid4().hex[:8]}",
            expiry=expiry or TODAY + dt.timedelta(days=365),
            quantity=quantity,
            received_on=TODAY - dt.timedelta(days=30),
        ),
    )


def _given(lot: VaccineLot, at: dt.datetime | None = None, **extra: Any) -> dict[str, Any]:
    """A dose given here, with the screening answers a live vaccine needs (no default since
    issue 14: the nurse answers both; here, No and No unless a test says otherwise)."""
    return {
        "immunosuppressed": False,
        "pregnant": False,
        "kind": RecordKind.ADMINISTERED,
        "cvx": lot.cvx,
        "lot_id": lot.id,
        "given_at": at or JUST_NOW,
        "amount": Decimal("0.5"),
        "unit": "mL",
        "route": "IM",
        "body_site": "LD",
        **extra,
    }


def _historical(cvx: str, day: dt.date, **extra: Any) -> dict[str, Any]:
    return {"kind": RecordKind.HISTORICAL, "cvx": cvx, "date": day, "information_source": "03"}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VaccinationRecord)) or 0


def _rejected(
    session: Session,
    actor: Actor,
    applicant: Applicant,
    data: dict[str, Any],
    field: str,
    code: str,
) -> None:
    """The record is refused with this field and code; no record is written, no dose taken."""
    before = _count(session)
    lot = session.get(VaccineLot, data["lot_id"]) if data.get("lot_id") else None
    left = lot.quantity_left if lot is not None else None
    with pytest.raises(ValidationFailed) as caught:
        records.record_vaccination(session, actor, applicant.id, NewVaccination(**data))
    assert caught.value.code == code
    assert caught.value.errors is not None and field in caught.value.errors, caught.value.errors
    assert _count(session) == before
    if lot is not None:
        session.refresh(lot)
        assert lot.quantity_left == left


# --- what is recorded ----------------------------------------------------------------------------


def test_a_dose_given_here_is_recorded_with_its_lot_and_takes_one_dose(
    session: Session, nurse: Actor, world: World
) -> None:
    """Issue 6: administered doses carry CVX, MVX, lot, expiry, amount, route, site, VIS, nurse,
    date and time; stock is decremented by administration."""
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse, quantity=3)
    data = _given(
        lot, vis_published=dt.date(2021, 8, 6), vis_given_on=TODAY, mvx="SKB"
    )  # the lot's own MVX
    made = records.record_vaccination(session, nurse, applicant.id, NewVaccination(**data))
    session.commit()
    assert (made.cvx, made.mvx, made.lot, made.lot_expiry) == ("115", "SKB", lot.lot, lot.expiry)
    assert made.administered_by == world.users["nurse"].id
    assert made.information_source == "00"
    assert lot.quantity_left == 2
    events = session.scalars(
        select(AuditEvent.action).where(AuditEvent.record_type == "vaccination")
    ).all()
    assert events == ["create"]


def test_each_other_kind_is_recorded(session: Session, nurse: Actor) -> None:
    """Historical doses with their NIP001 source, refusals (NIP002), evidence of immunity
    (lab result or physician diagnosis, SNOMED code), sub-potent doses (issue 6; BRIEF §8)."""
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse)
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_historical("03", dt.date(1990, 5, 1)))
    )
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(kind=RecordKind.REFUSED, cvx="88", date=TODAY, refusal_reason="03"),
    )
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(
            kind=RecordKind.EVIDENCE_OF_IMMUNITY,
            date=dt.date(1995, 1, 1),
            immunity_evidence="physician_diagnosis",
            immunity_disease="38907003",
        ),
    )
    sub = _given(lot, kind=RecordKind.SUBPOTENT)
    records.record_vaccination(session, nurse, applicant.id, NewVaccination(**sub))
    # A sub-potent dose does not count, so the valid repeat the same day is not a duplicate.
    records.record_vaccination(session, nurse, applicant.id, NewVaccination(**_given(lot)))
    kinds = [r.kind for r in records.records(session, nurse, applicant.id)]
    assert sorted(kinds) == sorted(
        [
            RecordKind.HISTORICAL,
            RecordKind.EVIDENCE_OF_IMMUNITY,
            RecordKind.REFUSED,
            RecordKind.SUBPOTENT,
            RecordKind.ADMINISTERED,
        ]
    )


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"kind": RecordKind.HISTORICAL, "cvx": "03", "date": TODAY}, "information_source",
         "vaccines.information_source"),
        ({"kind": RecordKind.REFUSED, "cvx": "03", "date": TODAY}, "refusal_reason",
         "vaccines.refusal_reason"),
        ({"kind": RecordKind.EVIDENCE_OF_IMMUNITY, "date": TODAY}, "immunity_disease",
         "vaccines.immunity_evidence"),
        ({"kind": RecordKind.HISTORICAL, "cvx": "03", "information_source": "01"}, "date",
         "vaccines.missing"),
        ({"kind": RecordKind.HISTORICAL, "cvx": "03", "date": dt.date(1980, 1, 1),
          "information_source": "01"}, "date", "vaccines.before_birth"),
    ],
    ids=["historical_without_source", "refusal_without_reason", "evidence_without_disease",
         "no_date", "before_birth"],
)  # fmt: skip
def test_what_each_kind_needs(
    session: Session, nurse: Actor, data: dict[str, Any], field: str, code: str
) -> None:
    """Issue 6 records (BRIEF §8.2: RXA-9 NIP001 01-08 for history, RXA-18 NIP002 for a
    refusal, OBX 59784-9 SNOMED for immunity)."""
    _rejected(session, nurse, _applicant(session, nurse), data, field, code)


# --- the checks at the point of giving -----------------------------------------------------------


def test_an_unknown_cvx_is_refused(session: Session, nurse: Actor) -> None:
    """Issue 6 'Bad input': unknown CVX (BRIEF §7.1, the CDC CVX table)."""
    applicant = _applicant(session, nurse)
    data = _historical("777", dt.date(2000, 1, 1))
    _rejected(session, nurse, applicant, data, "cvx", "vaccines.unknown_cvx")


def test_an_unknown_mvx_is_refused(session: Session, nurse: Actor) -> None:
    """Issue 6 'Bad input': unknown MVX (BRIEF §7.2, the CDC MVX table)."""
    applicant = _applicant(session, nurse)
    data = {**_historical("03", dt.date(2000, 1, 1)), "mvx": "ZZZ"}
    _rejected(session, nurse, applicant, data, "mvx", "vaccines.unknown_mvx")


def test_an_expired_lot_cannot_be_used(session: Session, nurse: Actor) -> None:
    """Issue 6: 'an expired or exhausted lot cannot be used'."""
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse, expiry=TODAY - dt.timedelta(days=1))
    _rejected(session, nurse, applicant, _given(lot), "lot_id", "vaccines.lot_expired")


def test_an_exhausted_lot_cannot_be_used(session: Session, nurse: Actor) -> None:
    """Issue 6: 'an expired or exhausted lot cannot be used'."""
    first, second = (
        _applicant(session, nurse),
        _applicant(session, nurse, given_names="Ali", dob="1992-02-02"),
    )
    lot = _lot(session, nurse, quantity=1)
    records.record_vaccination(session, nurse, first.id, NewVaccination(**_given(lot)))
    assert lot.quantity_left == 0
    _rejected(session, nurse, second, _given(lot), "lot_id", "vaccines.lot_exhausted")


def test_a_lot_of_another_site_cannot_be_used(session: Session, nurse: Actor, world: World) -> None:
    """Stock is per site: a lot of another site is not in this applicant's site's stock."""
    applicant = _applicant(session, nurse)
    theirs = _lot(session, world.actor("foreign"))
    _rejected(session, nurse, applicant, _given(theirs), "lot_id", "vaccines.lot_unknown")


def test_a_dose_in_the_future_is_refused(session: Session, nurse: Actor) -> None:
    """Issue 6 'Bad input': a date in the future."""
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse)
    later = _given(lot, at=NOW + dt.timedelta(hours=2))
    _rejected(session, nurse, applicant, later, "given_at", "vaccines.future_date")
    history = _historical("03", TODAY + dt.timedelta(days=1))
    _rejected(session, nurse, applicant, history, "date", "vaccines.future_date")


def test_a_second_dose_of_the_same_vaccine_the_same_day_is_refused(
    session: Session, nurse: Actor
) -> None:
    """Issue 6 'Bad input': a second dose of the same vaccine on the same day."""
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse)
    records.record_vaccination(session, nurse, applicant.id, NewVaccination(**_given(lot)))
    _rejected(session, nurse, applicant, _given(lot), "cvx", "vaccines.duplicate_dose")


def test_a_corrected_dose_no_longer_counts_as_a_duplicate(session: Session, nurse: Actor) -> None:
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse)
    wrong = records.record_vaccination(session, nurse, applicant.id, NewVaccination(**_given(lot)))
    records.correct(session, nurse, wrong.id, "wrong route recorded", wrong.version)
    records.record_vaccination(session, nurse, applicant.id, NewVaccination(**_given(lot)))


def _pregnant(session: Session, applicant: Applicant) -> None:
    session.add(ClinicalFacts(applicant_id=applicant.id, pregnant=True))
    session.flush()


def test_a_live_vaccine_in_pregnancy_needs_a_recorded_override(
    session: Session, nurse: Actor
) -> None:
    """BRIEF §1.5 (pregnancy is a contraindication for live vaccines [C S13a]) and §7.4
    (CDSi MMR/varicella contraindications include pregnancy [C S34])."""
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    _pregnant(session, applicant)
    mmr = _lot(session, nurse, cvx="03", mvx="MSD")
    data = _given(mmr, pregnant=True)
    _rejected(session, nurse, applicant, data, "pregnancy_override", "vaccines.live_in_pregnancy")
    reason = "rubella outbreak; benefit judged to outweigh the risk"
    made = records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**{**data, "pregnancy_override": reason})
    )
    assert made.pregnancy_override == reason


def test_a_non_live_vaccine_in_pregnancy_needs_no_override(session: Session, nurse: Actor) -> None:
    """BRIEF §7.4: the contraindication is for live vaccines (Tdap is not live)."""
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    _pregnant(session, applicant)
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_given(_lot(session, nurse)))
    )


def test_live_vaccines_are_given_the_same_day_or_28_days_apart(
    session: Session, nurse: Actor
) -> None:
    """BRIEF §7.4: a live parenteral vaccine 1-27 days after another live vaccine not given the
    same day is invalid; MMR -> varicella needs a full 28 days [C S34b]."""
    applicant = _applicant(session, nurse)
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**_historical("03", TODAY - dt.timedelta(days=27))),
    )
    varicella = _lot(session, nurse, cvx="21", mvx="MSD")
    _rejected(session, nurse, applicant, _given(varicella), "given_at", "vaccines.live_spacing")
    # 28 days after it is fine
    other = _applicant(session, nurse, given_names="Ali", dob="1992-02-02")
    records.record_vaccination(
        session, nurse, other.id, NewVaccination(**_historical("03", TODAY - dt.timedelta(days=28)))
    )
    records.record_vaccination(session, nurse, other.id, NewVaccination(**_given(varicella)))


def test_live_vaccines_the_same_day_are_fine(session: Session, nurse: Actor) -> None:
    """BRIEF §7.4: the conflict is for live vaccines 'not given the same day'."""
    applicant = _applicant(session, nurse)
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**_given(_lot(session, nurse, cvx="03", mvx="MSD"))),
    )
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**_given(_lot(session, nurse, cvx="21", mvx="MSD"))),
    )


def test_a_tb_test_within_28_days_after_a_live_vaccine_is_refused(
    session: Session, nurse: Actor
) -> None:
    """BRIEF §7.4 and §1.6: TST/IGRA the same day as a live vaccine or >= 28 days after it
    [C S15; C S29l]. Here an IGRA was collected 5 days after the (back-dated) MMR."""
    applicant = _applicant(session, nurse)
    session.add(
        LabOrder(
            applicant_id=applicant.id,
            code="igra",
            status=OrderStatus.COLLECTED,
            collected_on=TODAY - dt.timedelta(days=5),
        )
    )
    session.flush()
    mmr = _lot(session, nurse, cvx="03", mvx="MSD")
    data = _given(mmr, at=NOW - dt.timedelta(days=10))
    _rejected(session, nurse, applicant, data, "given_at", "vaccines.tb_test_after_live")
    # the same day as the IGRA is fine
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_given(mmr, at=NOW - dt.timedelta(days=5)))
    )


def test_no_live_vaccine_within_4_weeks_of_departure_without_an_outbreak(
    session: Session, nurse: Actor
) -> None:
    """BRIEF §1.6: live-virus vaccines are not routinely given < 4 weeks before departure
    (except outbreaks) [C S15]."""
    applicant = _applicant(session, nurse, departs_in=20)
    mmr = _lot(session, nurse, cvx="03", mvx="MSD")
    _rejected(
        session,
        nurse,
        applicant,
        _given(mmr),
        "outbreak_override",
        "vaccines.live_before_departure",
    )
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**_given(mmr, outbreak_override="measles outbreak declared")),
    )
    # a non-live vaccine is fine
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_given(_lot(session, nurse)))
    )


def test_several_faults_are_named_together(session: Session, nurse: Actor) -> None:
    applicant = _applicant(session, nurse, departs_in=10, sex="female", given_names="Layla")
    _pregnant(session, applicant)
    mmr = _lot(session, nurse, cvx="03", mvx="MSD")
    with pytest.raises(ValidationFailed) as caught:
        records.record_vaccination(
            session, nurse, applicant.id, NewVaccination(**_given(mmr, pregnant=True))
        )
    assert caught.value.errors is not None
    assert {"pregnancy_override", "outbreak_override"} <= set(caught.value.errors)


# --- corrections ---------------------------------------------------------------------------------


def test_a_correction_marks_the_record_deleted_and_keeps_it(session: Session, nurse: Actor) -> None:
    """Issue 6: 'an erroneous entry is marked deleted with a reason, never erased'."""
    applicant = _applicant(session, nurse)
    made = records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_historical("03", dt.date(2000, 1, 1)))
    )
    fixed = records.correct(session, nurse, made.id, "copied from the wrong card", made.version)
    assert fixed.deleted_reason == "copied from the wrong card"
    assert fixed.deleted_at is not None
    assert [r.id for r in records.records(session, nurse, applicant.id)] == [made.id]
    with pytest.raises(StaleVersion):
        records.correct(session, nurse, made.id, "again", made.version - 1)
    with pytest.raises(ValidationFailed) as caught:
        records.correct(session, nurse, made.id, "again", fixed.version)
    assert caught.value.code == "vaccines.already_deleted"


# --- the API -------------------------------------------------------------------------------------


def test_the_api_names_the_field_and_writes_nothing(
    client: FlaskClient, session: Session, world: World, nurse: Actor
) -> None:
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse, expiry=TODAY - dt.timedelta(days=1))
    session.commit()
    url = f"/api/v1/applicants/{applicant.id}/vaccinations"
    body = {
        "kind": "administered",
        "cvx": "115",
        "lot_id": str(lot.id),
        "given_at": NOW.isoformat(),
        "amount": "0.5",
        "unit": "mL",
        "route": "IM",
        "body_site": "LD",
    }
    response = client.post(url, json=body, headers=world.auth("nurse"))
    assert response.status_code == 422, response.text
    problem = response.get_json()
    assert problem["code"] == "vaccines.lot_expired"
    assert "lot_id" in problem["errors"]
    response = client.post(url, json={**body, "cvx": "12345"}, headers=world.auth("nurse"))
    assert response.status_code == 422
    assert "cvx" in response.get_json()["errors"]
    assert _count(session) == 0
    listed = client.get(url, headers=world.auth("nurse")).get_json()
    assert listed == {"records": []}


def test_the_api_records_and_corrects(
    client: FlaskClient, session: Session, world: World, nurse: Actor
) -> None:
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse)
    session.commit()
    url = f"/api/v1/applicants/{applicant.id}/vaccinations"
    made = client.post(
        url,
        json={
            "kind": "administered",
            "cvx": "115",
            "lot_id": str(lot.id),
            "given_at": NOW.isoformat(),
            "amount": "0.5",
            "unit": "mL",
            "route": "IM",
            "body_site": "LD",
            "vis_published": "2021-08-06",
            "vis_given_on": TODAY.isoformat(),
        },
        headers=world.auth("nurse"),
    )
    assert made.status_code == 201, made.text
    out = made.get_json()
    assert (out["vaccine"], out["lot"], out["amount"]) == ("Tdap", lot.lot, "0.50")
    fixed = client.post(
        f"/api/v1/vaccinations/{out['id']}/correction",
        json={"reason": "given to the wrong applicant", "version": out["version"]},
        headers=world.auth("nurse"),
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.get_json()["deleted_reason"] == "given to the wrong applicant"


# --- HL7 VXU -------------------------------------------------------------------------------------


def test_the_records_build_a_valid_vxu(session: Session, nurse: Actor) -> None:
    """Issue 6 / BRIEF §8: one VXU per applicant, each kind of record, deletions as `D`."""
    applicant = _applicant(session, nurse)
    lot = _lot(session, nurse)
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**_given(lot, vis_published=dt.date(2021, 8, 6), vis_given_on=TODAY)),
    )
    wrong = records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_historical("03", dt.date(1990, 5, 1)))
    )
    records.correct(session, nurse, wrong.id, "not this applicant", wrong.version)
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(kind=RecordKind.REFUSED, cvx="88", date=TODAY, refusal_reason="03"),
    )
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(
            kind=RecordKind.EVIDENCE_OF_IMMUNITY,
            date=dt.date(1995, 1, 1),
            immunity_evidence="lab_result",
            immunity_disease="38907003",
        ),
    )
    stored = records.records(session, nurse, applicant.id)
    mapped = to_immunization_records(applicant, stored)
    assert [m.action for m in mapped].count(Action.DELETE) == 1
    message = build_vxu(
        patient_of(applicant),
        mapped,
        Facility("IST", application="PMHA"),
        Facility("US", application="IIS"),  # the destination: its funding values (vxu.toml)
        "CTRL-1",
        utcnow(),
        strict=True,
    )
    validate_strict(message)
    assert message.count("RXA|") == 4
    assert lot.lot in message
