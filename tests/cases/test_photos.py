"""Applicant photos over the API: re-encoded without metadata, bad files refused, reads audited."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from pmha.cases.models import ApplicantPhoto
from pmha.core.audit import AuditEvent
from tests.factories import case_data


def image_bytes(fmt="JPEG", size=(300, 400), exif=False):
    image = Image.new("RGB", size, (120, 90, 60))
    out = io.BytesIO()
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SyntheticCam"  # Make
        kwargs["exif"] = data.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.fixture()
def applicant_id(client, world):
    response = client.post("/api/v1/cases", json=case_data(), headers=world.auth("nurse"))
    return response.json["applicants"][0]["id"]


def put(client, world, applicant_id, body, content_type="image/jpeg", role="nurse"):
    return client.put(
        f"/api/v1/applicants/{applicant_id}/photo",
        data=body,
        headers={**world.auth(role), "Content-Type": content_type},
    )


def test_photo_is_stored_without_metadata_and_read_back(client, world, applicant_id, session):
    response = put(client, world, applicant_id, image_bytes(exif=True))
    assert response.status_code == 200, response.json
    assert (response.json["width"], response.json["height"]) == (300, 400)
    read = client.get(f"/api/v1/applicants/{applicant_id}/photo", headers=world.auth("nurse"))
    assert read.status_code == 200 and read.mimetype == "image/jpeg"
    assert b"SyntheticCam" not in read.data
    reads = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.record_type == "applicant_photo", AuditEvent.action == "read")
    )
    assert reads == 1


def test_png_is_accepted_and_large_photos_are_shrunk(client, world, applicant_id):
    response = put(client, world, applicant_id, image_bytes("PNG", (1200, 1600)), "image/png")
    assert response.status_code == 200
    assert (response.json["width"], response.json["height"]) == (600, 800)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"not an image at all", "image/jpeg", 422, "applicants.photo_invalid"),
        (image_bytes("PNG"), "image/jpeg", 422, "applicants.photo_invalid"),  # lies about type
        (image_bytes(size=(20, 20)), "image/jpeg", 422, "applicants.photo_invalid"),
        (image_bytes()[:200], "image/jpeg", 422, "applicants.photo_invalid"),  # truncated
        (image_bytes(), "application/pdf", 415, "request.unsupported_media_type"),
        (b"\xff" * (9 * 1024 * 1024), "image/jpeg", 413, "request.too_large"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_stored(
    client, world, applicant_id, session, body, content_type, status, code
):
    response = put(client, world, applicant_id, body, content_type)
    assert response.status_code == status
    assert response.json["code"] == code
    assert session.scalar(select(func.count()).select_from(ApplicantPhoto)) == 0


def test_photo_of_another_sites_applicant_is_404(client, world, applicant_id):
    response = put(client, world, applicant_id, image_bytes(), role="foreign")
    assert response.status_code == 404


def test_delete_photo(client, world, applicant_id):
    put(client, world, applicant_id, image_bytes())
    url = f"/api/v1/applicants/{applicant_id}/photo"
    assert client.delete(url, headers=world.auth("nurse")).status_code == 204
    assert client.get(url, headers=world.auth("nurse")).status_code == 404
