"""Chest X-rays end to end: upload (validated, stored, previewed, de-identified), the reading's
DS-3030 findings [S8], and the plan following (suggestive of TB -> sputum) [S1]."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from pmha.core import file_crypto
from pmha.core.outbox import OutboxMessage
from pmha.exams import dicom, radiology
from pmha.exams.tasks import PREPARE
from pmha.workflow import service as workflow
from tests.exams import dicom_factory as factory
from tests.factories import PASSWORD, applicant_data, make_case

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
    workflow.set_facts(
        session, world.actor("panel_physician"), rules, applicant.id, FactsUpdate(**dict(NO_TB))
    )
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
    assert file_crypto.read(dicom.path_for(study.sha256, storage / "dicom")) == data
    # Issue 20: the request stores the original; the previews and the copy follow in a job,
    # sent once the upload commits (in-process in the embedded default), with the id only.
    assert study.images_status == "preparing" and study.deidentified_sha256 is None
    assert not dicom.path_for(study.sha256, storage / "previews", ".png").exists()
    [job] = session.scalars(select(OutboxMessage).where(OutboxMessage.task == PREPARE))
    assert job.args == [str(study.id)] and job.kwargs == {}
    session.commit()
    session.refresh(study)
    assert study.images_status == "ready"
    assert dicom.path_for(study.sha256, storage / "previews", ".png").exists()
    assert dicom.path_for(study.sha256, storage / "previews", ".thumb.png").exists()
    copy = file_crypto.read(dicom.path_for(study.deidentified_sha256, storage / "deidentified"))
    assert factory.IDENTIFYING["PatientName"].encode() in data
    assert factory.IDENTIFYING["PatientName"].encode() not in copy
    # Issue 19: every stored file is encrypted at rest; no name or pixel run on disk
    stored = [p for p in storage.rglob("*") if p.is_file() and p.parent.name != "keys"]
    assert len(stored) >= 4
    for path in stored:
        raw = path.read_bytes()
        assert raw.startswith(file_crypto.MAGIC), path.name
        assert factory.IDENTIFYING["PatientName"].encode() not in raw


def test_preparing_is_idempotent_and_audited_once(session, world, adult, storage):
    study = radiology.upload(session, world.actor("radiologist"), adult.id, factory.make(), storage)
    session.commit()
    session.refresh(study)
    copy = study.deidentified_sha256
    # A redelivered job, or the preview's fallback racing it: the same files, nothing new.
    assert radiology.prepare(session, study.id, storage) == "ready"
    (dicom.path_for(study.sha256, storage / "previews", ".thumb.png")).unlink()
    assert radiology.prepare(session, study.id, storage) == "ready"
    assert study.deidentified_sha256 == copy
    assert dicom.path_for(study.sha256, storage / "previews", ".thumb.png").exists()
    prepared = session.scalars(
        select(audit.AuditEvent).where(
            audit.AuditEvent.action == "prepare", audit.AuditEvent.record_id == str(study.id)
        )
    ).all()
    assert len(prepared) == 1
    assert radiology.prepare(session, uuid.uuid4(), storage) == "gone"


def test_an_image_with_burned_in_text_is_refused_at_upload(session, world, adult, storage):
    """The job cannot refuse an upload: what de-identification refuses is refused first."""
    ds = factory.build()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(dicom.DicomRejected) as caught:
        radiology.upload(
            session, world.actor("radiologist"), adult.id, factory.to_bytes(ds), storage
        )
    assert caught.value.code == "exams.dicom.burned_in_annotation"
    assert session.scalar(select(XrayStudy.id).where(XrayStudy.applicant_id == adult.id)) is None


def test_the_preview_is_a_named_409_while_preparing_then_made_if_its_job_is_lost(
    client, world, session, adult, storage
):
    from datetime import timedelta

    study = radiology.upload(session, world.actor("radiologist"), adult.id, factory.make(), storage)
    session.commit()
    session.refresh(study)  # the job, in another session, made it ready
    study.images_status = "preparing"  # as it is until the job has run
    for suffix in (".png", ".thumb.png"):
        dicom.path_for(study.sha256, storage / "previews", suffix).unlink()
    session.commit()
    url = f"/api/v1/xrays/{study.id}/preview.png?size=thumbnail"
    waiting = client.get(url, headers=world.auth("radiologist"))
    assert waiting.status_code == 409, waiting.json
    assert waiting.json["code"] == "exams.xray_preparing" and waiting.json["retry_after"] == 2
    listed = client.get(f"/api/v1/applicants/{adult.id}/xrays", headers=world.auth("radiologist"))
    assert listed.json["studies"][0]["images_status"] == "preparing"
    # Still preparing long after the upload: its job was lost; the endpoint prepares it.
    study.uploaded_at -= radiology.PREPARE_GRACE + timedelta(seconds=1)
    session.commit()
    made = client.get(url, headers=world.auth("radiologist"))
    assert made.status_code == 200 and made.data[:8] == b"\x89PNG\r\n\x1a\n"
    session.refresh(study)
    assert study.images_status == "ready" and study.deidentified_sha256


def test_the_pages_say_preparing_and_wait_for_the_image(
    client, signed_in, world, session, adult, storage
):
    study = radiology.upload(session, world.actor("radiologist"), adult.id, factory.make(), storage)
    session.commit()
    session.refresh(study)  # the job, in another session, made it ready
    study.images_status = "preparing"
    session.commit()
    signed_in("radiologist")
    listed = client.get(f"/cases/{adult.case_id}/applicants/{adult.id}/xrays").text
    assert "Preparing the image…" in listed and "xray-preparing.js" in listed
    assert f'data-xray-preparing="/xrays/{study.id}/thumbnail.png"' in listed
    viewer = client.get(f"/xrays/{study.id}").text
    assert "Preparing the image…" in viewer
    assert f'data-xray-preparing="/xrays/{study.id}/image.png"' in viewer
    assert f'data-cxr-pixels="/xrays/{study.id}/pixels"' in viewer  # the original, at once
    assert client.get(f"/xrays/{study.id}/thumbnail.png").status_code == 409
    study.images_status = "ready"
    session.commit()
    listed = client.get(f"/cases/{adult.case_id}/applicants/{adult.id}/xrays").text
    assert "Preparing the image…" not in listed and "xray-preparing.js" not in listed
    study.images_status = "failed"
    session.commit()
    assert "No preview could be made" in client.get(f"/xrays/{study.id}").text


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
        XrayRead(findings=["cavitary_lesion"], comments=None),
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
        json={"findings": [], "password": PASSWORD},
        headers=world.auth("radiologist"),
    )
    assert read.status_code == 201 and read.json["reading"]["decision"] == "normal"
    bad = client.post(
        f"/api/v1/xrays/{study_id}/reading",
        json={"findings": ["spots"], "password": PASSWORD},
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
        FactsUpdate(**dict(NO_TB, pregnant=True, gestation_weeks=20)),
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


# ---------------------------------------------------------------------------------------------
# Identity: the DICOM header (PS3.3 C.7.1.1 Patient Module: name, ID, birth date, sex) against
# the applicant. The image travels with the applicant as their evidence, one applicant per
# image set [S10c]; a wrong-patient image read as normal would clear someone never X-rayed.

from pmha.core import audit  # noqa: E402
from pmha.core.errors import Conflict, Forbidden, ValidationFailed  # noqa: E402
from pmha.exams.commands import XrayRead  # noqa: E402
from pmha.exams.radiology import IdentityStatus, XrayReading, XrayStudy  # noqa: E402
from pmha.workflow.commands import FactsUpdate  # noqa: E402

OMAR = {
    "family_name": "Haddad",
    "given_names": "Omar Khaled",
    "family_name_original": "حداد",
    "given_names_original": "عمر خالد",
    "dob": "1985-03-14",
    "sex": "male",
}
REASON = "Film label and face checked; the X-ray unit's worklist had his brother's name."


@pytest.fixture()
def omar(session, world, rules):
    applicant = make_case(
        session, world.actor("nurse"), principal=applicant_data(**OMAR)
    ).applicants[0]
    workflow.set_facts(
        session, world.actor("panel_physician"), rules, applicant.id, FactsUpdate(**dict(NO_TB))
    )
    return applicant


def _upload(session, world, applicant, data, storage):
    return radiology.upload(session, world.actor("radiologist"), applicant.id, data, storage)


def _count(session, model):
    from sqlalchemy import func, select

    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("HADDAD^OMAR^KHALED", "the same name"),
        ("حداد^عمر^خالد", "Arabic script, as the applicant's original name"),
        ("HADAD^UMAR^KHALID", "another Latin transliteration of the Arabic name"),
        ("OMAR KHALED^HADDAD", "given and family names in each other's place"),
        ("HADDAD^OMAR", "the middle name missing"),
        ("حداد^عمر", "Arabic script and the middle name missing"),
    ],
)
def test_the_same_person_written_differently_is_attached(session, world, omar, storage, name, why):
    study = _upload(session, world, omar, factory.of_person(name, "M", "19850314"), storage)
    assert study.identity_status == IdentityStatus.MATCHED, why
    assert not study.held


@pytest.mark.parametrize(
    ("name", "sex", "born", "patient_id", "differs"),
    [
        ("QUINN^ALICE", "M", "19850314", "", ["name"]),
        ("HADDAD^OMAR^YUSUF", "M", "19850314", "", ["name"]),  # a cousin: the father's name
        ("HADDAD", "M", "19850314", "", ["name"]),  # the family name alone: any relative
        ("HADDAD^OMAR^KHALED", "F", "19850314", "", ["sex"]),
        ("HADDAD^OMAR^KHALED", "M", "19900101", "", ["birth_date"]),
        ("HADDAD^OMAR^KHALED", "M", "19850314", "IST-999999", ["patient_id"]),
        ("QUINN^ALICE", "F", "19810423", "", ["name", "sex", "birth_date"]),
    ],
)
def test_another_person_is_held(
    session, world, omar, storage, name, sex, born, patient_id, differs
):
    data = factory.of_person(name, sex, born, patient_id)
    study = _upload(session, world, omar, data, storage)
    assert study.identity_status == IdentityStatus.HELD and study.held
    assert study.identity_differs == differs
    # Stored all the same: the original and its previews are kept.
    assert file_crypto.read(dicom.path_for(study.sha256, storage / "dicom")) == data


def test_missing_header_fields_are_shown_but_do_not_hold(session, world, omar, storage):
    study = _upload(session, world, omar, factory.of_person("", "", "", ""), storage)
    assert study.identity_status == IdentityStatus.MATCHED
    check = radiology.identity_check(session, world.actor("radiologist"), study)
    assert check is not None
    assert check.missing == ["name", "sex", "birth_date", "patient_id"]


def test_the_x_ray_units_own_patient_number_does_not_hold(session, world, omar, storage):
    data = factory.of_person("HADDAD^OMAR", "M", "19850314", "RAD-2024-7781")
    study = _upload(session, world, omar, data, storage)
    assert study.identity_status == IdentityStatus.MATCHED
    check = radiology.identity_check(session, world.actor("radiologist"), study)
    assert {f.field: f.outcome for f in check.fields}["patient_id"] == "other"


def test_the_case_number_in_the_header_is_a_match(session, world, omar, storage):
    number = omar.case.case_number
    study = _upload(
        session, world, omar, factory.of_person("HADDAD^OMAR", "M", "", number), storage
    )
    check = radiology.identity_check(session, world.actor("radiologist"), study)
    assert {f.field: f.outcome for f in check.fields}["patient_id"] == "same"


def test_a_held_image_cannot_be_read_and_nothing_is_written(session, world, rules, omar, storage):
    study = _upload(session, world, omar, factory.wrong_patient(), storage)
    readings = _count(session, XrayReading)
    with pytest.raises(Conflict) as exc:
        radiology.read(
            session,
            world.actor("radiologist"),
            rules,
            study.id,
            XrayRead(findings=[], comments=None),
        )
    assert exc.value.code == "exams.xray_identity_held"
    assert "someone other than the applicant" in exc.value.detail
    assert _count(session, XrayReading) == readings
    found = workflow.current(session, world.actor("panel_physician"), rules, omar.id)
    assert {s.code: s.state.value for s in found.steps}["chest_xray"] != "done"


def test_a_radiologist_confirms_a_held_image_with_a_reason(session, world, rules, omar, storage):
    study = _upload(session, world, omar, factory.wrong_patient(), storage)
    radiology.confirm_identity(session, world.actor("radiologist"), study.id, REASON)
    assert study.identity_status == IdentityStatus.CONFIRMED and not study.held
    assert study.identity_reason == REASON
    assert study.identity_confirmed_by == world.actor("radiologist").user_id
    assert study.identity_confirmed_at is not None
    reading = radiology.read(
        session, world.actor("radiologist"), rules, study.id, XrayRead(findings=[], comments=None)
    )
    assert reading.decision == "normal"
    session.commit()
    assert audit.verify(session).ok


@pytest.mark.parametrize("role", ["nurse", "panel_physician", "lab_technician"])
def test_only_a_radiologist_may_confirm(session, world, omar, storage, role):
    study = _upload(session, world, omar, factory.wrong_patient(), storage)
    with pytest.raises(Forbidden):
        radiology.confirm_identity(session, world.actor(role), study.id, REASON)
    assert study.identity_status == IdentityStatus.HELD and study.identity_reason is None


@pytest.mark.parametrize("reason", ["", "   ", "ok"])
def test_a_confirmation_needs_a_reason(session, world, omar, storage, reason):
    study = _upload(session, world, omar, factory.wrong_patient(), storage)
    with pytest.raises(ValidationFailed) as exc:
        radiology.confirm_identity(session, world.actor("radiologist"), study.id, reason)
    assert exc.value.code == "exams.xray_identity_reason_missing"
    assert "reason" in exc.value.errors
    assert study.identity_status == IdentityStatus.HELD


def test_a_matched_image_needs_no_confirmation(session, world, adult, storage):
    study = _upload(session, world, adult, factory.make(), storage)
    with pytest.raises(Conflict) as exc:
        radiology.confirm_identity(session, world.actor("radiologist"), study.id, REASON)
    assert exc.value.code == "exams.xray_identity_not_held"


def test_an_image_uploaded_before_the_check_is_not_checked_and_still_readable(
    session, world, rules, adult, storage
):
    """Migration 0018 marks existing images 'not_checked' (their files are not re-read)."""
    study = _upload(session, world, adult, factory.make(), storage)
    study.identity_status = IdentityStatus.NOT_CHECKED
    session.flush()
    assert radiology.identity_check(session, world.actor("radiologist"), study) is None
    reading = radiology.read(
        session, world.actor("radiologist"), rules, study.id, XrayRead(findings=[], comments=None)
    )
    assert reading.decision == "normal"


# Through the API -----------------------------------------------------------------------------


def _api_upload(client, world, applicant_id, data):
    return client.post(
        f"/api/v1/applicants/{applicant_id}/xrays",
        data=data,
        headers={**world.auth("radiologist"), "Content-Type": "application/dicom"},
    )


def _confirm(client, world, study_id, body, role="radiologist"):
    return client.post(
        f"/api/v1/xrays/{study_id}/identity-confirmation", json=body, headers=world.auth(role)
    )


def test_regression_a_wrong_patient_image_read_as_normal_no_longer_clears(
    client, world, session, rules, omar
):
    """The defect of issue 14: a DICOM of another person, read as normal, cleared the
    applicant. Now it is held, the reading is refused and the X-ray step stays open."""
    session.commit()
    created = _api_upload(client, world, omar.id, factory.wrong_patient())
    assert created.status_code == 201, created.json
    assert created.json["identity_status"] == "held"
    rows = {f["field"]: f for f in created.json["identity"]["fields"]}
    assert rows["name"]["outcome"] == rows["sex"]["outcome"] == "differs"
    assert "the image is of a female; the applicant is male" in rows["sex"]["words"].lower()
    read = client.post(
        f"/api/v1/xrays/{created.json['id']}/reading",
        json={"findings": [], "password": PASSWORD},
        headers=world.auth("radiologist"),
    )
    assert read.status_code == 409 and read.json["code"] == "exams.xray_identity_held"
    session.expire_all()
    found = workflow.current(session, world.actor("panel_physician"), rules, omar.id)
    assert {s.code: s.state.value for s in found.steps}["chest_xray"] != "done"
    assert found.decision.status != "cleared"
    assert _count(session, XrayReading) == 0
    assert audit.verify(session).ok


def test_the_api_confirmation_round_trip(client, world, session, omar):
    session.commit()
    study_id = _api_upload(client, world, omar.id, factory.wrong_patient()).json["id"]
    for role in ("nurse", "panel_physician"):
        refused = _confirm(client, world, study_id, {"reason": REASON}, role=role)
        assert refused.status_code == 403 and refused.json["code"] == "auth.forbidden"
    empty = _confirm(client, world, study_id, {"reason": " "})
    assert empty.status_code == 422
    assert empty.json["code"] == "exams.xray_identity_reason_missing"
    assert "reason" in empty.json["errors"]
    missing = _confirm(client, world, study_id, {})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    session.expire_all()
    assert session.get(XrayStudy, uuid.UUID(study_id)).identity_status == "held"
    done = _confirm(client, world, study_id, {"reason": REASON})
    assert done.status_code == 200, done.json
    assert done.json["identity_status"] == "confirmed"
    assert done.json["identity_confirmation"]["reason"] == REASON
    assert done.json["identity_confirmation"]["by"] == "Test radiologist"  # full name [issue 18]
    again = _confirm(client, world, study_id, {"reason": REASON})
    assert again.status_code == 409 and again.json["code"] == "exams.xray_identity_not_held"
    read = client.post(
        f"/api/v1/xrays/{study_id}/reading",
        json={"findings": [], "password": PASSWORD},
        headers=world.auth("radiologist"),
    )
    assert read.status_code == 201
    from sqlalchemy import select

    from pmha.core.audit import AuditEvent

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "confirm_identity")).one()
    # Before and after, as keyed hashes: the status changed and a reason was given.
    assert {"identity", "reason"} <= set(event.changes)
    assert event.record_id == study_id and event.actor_name == "t_radiologist"
    assert audit.verify(session).ok


# Findings that exclude each other (DS-3030: normal, or the findings it lists) [S8] -----------


@pytest.mark.parametrize(
    ("findings", "words"),
    [
        (["no_abnormal_finding", "cavitary_lesion"], ("No abnormal finding", "Cavitary lesion")),
        (["cardiac", "no_abnormal_finding"], ("No abnormal finding", "Cardiac abnormality")),
        (
            ["no_abnormal_finding", "calcified_nodules_or_nodes"],
            ("No abnormal finding", "Calcified nodules or lymph nodes"),
        ),
        (
            ["minor_musculoskeletal", "musculoskeletal"],
            ("Musculoskeletal abnormality", "Minor musculoskeletal findings"),
        ),
    ],
)
def test_contradictory_findings_are_refused_naming_both(
    client, world, session, adult, findings, words
):
    session.commit()
    study_id = _api_upload(client, world, adult.id, factory.make()).json["id"]
    response = client.post(
        f"/api/v1/xrays/{study_id}/reading",
        json={"findings": findings, "password": PASSWORD},
        headers=world.auth("radiologist"),
    )
    assert response.status_code == 422, response.json
    assert response.json["code"] == "exams.xray_findings_contradict"
    message = " ".join(response.json["errors"]["findings"])
    assert all(w in message for w in words), message
    assert _count(session, XrayReading) == 0
    assert audit.verify(session).ok


def test_no_abnormal_finding_alone_is_normal(client, world, session, adult):
    session.commit()
    study_id = _api_upload(client, world, adult.id, factory.make()).json["id"]
    response = client.post(
        f"/api/v1/xrays/{study_id}/reading",
        json={"findings": ["no_abnormal_finding"], "password": PASSWORD},
        headers=world.auth("radiologist"),
    )
    assert response.status_code == 201
    assert response.json["reading"] == {**response.json["reading"], "findings": [],
                                        "decision": "normal"}  # fmt: skip


# Through the pages --------------------------------------------------------------------------


def _page_post(client, page, target, data):
    from tests.conftest import csrf_token

    token = csrf_token(client.get(page).text)
    return client.post(target, data={**data, "csrf_token": token})


def _page_upload(client, applicant, data):
    import io

    from tests.conftest import csrf_token

    page = f"/cases/{applicant.case_id}/applicants/{applicant.id}/xrays"
    token = csrf_token(client.get(page).text)
    return client.post(
        page,
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(data), "chest.dcm")},
    )


def test_the_pages_hold_show_both_identities_and_confirm(signed_in, session, world, omar):
    session.commit()
    client = signed_in("radiologist")
    response = _page_upload(client, omar, factory.wrong_patient())
    assert response.status_code == 302
    viewer = response.headers["Location"]
    page = client.get(viewer).text
    assert "Held: identity differs" in page
    assert "QUINN, ALICE" in page and "Haddad, Omar Khaled" in page  # side by side
    assert "The image is of a female; the applicant is male." in page
    assert "Record the reading" not in page
    study_id = viewer.rsplit("/", 1)[1]
    # Reading a held image: refused, nothing written.
    read = _page_post(
        client, viewer, f"/xrays/{study_id}/reading", {"normal": "y", "password": PASSWORD}
    )
    assert read.status_code == 409 and "header names someone other" in read.text
    # No reason: refused next to the field, still held.
    empty = _page_post(client, viewer, f"/xrays/{study_id}/identity-confirmation", {"reason": ""})
    assert empty.status_code == 422
    assert 'id="e-reason"' in empty.text and "Say why this image is the applicant" in empty.text
    session.expire_all()
    assert session.get(XrayStudy, uuid.UUID(study_id)).identity_status == "held"
    assert _count(session, XrayReading) == 0
    done = _page_post(
        client, viewer, f"/xrays/{study_id}/identity-confirmation", {"reason": REASON}
    )
    assert done.status_code == 302
    page = client.get(viewer).text
    assert "Identity differs: confirmed by a radiologist" in page
    assert "Film label and face checked" in page
    assert "Record the reading" in page
    session.expire_all()
    assert audit.verify(session).ok


def test_a_physician_cannot_confirm_on_the_page(signed_in, session, world, omar, storage):
    study = _upload(session, world, omar, factory.wrong_patient(), storage)
    session.commit()
    client = signed_in("panel_physician")
    viewer = client.get(f"/xrays/{study.id}")
    assert viewer.status_code == 200
    assert "Only a radiologist can confirm a held X-ray." in viewer.text
    assert "Confirm: this is the applicant" not in viewer.text
    from tests.conftest import csrf_token

    response = client.post(
        f"/xrays/{study.id}/identity-confirmation",
        data={"reason": REASON, "csrf_token": csrf_token(viewer.text)},
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(XrayStudy, study.id).identity_status == "held"


def test_contradictory_findings_are_refused_on_the_page(signed_in, session, world, adult, storage):
    """DS-3030 [S8]: a reading is either normal or lists its findings."""
    study = _upload(session, world, adult, factory.make(), storage)
    session.commit()
    client = signed_in("radiologist")
    response = _page_post(
        client,
        f"/xrays/{study.id}",
        f"/xrays/{study.id}/reading",
        {"findings": ["cavitary_lesion"], "normal": "y", "password": PASSWORD},
    )
    assert response.status_code == 422
    assert "“No abnormal finding” and “Cavitary lesion” cannot both be ticked" in response.text
    assert 'id="f-findings" class="has-error"' in response.text
    assert _count(session, XrayReading) == 0
    assert audit.verify(session).ok


def test_the_reading_worklist_offers_a_held_image_for_comparison_not_reading(
    signed_in, session, world, omar, storage
):
    """An adult's chest X-ray is required (age 15 and over, DS-3030 indication [S8])."""
    study = _upload(session, world, omar, factory.wrong_patient(), storage)
    session.commit()
    page = signed_in("radiologist").get("/worklists/radiology").text
    assert "Read the chest X-ray of Omar Khaled Haddad" not in page
    assert "Compare the identities of the held chest X-ray of Omar Khaled Haddad" in page
    assert f"/xrays/{study.id}" in page


def test_the_viewer_says_when_an_image_was_never_checked(signed_in, session, world, adult, storage):
    """Images uploaded before migration 0018 read 'not_checked': the page says so, with what
    the header was not compared against (its stored identity columns are empty)."""
    study = _upload(session, world, adult, factory.make(), storage)
    study.identity_status = IdentityStatus.NOT_CHECKED
    for column in ("header_family", "header_given", "header_sex", "header_patient_id"):
        setattr(study, column, None)
    session.commit()
    page = signed_in("radiologist").get(f"/xrays/{study.id}").text
    assert "Identity not checked (uploaded before the check)" in page
    assert "Header: <strong>no name</strong>" in page
    assert "Not checked" in page and "Held: identity differs" not in page


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("QUINN^ALICE", "Another name: the image says “QUINN ALICE” where the applicant has "
                        "“Haddad Omar Khaled”."),
        ("HADDAD^OMAR^YUSUF", "Another name: the image says “YUSUF” where the applicant has "
                              "“Khaled”."),
        ("HADDAD", "Only part of the name: the image has “HADDAD”, without the applicant's "
                   "“Omar Khaled”."),
    ],
)  # fmt: skip
def test_what_differs_in_the_name_is_said_in_words(session, world, omar, storage, name, words):
    study = _upload(session, world, omar, factory.of_person(name, "M", "19850314"), storage)
    check = radiology.identity_check(session, world.actor("radiologist"), study)
    assert {f.field: f.words for f in check.fields}["name"] == words
