"""A specialist's report attached to the record: type read from the bytes, stored by hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmha.core import file_crypto
from tests.conftest import csrf_token
from tests.factories import make_case

PDF = b"%PDF-1.4\n% synthetic specialist report\n%%EOF\n"


@pytest.fixture()
def applicant(session, world):
    found = make_case(session, world.actor("nurse")).applicants[0]
    session.commit()
    return found


def attach(client, world, applicant, body, role="panel_physician"):
    return client.post(
        f"/api/v1/applicants/{applicant.id}/attachments/specialist_report",
        data=body,
        headers={**world.auth(role), "Content-Type": "application/octet-stream"},
    )


def test_a_report_is_attached_and_read_back(client, world, applicant):
    response = attach(client, world, applicant, PDF)
    assert response.status_code == 201 and response.json["media_type"] == "application/pdf"
    read = client.get(f"/api/v1/attachments/{response.json['id']}", headers=world.auth("nurse"))
    assert read.status_code == 200 and read.data == PDF and read.mimetype == "application/pdf"
    # Issue 19: kept encrypted at rest, by hash, never under its uploaded name
    stored = Path(client.application.extensions["pmha.config"].STORAGE_DIR) / "attachments"
    on_disk = [p.read_bytes() for p in stored.rglob("*") if p.is_file()]
    assert on_disk and all(b.startswith(file_crypto.MAGIC) and PDF not in b for b in on_disk)


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"<html><script>x</script></html>", "PDF, JPEG or PNG"), (b"", "Choose the file")],
)
def test_a_file_that_is_not_a_document_is_refused(client, world, applicant, body, message):
    response = attach(client, world, applicant, body)
    assert response.status_code == 422
    assert message in str(response.json["errors"]["file"])


def test_an_unknown_purpose_is_refused(client, world, applicant):
    response = client.post(
        f"/api/v1/applicants/{applicant.id}/attachments/selfie",
        data=PDF,
        headers=world.auth("panel_physician"),
    )
    assert response.status_code == 422 and "purpose" in response.json["errors"]


def test_another_sites_physician_cannot_read_it(client, world, applicant):
    created = attach(client, world, applicant, PDF).json
    response = client.get(f"/api/v1/attachments/{created['id']}", headers=world.auth("foreign"))
    assert response.status_code == 404


def test_the_referral_panel_attaches_a_report(client, world, applicant, signed_in):
    import io

    c = signed_in("panel_physician")
    url = f"/cases/{applicant.case_id}/applicants/{applicant.id}/exam"
    page = c.get(url)
    assert "Specialist's report" in page.text
    response = c.post(
        f"{url}/specialist_referral/report",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(PDF), "report.pdf")},
    )
    assert response.status_code == 302
    assert "PDF report" in c.get(url).text
    bad = c.post(
        f"{url}/specialist_referral/report",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token(page.text),
            "file": (io.BytesIO(b"MZ\x90\x00"), "report.exe"),
        },
    )
    assert bad.status_code == 422 and "PDF, JPEG or PNG" in bad.text
