"""The X-ray viewer's full-resolution pixels (issue 18): the stored values as they are (16-bit,
gzip), with the size, the modality rescale (DICOM PS3.3 C.11.1) and the file's window (PS3.3
C.11.2) in headers, so the browser windows them; colour images keep the 8-bit preview. The
read is audited; the page names the header identity next to the image."""

from __future__ import annotations

import gzip
import io
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from pmha.core.audit import AuditEvent
from pmha.exams import xray_pixels
from pmha.exams.dicom.errors import DicomRejected
from pmha.exams.radiology import XrayStudy
from tests.conftest import csrf_token
from tests.exams import dicom_factory
from tests.exams.dicom_factory import Spec
from tests.factories import applicant_data, make_case


def test_stored_values_and_window_are_kept() -> None:
    spec = Spec(rows=64, columns=48, window=(1000.0, 500.0))
    image = xray_pixels.full_image(dicom_factory.make(spec))
    values = np.frombuffer(gzip.decompress(image.body), dtype="<u2").reshape(64, 48)
    expected = dicom_factory.build(spec).pixel_array
    assert np.array_equal(values, expected)
    assert (image.rows, image.columns, image.center, image.width) == (64, 48, 1000.0, 500.0)
    assert not image.invert and not image.signed


def test_without_a_window_the_percentiles_give_one() -> None:
    image = xray_pixels.full_image(dicom_factory.make(Spec(window=None)))
    assert image.low <= image.center - image.width / 2 < image.center + image.width / 2
    assert image.center + image.width / 2 <= image.high


def test_monochrome1_is_inverted() -> None:
    image = xray_pixels.full_image(dicom_factory.make(Spec(photometric="MONOCHROME1")))
    assert image.invert


@pytest.fixture()
def adult(session: Any, world: Any) -> Any:
    applicant = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    session.commit()
    return applicant


def test_the_viewer_serves_full_resolution_and_shows_the_header(
    client: Any, signed_in: Any, session: Any, adult: Any
) -> None:
    signed_in("radiologist")
    page = f"/cases/{adult.case_id}/applicants/{adult.id}/xrays"
    token = csrf_token(client.get(page).text)
    client.post(
        page, data={"csrf_token": token, "file": (io.BytesIO(dicom_factory.make()), "c.dcm")}
    )
    study = session.scalar(select(XrayStudy))
    viewer = client.get(f"/xrays/{study.id}").text
    assert f'data-cxr-pixels="/xrays/{study.id}/pixels"' in viewer
    assert "Image header" in viewer and "HADDAD, Omar" in viewer and "Study date" in viewer
    got = client.get(f"/xrays/{study.id}/pixels")
    assert got.status_code == 200 and got.headers["Content-Encoding"] == "gzip"
    rows, columns = int(got.headers["X-Rows"]), int(got.headers["X-Columns"])
    assert len(gzip.decompress(got.data)) == rows * columns * 2 == 256 * 200 * 2
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.record_type == "xray_image", AuditEvent.record_id == str(study.id)
        )
    )


def test_a_colour_image_is_refused_in_words() -> None:
    with pytest.raises(DicomRejected) as exc:
        xray_pixels.full_image(
            dicom_factory.make(Spec(photometric="RGB", sop_class=dicom_factory.SC, modality="OT"))
        )
    assert "greyscale" in str(exc.value)
