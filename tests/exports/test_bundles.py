"""Building a case's bundle: contents, idempotency, crash safety, the log, and the import."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.accounts.signatures import trusted_signature
from pmha.core import file_crypto
from pmha.core.errors import NotFound
from pmha.exams.commands import SectionDraft, XrayRead
from pmha.exports import build, envelope, fhir, receive, service
from pmha.exports.models import (
    ExportBundle,
    ExportJob,
    ExportLogEntry,
    ImportedTraveller,
    JobState,
)
from tests.exports import keyring
from tests.exports.conftest import build_now


def export(session: Session, world, exported) -> ExportJob:
    return build_now(exported, session, world)


def opened(storage: Path, bundle_id) -> dict[str, bytes]:
    data = file_crypto.read(build.bundle_path(storage, bundle_id))
    signed = envelope.decrypt(data, [keyring.pair("US authority")])
    content = envelope.verify(signed, [keyring.pair("PMHA IST test centre").certificate]).content
    return receive.unpack(content)


def test_a_case_exports_to_a_signed_encrypted_bundle(session, world, export_case):
    job = export(session, world, export_case)
    assert job.state == JobState.DONE, job.error_code
    assert job.progress == 100
    files = opened(export_case.storage, job.bundle_id)
    manifest = json.loads(files["manifest.json"])
    assert manifest["bundle_id"] == str(job.bundle_id)
    assert manifest["case"]["destination"] == "US"
    assert manifest["sending_site"]["code"] == "IST"
    assert len(manifest["travellers"]) == 2
    assert manifest["rule_versions"]
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"]
    kinds = {name.split("/")[0] for name in listed}
    assert {"fhir", "hl7", "dicom", "pdf", "handover", "tb"} <= kinds
    for name in listed:
        if name.startswith("fhir/"):
            assert fhir.check_bundle(json.loads(files[name])) == []


def test_the_fhir_summary_holds_the_records(session, world, export_case):
    job = export(session, world, export_case)
    files = opened(export_case.storage, job.bundle_id)
    principal = export_case.case.principal
    document = json.loads(files[f"fhir/{principal.id}.json"])
    kinds = [e["resource"]["resourceType"] for e in document["entry"]]
    assert kinds[0] == "Composition"
    for kind in ("Patient", "Immunization", "Observation", "ImagingStudy"):
        assert kind in kinds
    patient = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["name"][0]["family"] == principal.family_name
    clearance = [
        e["resource"]
        for e in document["entry"]
        if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "clearance"
    ]
    assert len(clearance) == 1


def test_file_names_and_the_manifest_paths_carry_no_identity(session, world, export_case):
    job = export(session, world, export_case)
    files = opened(export_case.storage, job.bundle_id)
    principal = export_case.case.principal
    for name in files:
        assert principal.family_name.lower() not in name.lower()
    assert principal.family_name not in build.bundle_path(export_case.storage, job.bundle_id).name


def test_the_same_content_gives_the_same_bundle(session, world, export_case):
    first = export(session, world, export_case)
    second = export(session, world, export_case)
    assert second.state == JobState.DONE
    assert first.bundle_id == second.bundle_id
    assert session.scalar(select(func.count()).select_from(ExportBundle)) == 1
    found = list((export_case.storage / "exports").glob(f"*{first.bundle_id}*"))
    assert [p.name for p in found] == [f"{first.bundle_id}.p7m"]


def test_a_crash_after_writing_leaves_one_bundle_on_rerun(
    app, session, world, export_case, monkeypatch
):
    """A worker killed between the rename and the commit: the re-run finds the file."""
    from pmha.core.db import database

    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)
    job = service.request_export(session, world.actor("panel_physician"), export_case.case.id)
    session.commit()
    original, calls = build._finish, []

    def crash_once(db, job_id, c, data):
        calls.append(job_id)
        if len(calls) == 1:
            raise KeyboardInterrupt  # a killed worker: the last transaction never commits
        return original(db, job_id, c, data)

    monkeypatch.setattr(build, "_finish", crash_once)
    rules = app.extensions["pmha.rules"]
    folder = export_case.storage / "exports"
    before = set(folder.glob("*")) if folder.exists() else set()
    with app.app_context():
        with pytest.raises(KeyboardInterrupt):
            build.run(database(app), job.id, rules, export_case.storage)
        session.expire_all()
        assert session.get(ExportJob, job.id).state == JobState.RUNNING
        assert session.scalar(select(func.count()).select_from(ExportBundle)) == 0
        written = sorted(set(folder.glob("*")) - before)
        assert len(written) == 1 and written[0].suffix == ".p7m"  # no partial file beside it
        bundle_id = build.run(database(app), job.id, rules, export_case.storage)
    assert written[0].name == f"{bundle_id}.p7m"
    assert sorted(set(folder.glob("*")) - before) == written
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ExportBundle)) == 1
    assert session.get(ExportJob, job.id).state == JobState.DONE


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "exports" / "b.p7m"
    file_crypto.write(target, b"x" * 1000)
    assert file_crypto.read(target) == b"x" * 1000
    assert b"xxxx" not in target.read_bytes()  # encrypted at rest (issue 19)
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.p7m"]


def test_without_an_authority_certificate_nothing_is_queued(session, world):
    from pmha.core.errors import Conflict
    from tests.factories import make_case

    case = make_case(session, world.actor("nurse"), destination="CA")
    session.commit()
    with pytest.raises(Conflict) as caught:
        service.request_export(session, world.actor("panel_physician"), case.id)
    assert caught.value.code == "exports.no_authority_certificate"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ExportJob)) == 0


def test_another_sites_case_cannot_be_exported(session, world, export_case):
    with pytest.raises(NotFound):
        service.request_export(session, world.actor("foreign"), export_case.case.id)


def test_the_log_records_download_delivery_and_acknowledgement(session, world, export_case):
    job = export(session, world, export_case)
    ops = world.actor("operations")
    service.download(session, ops, job.bundle_id, export_case.storage)
    service.log_event(session, ops, job.bundle_id, "delivered")
    service.log_event(session, ops, job.bundle_id, "acknowledged")
    events = [
        e.event.value
        for e in session.scalars(
            select(ExportLogEntry)
            .where(ExportLogEntry.bundle_id == job.bundle_id)
            .order_by(ExportLogEntry.at)
        )
    ]
    assert events == ["created", "downloaded", "delivered", "acknowledged"]


def test_the_bundle_imports_on_the_receiving_side(session, world, export_case):
    job = export(session, world, export_case)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    authority = world.actor("receiving_authority")
    row = receive.import_bundle(session, authority, data, export_case.storage)
    assert row.id == job.bundle_id
    travellers = session.scalars(
        select(ImportedTraveller).where(ImportedTraveller.import_id == row.id)
    ).all()
    assert {t.given_names for t in travellers} == {
        a.given_names for a in export_case.case.applicants
    }
    listed = receive.arrivals(session, authority)
    assert len(listed) == 2
    assert all(t.clearance for _, t in listed)


def test_the_zip_is_deterministic_for_the_same_parts():
    from pmha.exports.parts import Part

    parts = [
        Part("fhir/a.json", "application/fhir+json", b"{}"),
        Part("dicom/x.dcm", "application/dicom", b"D"),
    ]
    manifest = {"schema_version": "1", "files": []}
    assert build.pack(parts, manifest) == build.pack(list(reversed(parts)), manifest)
    names = zipfile.ZipFile(io.BytesIO(build.pack(parts, manifest))).namelist()
    assert names[0] == "manifest.json"


def test_the_summary_holds_vitals_a_classification_and_the_xray_report(
    app, session, world, export_case
):
    """The issue's list: Patient, Composition, Immunization, Observation for labs and vitals,
    Condition for classifications, DiagnosticReport and ImagingStudy, clearance and follow-up."""
    from pmha.exams import radiology
    from pmha.exams import service as exams
    from pmha.exams.models import SectionKind

    rules = app.extensions["pmha.rules"]
    physician, principal = world.actor("panel_physician"), export_case.case.principal
    vitals = {"temperature_c": 36.8, "height_cm": 172, "weight_kg": 70,
              "systolic_mmhg": 120, "diastolic_mmhg": 80}  # fmt: skip
    physical = {"vitals": vitals, "systems": {"lungs": {"status": "normal"}}, "overall": "normal"}
    for kind, data in (
        (SectionKind.PHYSICAL_EXAM, physical),
        # class B without the answers that imply it: the physician gives the reason [issue 14]
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
    session.commit()
    job = export(session, world, export_case)
    files = opened(export_case.storage, job.bundle_id)
    document = json.loads(files[f"fhir/{principal.id}.json"])
    resources = [e["resource"] for e in document["entry"]]
    kinds = {r["resourceType"] for r in resources}
    assert {"Composition", "Patient", "Immunization", "Observation", "Condition",
            "ImagingStudy", "DiagnosticReport"} <= kinds  # fmt: skip
    observed = {c["code"] for r in resources if r["resourceType"] == "Observation"
                for c in r["code"]["coding"]}  # fmt: skip
    assert {"8302-2", "29463-7", "85354-9", "clearance"} <= observed  # vitals and the clearance
    assert any(r["resourceType"] == "Observation" and r.get("category", [{}])[0]
               .get("coding", [{}])[0].get("code") == "laboratory" for r in resources)  # fmt: skip
    assert fhir.check_bundle(document) == []
    assert f"hl7/{principal.id}.hl7" in files and files[f"hl7/{principal.id}.hl7"].startswith(
        b"MSH|"
    )
    assert f"dicom/{study.sha256}.dcm" in files
    assert any(n.startswith("pdf/vaccination-record-") for n in files)
    manifest = json.loads(files["manifest.json"])
    assert {"schema_version", "bundle_id", "sending_site", "case", "travellers",
            "rule_versions", "files", "created_at"} <= set(manifest)  # fmt: skip
    assert all({"path", "sha256", "media_type"} <= set(f) for f in manifest["files"])
    told = next(t for t in manifest["travellers"] if t["id"] == str(principal.id))
    assert "mental_health:class_b" in told["classifications"]
