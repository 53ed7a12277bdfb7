"""Chest X-rays end to end: upload (validated, stored, previewed, de-identified), the reading's
DS-3030 findings [S8], and the plan following (suggestive of TB -> sputum) [S1]."""

from __future__ import annotations

import pytest

from pmha.exams import dicom, radiology
from pmha.workflow import service as workflow
from tests.exams import dicom_factory as factory
from tests.factories import applicant_data, make_case

NO_TB = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False}


@pytest.fixture()
def rules(app):
    return app.extensions["pmha.rules"]


@pytest.fixture()
def storage(app):
    from pathlib import Path

    return Path(app.extensions["pmha.config"].STORAGE_DIR)


@pytest.fixture()
def adult(session, world, rules):
    applicant = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    workflow.set_facts(session, world.actor("panel_physician"), rules, applicant.id, dict(NO_TB))
    return applicant


@pytest.mark.parametrize(
    ("findings", "decision"),
    [
        ([], "normal"),
        (["cavitary_lesion"], "suggestive_of_tb"),
        (["cardiac"], "other_abnormality"),
        (["calcified_nodules_or_nodes"], "normal"),
        (["cardiac", "pleural_effusion"], "suggestive_of_tb"),
    ],
)
def test_ds3030_findings_decide(findings, decision):
    assert radiology.decision_for(findings) == decision


def test_upload_keeps_original_previews_and_deidentified_copy(session, world, adult, storage):
    data = factory.make()
    study = radiology.upload(session, world.actor("radiologist"), adult.id, data, storage)
    assert dicom.path_for(study.sha256, storage / "dicom").read_bytes() == data
    assert dicom.path_for(study.sha256, storage / "previews", ".png").exists()
    copy = dicom.path_for(study.deidentified_sha256, storage / "deidentified").read_bytes()
    assert factory.IDENTIFYING["PatientName"].encode() in data
    assert factory.IDENTIFYING["PatientName"].encode() not in copy


def test_the_same_image_twice_is_refused(session, world, adult, storage):
    data = factory.make()
    radiology.upload(session, world.actor("radiologist"), adult.id, data, storage)
    with pytest.raises(Exception, match="uploaded already"):
        radiology.upload(session, world.actor("radiologist"), adult.id, data, storage)


def test_a_suggestive_reading_brings_sputum(session, world, rules, adult, storage):
    study = radiology.upload(session, world.actor("radiologist"), adult.id, factory.make(), storage)
    radiology.read(
        session,
        world.actor("radiologist"),
        rules,
        study.id,
        {"findings": ["cavitary_lesion"], "comments": None},
    )
    found = workflow.current(session, world.actor("panel_physician"), rules, adult.id)
    planned = {s.code: s.planned_status for s in found.steps}
    assert planned["sputum_smear"] == "required"


def upload(client, world, applicant_id, body, content_type="application/dicom", role="radiologist"):
    return client.post(
        f"/api/v1/applicants/{applicant_id}/xrays",
        data=body,
        headers={**world.auth(role), "Content-Type": content_type},
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (factory.html_renamed(), "exams.dicom.not_dicom"),
        (factory.knee(), "exams.dicom.not_chest"),
        (factory.wrong_modality(), "exams.dicom.wrong_modality"),
        (factory.no_pixel_data(), "exams.dicom.no_pixel_data"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_kept(
    client, world, session, adult, storage, body, code
):
    session.commit()
    response = upload(client, world, adult.id, body)
    assert response.status_code == 422, response.json
    assert response.json["code"].startswith(code.rsplit(".", 1)[0])
    listed = client.get(f"/api/v1/applicants/{adult.id}/xrays", headers=world.auth("radiologist"))
    assert listed.json["studies"] == []


def test_a_huge_upload_is_413(client, world, session, adult):
    session.commit()
    response = upload(client, world, adult.id, b"\0" * (dicom.MAX_BYTES + 1))
    assert response.status_code == 413 and response.json["code"] == "request.too_large"


def test_the_radiology_api_round_trip(client, world, session, adult):
    session.commit()
    created = upload(client, world, adult.id, factory.make())
    assert created.status_code == 201, created.json
    study_id = created.json["id"]
    png = client.get(f"/api/v1/xrays/{study_id}/preview.png", headers=world.auth("radiologist"))
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    read = client.post(
        f"/api/v1/xrays/{study_id}/reading",
        json={"findings": []},
        headers=world.auth("radiologist"),
    )
    assert read.status_code == 201 and read.json["reading"]["decision"] == "normal"
    bad = client.post(
        f"/api/v1/xrays/{study_id}/reading",
        json={"findings": ["spots"]},
        headers=world.auth("radiologist"),
    )
    assert bad.status_code == 422 and "findings" in bad.json["errors"]
    assert upload(client, world, adult.id, factory.make(), role="nurse").status_code == 403
    other = upload(client, world, adult.id, factory.make(), content_type="text/plain")
    assert other.status_code == 415


def test_a_pregnant_applicant_is_x_rayed_only_with_her_consent(session, world, rules, storage):
    """US TI: a pregnant applicant may have the X-ray with consent and shielding [S24]."""
    from datetime import date

    from pmha.core.errors import ValidationFailed
    from pmha.exams import lab_service
    from pmha.exams.labs import ConsentKind

    woman = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(
            family_name="Khalil",
            given_names="Layla",
            sex="female",
            dob="1992-04-04",
            family_name_original=None,
            given_names_original=None,
        ),
    ).applicants[0]
    workflow.set_facts(
        session,
        world.actor("panel_physician"),
        rules,
        woman.id,
        dict(NO_TB, pregnant=True, gestation_weeks=20),
    )
    with pytest.raises(ValidationFailed) as exc:
        radiology.upload(session, world.actor("radiologist"), woman.id, factory.make(), storage)
    assert "consent" in exc.value.errors
    lab_service.record_consent(
        session,
        world.actor("nurse"),
        woman.id,
        ConsentKind.CHEST_XRAY_IN_PREGNANCY,
        True,
        date.today(),
    )
    assert radiology.upload(session, world.actor("radiologist"), woman.id, factory.make(), storage)
