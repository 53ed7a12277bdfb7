"""A chest X-ray held because its DICOM header names someone else is not exported as the
applicant's: the receiving authority would take another person's image as their evidence
(the image travels with the applicant as their chest X-ray [S10c])."""

from __future__ import annotations

from pathlib import Path

from pmha.core import file_crypto
from pmha.exams import radiology
from pmha.exports import build, envelope, receive
from pmha.exports.models import JobState
from tests.exams import dicom_factory
from tests.exports import keyring
from tests.exports.conftest import build_now


def _opened(storage: Path, bundle_id) -> dict[str, bytes]:
    data = file_crypto.read(build.bundle_path(storage, bundle_id))
    signed = envelope.decrypt(data, [keyring.pair("US authority")])
    content = envelope.verify(signed, [keyring.pair("PMHA IST test centre").certificate]).content
    return receive.unpack(content)


def test_a_held_xray_is_left_out_of_the_bundle(session, world, export_case):
    principal = export_case.case.principal
    held = radiology.upload(
        session,
        world.actor("radiologist"),
        principal.id,
        dicom_factory.wrong_patient(),
        export_case.storage,
    )
    assert held.held
    session.commit()
    job = build_now(export_case, session, world)
    assert job.state == JobState.DONE, job.error_code
    files = _opened(export_case.storage, job.bundle_id)
    dicoms = [n for n in files if n.startswith("dicom/")]
    assert dicoms and f"dicom/{held.sha256}.dcm" not in dicoms  # the matched one still goes
