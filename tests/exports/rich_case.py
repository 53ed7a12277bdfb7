"""An export case an analyst would receive (issue 17): the fixture's case with vital signs, a
mental health Class B, the chest X-ray read, and booked on a flight; for the arrivals tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from pmha.accounts.signatures import trusted_signature
from pmha.exams import radiology
from pmha.exams import service as exams
from pmha.exams.commands import SectionDraft, XrayRead
from pmha.exams.models import SectionKind
from pmha.travel.models import Booking, Departure
from tests.factories import World

DEPARTS = (datetime.now(UTC) + timedelta(days=2)).replace(
    hour=9, minute=40, second=0, microsecond=0
)


def enrich(app: Flask, session: Session, world: World, case) -> Departure:  # type: ignore[no-untyped-def]
    """Sign a physical exam and a mental health Class B, read the X-ray, book the flight."""
    rules = app.extensions["pmha.rules"]
    physician, principal = world.actor("panel_physician"), case.principal
    vitals = {"temperature_c": 36.8, "height_cm": 172, "weight_kg": 70,
              "systolic_mmhg": 120, "diastolic_mmhg": 80}  # fmt: skip
    physical = {"vitals": vitals, "systems": {"lungs": {"status": "normal"}}, "overall": "normal"}
    for kind, data in (
        (SectionKind.PHYSICAL_EXAM, physical),
        (SectionKind.MENTAL_HEALTH, {"classification": "class_b",
                                     "classification_reason": "specialist report: anxiety"}),
    ):  # fmt: skip
        draft = exams.save_draft(
            session, physician, principal.id, SectionDraft(kind=kind, content=data, version=None)
        )
        signature = trusted_signature(world.users["panel_physician"], "exams:sign")
        exams.sign(session, physician, rules, principal.id, kind, draft.version, signature)
    (study, _), *_ = radiology.studies(session, physician, principal.id)
    radiology.read(
        session, world.actor("radiologist"), rules, study.id, XrayRead(findings=[], comments=None)
    )
    departure = Departure(
        site_id=case.site_id,
        carrier="TK",
        flight_number="1",
        route="IST-ORD",
        destination="US",
        departs_at=DEPARTS,
    )
    session.add(departure)
    session.flush()
    session.add(Booking(departure_id=departure.id, case_id=case.id))
    session.commit()
    return departure
