"""The export pages: build with progress, download, log; the authority's upload and arrivals."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from pmha.core import file_crypto
from pmha.exports.models import ExportLogEntry, ImportedBundle
from tests.conftest import csrf_token
from tests.exports.conftest import build_now


def post(client, url, data, **kwargs):
    page = client.get("/")
    return client.post(url, data={**data, "csrf_token": csrf_token(page.text)}, **kwargs)


def test_a_physician_builds_downloads_and_logs_a_bundle(signed_in, export_case, session):
    client = signed_in("panel_physician")
    url = f"/cases/{export_case.case.id}/exports"
    page = client.get(url)
    assert page.status_code == 200 and "Build the bundle" in page.text
    built = post(client, url, {})
    assert built.status_code == 302
    page = client.get(url)
    assert "Ready" in page.text
    link = re.search(r'href="(/exports/[0-9a-f-]{36}/download)"', page.text).group(1)
    download = client.get(link)
    assert download.status_code == 200
    assert download.mimetype == "application/pkcs7-mime"
    disposition = download.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="[0-9a-f-]{36}\.p7m"', disposition)
    bundle_id = link.split("/")[2]
    assert post(client, f"/exports/{bundle_id}/log", {"event": "delivered"}).status_code == 302
    events = session.scalars(select(ExportLogEntry.event)).all()
    assert sorted(e.value for e in events) == ["created", "delivered", "downloaded"]


def test_a_build_without_the_authoritys_certificate_says_so(signed_in, world, session):
    from tests.factories import make_case

    case = make_case(session, world.actor("nurse"), destination="CA")
    session.commit()
    client = signed_in("operations")
    response = post(client, f"/cases/{case.id}/exports", {}, follow_redirects=True)
    assert "No valid certificate of the receiving authority" in response.text


def test_the_authority_imports_a_bundle_and_sees_its_arrivals(
    signed_in, export_case, session, world, client
):
    from pmha.exports import build

    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    authority = signed_in("receiving_authority")
    response = post(
        authority,
        "/arrivals",
        {"file": (io.BytesIO(data), "bundle.p7m")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    arrival = authority.get(response.headers["Location"])
    assert arrival.status_code == 200
    assert export_case.case.case_number in arrival.text
    listing = authority.get("/arrivals")
    for a in export_case.case.applicants:
        assert a.family_name in listing.text


def test_a_bad_upload_is_refused_in_words_and_nothing_is_kept(signed_in, export_case, session):
    authority = signed_in("receiving_authority")
    response = post(
        authority,
        "/arrivals",
        {"file": (io.BytesIO(b"garbage"), "x.p7m")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not a CMS envelope" in response.text
    assert session.scalar(select(func.count()).select_from(ImportedBundle)) == 0


def test_another_authority_cannot_see_an_arrival(signed_in, export_case, session, world):
    from pmha.exports import build, receive

    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    row = receive.import_bundle(
        session, world.actor("receiving_authority"), data, export_case.storage
    )
    row.destination = "CA"
    session.commit()
    assert signed_in("receiving_authority").get(f"/arrivals/{row.id}").status_code == 404


def test_a_running_build_shows_its_step_and_progress_and_polls(signed_in, export_case, session):
    from pmha.exports.models import ExportJob, JobState

    case = export_case.case
    session.add(
        ExportJob(
            case_id=case.id,
            site_id=case.site_id,
            state=JobState.RUNNING,
            step="signing and encrypting",
            progress=60,
        )
    )
    session.commit()
    page = signed_in("operations").get(f"/cases/{case.id}/exports")
    assert '<meta http-equiv="refresh" content="2">' in page.text
    assert '<progress id="job-progress" max="100" value="60">' in page.text
    assert "Signing and encrypting" in page.text
    assert "disabled" in page.text  # no second build while one runs


def test_nothing_identifying_is_logged_while_exporting(session, world, export_case, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    build_now(export_case, session, world)
    logged = caplog.text
    for a in export_case.case.applicants:
        assert a.family_name not in logged and a.given_names not in logged
        assert a.dob.isoformat() not in logged


def test_nothing_identifying_is_logged_while_importing(session, world, export_case, caplog):
    """The receiving side: decrypting, checking and loading a bundle logs no name or birth date."""
    import logging

    from pmha.exports import build, receive

    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    receive.import_bundle(session, world.actor("receiving_authority"), data, export_case.storage)
    logged = caplog.text
    for a in export_case.case.applicants:
        assert a.family_name not in logged and a.given_names not in logged
        assert a.dob.isoformat() not in logged


def test_the_job_is_retried_on_transient_database_errors_only():
    from sqlalchemy.exc import OperationalError

    from pmha.exports.tasks import build_bundle

    assert build_bundle.autoretry_for == (OperationalError,)  # see test_tasks.py for behaviour
    assert build_bundle.acks_late and build_bundle.reject_on_worker_lost


def test_staff_record_delivery_and_acknowledgement_on_the_page_audited(
    signed_in, export_case, session, world
):
    from pmha.core.audit import AuditEvent

    job = build_now(export_case, session, world)
    client = signed_in("operations")
    for event in ("delivered", "acknowledged"):
        response = post(client, f"/exports/{job.bundle_id}/log", {"event": event})
        assert response.status_code == 302
    page = client.get(f"/cases/{export_case.case.id}/exports")
    assert "Delivered " in page.text and "Acknowledged " in page.text
    session.expire_all()
    audited = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.record_type == "export_bundle", AuditEvent.record_id == str(job.bundle_id)
        )
    ).all()
    assert {"delivered", "acknowledged"} <= set(audited)


def test_an_unknown_log_event_is_refused_and_nothing_is_written(
    signed_in, export_case, session, world
):
    job = build_now(export_case, session, world)
    client = signed_in("operations")
    response = post(
        client, f"/exports/{job.bundle_id}/log", {"event": "created"}, follow_redirects=True
    )
    assert "Choose delivered or acknowledged." in response.text
    session.expire_all()
    events = session.scalars(select(ExportLogEntry.event)).all()
    assert [e.value for e in events] == ["created"]


def test_the_authority_opens_an_arrivals_pdfs(signed_in, export_case, session, world):
    from pmha.core.audit import AuditEvent
    from pmha.exports import build, receive

    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    row = receive.import_bundle(
        session, world.actor("receiving_authority"), data, export_case.storage
    )
    session.commit()
    authority = signed_in("receiving_authority")
    page = authority.get(f"/arrivals/{row.id}")
    links = set(re.findall(rf'href="(/arrivals/{row.id}/files/\d+)"', page.text))
    # The fixture's travellers are not cleared yet: their vaccination records are the PDFs.
    assert "Vaccination record (PDF)" in page.text, [f["path"] for f in row.manifest["files"]]
    pdfs = [authority.get(link) for link in sorted(links)]
    kinds = sorted(r.mimetype for r in pdfs)
    assert kinds.count("application/pdf") >= 2 and "application/dicom" in kinds
    for response in pdfs:
        assert response.status_code == 200
        assert re.fullmatch(
            rf'(inline|attachment); filename="{row.id}-\d+\.(pdf|dcm)"',
            response.headers["Content-Disposition"],
        )
        if response.mimetype == "application/pdf":
            assert response.data.startswith(b"%PDF-")
    fhir_index = next(
        i for i, f in enumerate(row.manifest["files"]) if f["path"].startswith("fhir/")
    )
    assert authority.get(f"/arrivals/{row.id}/files/{fhir_index}").status_code == 404
    assert authority.get(f"/arrivals/{row.id}/files/999").status_code == 404
    session.expire_all()
    reads = session.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "imported_file")
    ).all()
    assert len(reads) == len(links)


def test_the_workflow_page_shows_the_export_state(signed_in, export_case, session, world):
    client = signed_in("operations")
    url = f"/cases/{export_case.case.id}/workflow"
    assert "(not exported yet)" in client.get(url).text
    job = build_now(export_case, session, world)
    assert "(bundle ready)" in client.get(url).text
    post(client, f"/exports/{job.bundle_id}/log", {"event": "delivered"})
    assert re.search(r"\(bundle delivered \d{4}-\d\d-\d\d\)", client.get(url).text)
