"""Malformed DICOM files are refused by name, never a 500 (issue 19, "every file reader total").

The fixtures (tests/exams/malformed_dicom.py) break a valid chest X-ray the ways DICOM PS3.5
forbids: truncation and declared lengths past the end (7.1), VR lengths (6.2), sequences and
delimiters (7.5), pixel data against the Image Pixel module (PS3.3 C.7.6.3, PS3.5 8.2),
encapsulation and transfer syntaxes (A.4, A.5). Before this change 8 of them made the upload
answer 500 (BytesLengthException, TypeError, NotImplementedError, RecursionError, ValueError) and
11 were accepted and stored, a PixelData of length 0xFFFFFFF0 among them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydicom.uid import RLELossless

from pmha.exams import dicom
from pmha.exams.dicom import DicomRejected, UidMapper
from pmha.workflow.commands import FactsUpdate
from tests.exams import dicom_factory as factory
from tests.exams import malformed_dicom as malformed
from tests.exams.test_radiology import NO_TB, upload
from tests.factories import applicant_data, make_case

SECRET = b"malformed-tests-secret"
IDS = [row[0] for row in malformed.MALFORMED]


def refused(data: bytes, call=dicom.inspect) -> DicomRejected:
    with pytest.raises(DicomRejected) as caught:
        call(data)
    return caught.value


def deidentify(data: bytes) -> bytes:
    return dicom.deidentify(data, UidMapper(SECRET))


@pytest.mark.parametrize(("name", "build", "code"), malformed.MALFORMED, ids=IDS)
def test_inspect_refuses_each_malformed_file_by_name(name, build, code):
    error = refused(build())
    assert error.code.removeprefix("exams.dicom.") in code.split("|"), (name, error.detail)
    assert error.code != "exams.dicom.unreadable"  # a named check, not the last line
    assert error.status == (413 if code == "too_large" else 422)
    for value in factory.IDENTIFYING.values():
        assert value not in error.detail


@pytest.mark.parametrize(("name", "build", "code"), malformed.MALFORMED, ids=IDS)
def test_preview_and_deidentification_are_total(name, build, code):
    """They read the same files: each refuses with DicomRejected, or makes its output."""
    data = build()
    for call in (dicom.render_previews, deidentify):
        try:
            call(data)
        except DicomRejected as error:
            assert error.code != "exams.dicom.unreadable", (name, error.detail)


def test_the_huge_pixel_length_is_not_read_to_the_end_of_the_file():
    """The issue's file: PixelData declared 0xFFFFFFF0 bytes long was accepted and stored."""
    data = malformed.set_length(factory.make(), 0x7FE0, 0x0010, b"OW", 0xFFFFFFF0)
    error = refused(data)
    assert error.code == "exams.dicom.truncated"
    assert "(7FE0,0010)" in error.detail and "runs past the end of the file" in error.detail


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(factory.make(), id="explicit"),
        pytest.param(factory.make(implicit_vr=True), id="implicit"),
        pytest.param(factory.make(photometric="MONOCHROME1"), id="monochrome1"),
        pytest.param(factory.make(sop_class=factory.DX, modality="DX"), id="dx"),
        pytest.param(factory.make(rows=255, columns=199), id="odd_size"),
        pytest.param(malformed.seeds()[3], id="with_a_sequence"),
        pytest.param(malformed._deflated(factory.make()), id="deflated"),
    ],
)
def test_valid_files_still_pass_the_structure_checks(data):
    info = dicom.inspect(data)
    assert info.rows > 0
    assert dicom.render_previews(data).preview.startswith(b"\x89PNG")
    assert dicom.inspect(deidentify(data)).sop_class_uid == info.sop_class_uid


def test_a_compressed_file_with_a_decoder_passes():
    """RLE Lossless (PS3.5 G) is encapsulated: fragments walked, decoded, previewed."""
    ds = factory.build(factory.Spec(rows=64, columns=48))
    ds.compress(RLELossless, encoding_plugin="pydicom")
    data = factory.to_bytes(ds)
    assert dicom.inspect(data).transfer_syntax_uid == RLELossless
    dicom.render_previews(data)
    deidentify(data)


def test_an_unforeseen_failure_is_refused_and_logged_without_values(monkeypatch, caplog):
    """The adapter's last line: an exception no check foresaw becomes 'unreadable' (422), and
    the log names its type and place, never its text (which may quote a value)."""

    def boom(ds):
        raise RuntimeError("HADDAD^OMAR")

    monkeypatch.setattr("pmha.exams.dicom.validate.describe", boom)
    caplog.set_level(logging.WARNING, logger="pmha.exams.dicom.validate")
    error = refused(factory.make())
    assert error.code == "exams.dicom.unreadable" and error.status == 422
    assert "RuntimeError" in error.detail and "HADDAD" not in error.detail
    assert "RuntimeError" in caplog.text and "HADDAD" not in caplog.text


def test_preview_and_deidentify_refuse_what_inspect_refuses():
    data = malformed.set_length(factory.make(), 0x7FE0, 0x0010, b"OW", 0xFFFFFFF0)
    assert refused(data, dicom.render_previews).code == "exams.dicom.truncated"
    assert refused(data, deidentify).code == "exams.dicom.truncated"


# ---------------------------------------------------------------------------------------------
# through the upload route: a named 4xx, nothing kept


@pytest.fixture()
def adult(session, world, app):
    from pmha.workflow import service as workflow

    applicant = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    rules = app.extensions["pmha.rules"]
    workflow.set_facts(
        session, world.actor("panel_physician"), rules, applicant.id, FactsUpdate(**dict(NO_TB))
    )
    return applicant


def test_every_malformed_file_uploaded_answers_a_named_4xx_and_keeps_nothing(
    client, world, session, adult, app
):
    """All fixtures through POST /api/v1/applicants/<id>/xrays: problem+json 413 or 422 with
    the refusal's code; no study listed and no file written under storage."""
    session.commit()
    storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
    kinds = ("dicom", "previews", "deidentified")

    def files() -> dict[str, set[Path]]:  # the worker's storage may hold earlier tests' files
        return {kind: {p for p in (storage / kind).rglob("*") if p.is_file()} for kind in kinds}

    before = files()
    answers = {}
    for name, build, code in malformed.MALFORMED:
        response = upload(client, world, adult.id, build())
        assert response.status_code in (413, 422), (name, response.status_code)
        assert response.mimetype == "application/problem+json"
        answers[name] = response.json["code"]
        assert answers[name].removeprefix("exams.dicom.") in code.split("|"), (name, answers[name])
    listed = client.get(f"/api/v1/applicants/{adult.id}/xrays", headers=world.auth("radiologist"))
    assert listed.json["studies"] == []
    after = files()
    for kind in kinds:
        assert after[kind] == before[kind], kind


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("pixel_length_fffffff0", "runs past the end of the file"),
        ("rows_length_3", "not a whole number of 2-byte values"),
        ("nested_undefined_200_deep", "nest more than 12 deep"),
        ("jpeg_lossless_without_a_decoder", "which this server cannot decode"),
    ],
)
def test_the_upload_page_shows_the_refusal_in_words(signed_in, session, world, adult, name, words):
    """The page route: a 422 form error naming the problem, not a 500."""
    from tests.exams.test_radiology import _page_upload

    session.commit()
    build = next(row[1] for row in malformed.MALFORMED if row[0] == name)
    client = signed_in("radiologist")
    response = _page_upload(client, adult, build())
    assert response.status_code == 422
    assert words in response.text
