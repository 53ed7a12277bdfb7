"""Export fixtures: a US case with a chest X-ray, a lab result and vaccinations, and the keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from pmha.cases.models import FamilyCase
from pmha.exams import lab_service, radiology
from pmha.exams.commands import NewLabResult
from pmha.vaccines import records as vaccinations
from pmha.vaccines.commands import NewVaccination
from pmha.vaccines.models import RecordKind
from pmha.workflow import service as workflow
from tests.exams import dicom_factory
from tests.exports import keyring
from tests.factories import World, applicant_data, make_case


@dataclass
class Exported:
    case: FamilyCase
    storage: Path
    app: Flask


def build_now(exported: Exported, session: Session, world: World):  # type: ignore[no-untyped-def]
    """Ask for the case's bundle and commit; the job runs in-process, through the Celery of the
    app in context (another app made by an earlier test may be Celery's current one)."""
    from pmha.exports import service

    job = service.request_export(session, world.actor("panel_physician"), exported.case.id)
    with exported.app.app_context():
        session.commit()
    session.refresh(job)
    return job


@pytest.fixture()
def storage(app: Flask) -> Path:
    return Path(app.extensions["pmha.config"].STORAGE_DIR)


def make_export_case(app: Flask, session: Session, world: World, storage: Path) -> Exported:
    """A two-traveller US case with an X-ray, a lab result and vaccinations; keys installed."""
    from pmha.cases import service as cases
    from pmha.cases.schemas import ApplicantIn
    from tests.factories import loaded

    nurse, physician = world.actor("nurse"), world.actor("panel_physician")
    case = make_case(session, nurse, destination="US")
    cases.add_applicant(
        session,
        nurse,
        case.id,
        loaded(
            ApplicantIn,
            applicant_data(
                given_names="Yusuf",
                given_names_original=None,
                dob="2014-07-07",
                relationship="child",
            ),
        ),
    )
    session.flush()
    session.expire_all()
    rules = app.extensions["pmha.rules"]
    assert case.principal is not None
    principal = case.principal.id
    workflow.current(session, physician, rules, principal)
    radiology.upload(session, world.actor("radiologist"), principal, dicom_factory.make(), storage)
    order = lab_service.order_tests(session, physician, rules, principal, ["syphilis_serology"])[0]
    result = {
        "specimen_number": order.accession,
        "value": "non_reactive",
        "date": date.today(),
        "details": {"treponemal": "non_reactive"},
    }
    lab_service.record_result(
        session, world.actor("lab_technician"), rules, order.id, NewLabResult(**result)
    )
    vaccinations.record_vaccination(
        session,
        nurse,
        principal,
        NewVaccination(
            kind=RecordKind.HISTORICAL, cvx="03", date=date(2000, 1, 1), information_source="03"
        ),
    )
    keyring.install(session, world)
    session.commit()
    return Exported(case, storage, app)


@pytest.fixture()
def export_case(app: Flask, session: Session, world: World, storage: Path) -> Exported:
    return make_export_case(app, session, world, storage)
