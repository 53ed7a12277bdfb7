"""The DICOM adapter: validation, content addressing, previews, de-identification, and an
independent check of every file we write with dciodvfy (dicom3tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from pmha.core import file_crypto
from pmha.exams import dicom
from pmha.exams.dicom import DicomRejected, UidMapper
from pmha.exams.dicom.profile import BASIC_PROFILE
from tests.exams import dicom_factory as factory

SECRET = b"centre-secret-for-tests-0123456789"


def rejected(data: bytes) -> DicomRejected:
    with pytest.raises(DicomRejected) as caught:
        dicom.inspect(data)
    return caught.value


def dataset(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(BytesIO(data))


# ---------------------------------------------------------------------------------------------
# dciodvfy


def dciodvfy_errors(path: Path) -> list[str]:
    """The "Error" lines dciodvfy prints for a file (warnings are allowed)."""
    exe = shutil.which("dciodvfy")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail(
                "dciodvfy (dicom3tools) is not installed: run scripts/install-system-deps.sh"
            )
        pytest.skip("dciodvfy (dicom3tools) is not installed")
    done = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60, check=False)
    output = done.stdout + done.stderr
    return [line for line in output.splitlines() if "Error" in line]


VALID = {
    "cr_mono2": {},
    "cr_mono1": {"photometric": "MONOCHROME1"},
    "cr_16_bits_stored": {"bits_stored": 16, "window": (30000.0, 60000.0)},
    "cr_implicit_vr": {"implicit_vr": True},
    "dx_mono2": {"sop_class": factory.DX, "modality": "DX"},
    "dx_mono1": {"sop_class": factory.DX, "modality": "DX", "photometric": "MONOCHROME1"},
    "sc": {"sop_class": factory.SC, "modality": "OT", "body_part": None, "view": None},
}


@pytest.fixture
def store_root(tmp_path):
    """A storage folder with its own file key, as the app registers STORAGE_DIR."""
    storage = tmp_path / "storage"
    file_crypto.register(storage, file_crypto.FileCipher.from_text(file_crypto.new_key_text("t1")))
    return storage / "dicom"


@pytest.mark.parametrize("name", VALID)
def test_dciodvfy_accepts_the_factory_stored_and_deidentified_files(name, tmp_path, store_root):
    data = factory.make(**VALID[name])
    original = tmp_path / "original.dcm"
    original.write_bytes(data)
    stored = tmp_path / "stored.dcm"  # what storage gives back (it keeps the file encrypted)
    stored.write_bytes(dicom.load(dicom.store(data, store_root).stem, store_root))
    deidentified = tmp_path / "deidentified.dcm"
    deidentified.write_bytes(dicom.deidentify(data, UidMapper(SECRET)))
    for path in (original, stored, deidentified):
        assert dciodvfy_errors(path) == [], path.name


def test_dciodvfy_catches_a_broken_file(tmp_path):
    # The check is only worth having if it fails: a DX image without its DX modules.
    ds = factory.build(factory.Spec(sop_class=factory.DX, modality="DX"))
    del ds.PresentationIntentType
    del ds.AnatomicRegionSequence
    path = tmp_path / "broken.dcm"
    path.write_bytes(factory.to_bytes(ds))
    assert dciodvfy_errors(path)


# ---------------------------------------------------------------------------------------------
# inspect: what is accepted, and what each refusal says


@pytest.mark.parametrize("name", VALID)
def test_inspect_accepts_chest_radiographs(name):
    spec = factory.Spec(**VALID[name])
    info = dicom.inspect(factory.to_bytes(factory.build(spec)))
    assert info.sop_instance_uid == spec.sop_uid
    assert info.study_instance_uid == spec.study_uid
    assert info.series_instance_uid == spec.series_uid
    assert info.sop_class_uid == spec.sop_class
    assert info.modality == spec.modality
    assert (info.rows, info.columns) == (spec.rows, spec.columns)
    assert info.bits_stored == spec.bits_stored
    assert info.photometric_interpretation == spec.photometric


def test_inspect_describes_the_image():
    info = dicom.inspect(factory.make())
    assert info.body_part == "CHEST"
    assert info.view_position == "PA"
    assert info.sop_class_name == "Computed Radiography Image Storage"
    assert info.study_date.isoformat() == "2024-03-15"
    assert info.acquisition_date.isoformat() == "2024-03-17"
    assert info.manufacturer == "SYNTHETIC MODALITY CO"
    assert info.transfer_syntax_uid == "1.2.840.10008.1.2.1"
    with pytest.raises(AttributeError):
        info.modality = "MR"  # frozen


def test_inspect_gives_the_header_identity():
    """PS3.3 C.7.1.1 Patient Module; PS3.5 6.2 PN: family^given^middle."""
    identity = dicom.inspect(
        factory.of_person("HADDAD^OMAR^KHALED", "M", "19850314", "X-1")
    ).identity
    assert identity.name == dicom.HeaderName("HADDAD", "OMAR", "KHALED")
    assert identity.name.shown() == "HADDAD, OMAR KHALED"
    assert identity.sex == "M"
    assert identity.birth_date.isoformat() == "1985-03-14"
    assert identity.patient_id == "X-1"
    assert identity.other_names == ()


def test_a_name_in_arabic_script_is_decoded():
    identity = dicom.inspect(factory.of_person("حداد^عمر", "M")).identity
    assert identity.name == dicom.HeaderName("حداد", "عمر", None)


def test_other_representation_groups_are_kept():
    """A PN value may carry ideographic and phonetic groups after '=' (PS3.5 6.2.1.1)."""
    identity = dicom.inspect(factory.of_person("HADDAD^OMAR=حداد^عمر", "M")).identity
    assert identity.name == dicom.HeaderName("HADDAD", "OMAR", None)
    assert identity.other_names == (dicom.HeaderName("حداد", "عمر", None),)


@pytest.mark.parametrize("birth_date", ["", "19851399", "1985"])
def test_missing_or_impossible_header_fields_are_none(birth_date):
    identity = dicom.inspect(factory.of_person("", "", birth_date, "")).identity
    assert identity == dicom.HeaderIdentity()


BAD = [
    (factory.html_renamed, "not_dicom", "not DICOM: it looks like an HTML page"),
    (factory.text_file, "not_dicom", "it looks like a text file"),
    (lambda: b"\x00\x01\x02\xff" * 100, "not_dicom", "no 'DICM' marker"),
    (lambda: b"", "not_dicom", "not DICOM"),
    (factory.no_preamble, "no_preamble", "no DICOM Part 10 header"),
    (factory.truncated, "truncated", "runs past the end of the file"),
    (factory.no_pixel_data, "no_pixel_data", "no pixel data"),
    (factory.wrong_modality, "wrong_modality", "modality is MR"),
    (factory.knee, "not_chest", "body part KNEE, not a chest X-ray"),
    (
        lambda: factory.make(sop_class=factory.DX, modality="CR"),
        "wrong_modality",
        "modality CR does not match its SOP class (Digital X-Ray Image Storage",
    ),
    (
        lambda: factory.make(sop_class="1.2.840.10008.5.1.4.1.1.1.2", modality="DX"),
        "wrong_sop_class",
        "Digital Mammography X-Ray Image Storage - For Presentation",
    ),
    (lambda: factory.make(view="CC"), "not_chest_view", "view position is CC"),
    (lambda: factory.make(body_part=None), "body_part_missing", "which body part"),
    (lambda: factory.make(photometric="PALETTE COLOR"), "unsupported_pixels", "PALETTE COLOR"),
]


@pytest.mark.parametrize(("make", "code", "words"), BAD, ids=[row[1] for row in BAD])
def test_inspect_rejects_with_a_message_naming_the_problem(make, code, words):
    error = rejected(make())
    assert error.code == f"exams.dicom.{code}"
    assert words in error.detail
    assert error.status == 422


def test_truncated_header_is_corrupt():
    """Cut inside an element: its declared length runs past the end (issue 19: the length is
    checked against the file's size before anything is read)."""
    data = factory.make()
    error = rejected(data[:300])
    assert error.code == "exams.dicom.truncated"
    assert "truncated" in error.detail


def test_size_limit_is_checked_before_parsing(monkeypatch):
    data = factory.make()
    monkeypatch.setattr("pmha.exams.dicom.validate.MAX_BYTES", len(data) - 1)

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed a file over the size limit")

    monkeypatch.setattr(pydicom, "dcmread", must_not_parse)
    error = rejected(data)
    assert error.code == "exams.dicom.too_large"
    assert error.status == 413
    assert "the limit is" in error.detail


def test_size_limit_constant_is_200_mib():
    assert dicom.MAX_BYTES == 200 * 1024 * 1024


def test_a_secondary_capture_of_a_knee_is_still_refused():
    error = rejected(factory.make(sop_class=factory.SC, modality="OT", body_part="KNEE", view=None))
    assert error.code == "exams.dicom.not_chest"


def test_a_dx_coded_as_another_region_is_refused():
    ds = factory.build(factory.Spec(sop_class=factory.DX, modality="DX", body_part=None))
    ds.AnatomicRegionSequence[0].CodeValue = "72696002"
    ds.AnatomicRegionSequence[0].CodeMeaning = "Knee"
    error = rejected(factory.to_bytes(ds))
    assert error.code == "exams.dicom.not_chest"
    assert "72696002" in error.detail


def test_messages_never_quote_patient_data():
    # A name typed where a coded value belongs is not quoted back.
    ds = factory.build()
    with pydicom.config.disable_value_validation():
        ds.BodyPartExamined = "SYNTHETIC^ALICE"
    detail = rejected(factory.to_bytes(ds)).detail
    assert "ALICE" not in detail
    assert "an unrecognised value" in detail
    for bad in (factory.knee(), factory.wrong_modality(), factory.no_pixel_data()):
        detail = rejected(bad).detail
        assert not any(value in detail for value in factory.IDENTIFYING.values())


def test_markup_in_a_coded_value_is_not_quoted():
    ds = factory.build()
    with pydicom.config.disable_value_validation():
        ds.BodyPartExamined = "<script>x</script>"
        data = factory.to_bytes(ds)
    assert "<" not in rejected(data).detail


def test_an_unregistered_sop_class_is_named_as_such():
    error = rejected(factory.make(sop_class="1.2.3.4.5.6", modality="CR"))
    assert error.code == "exams.dicom.wrong_sop_class"
    assert "an unregistered SOP class" in error.detail


# ---------------------------------------------------------------------------------------------
# content addressing


def test_sha256_of_is_the_hex_digest():
    assert dicom.sha256_of(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_store_writes_at_the_content_address(store_root):
    data = factory.make()
    digest = dicom.sha256_of(data)
    path = dicom.store(data, store_root)
    assert path == store_root / digest[:2] / digest[2:4] / f"{digest}.dcm"
    assert dicom.load(digest, store_root) == data
    # encrypted at rest (issue 19): the file on disk is not the image
    assert path.read_bytes().startswith(file_crypto.MAGIC) and data not in path.read_bytes()


def test_same_bytes_same_path_and_the_file_is_reused(store_root):
    data = factory.make()
    first = dicom.store(data, store_root)
    mtime = first.stat().st_mtime_ns
    second = dicom.store(data, store_root)
    assert first == second
    assert second.stat().st_mtime_ns == mtime
    assert [p for p in store_root.rglob("*") if p.is_file()] == [first]


def test_different_bytes_different_paths(store_root):
    assert dicom.store(factory.make(), store_root) != dicom.store(factory.make(), store_root)


def test_a_damaged_copy_is_rewritten(store_root):
    data = factory.make()
    path = dicom.store(data, store_root)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    assert dicom.store(data, store_root) == path
    assert dicom.load(path.stem, store_root) == data


@pytest.mark.parametrize("failing", ["os.fsync", "os.replace"])
def test_a_failed_write_leaves_no_file_behind(store_root, monkeypatch, failing):
    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(failing, crash)
    data = factory.make()
    with pytest.raises(OSError):
        dicom.store(data, store_root)
    assert [p for p in store_root.rglob("*") if p.is_file()] == []


def test_sweep_removes_what_a_killed_process_left(store_root):
    path = dicom.store(factory.make(), store_root)
    (path.parent / ".incoming-abc.tmp").write_bytes(b"partial")
    assert dicom.sweep_temporary(store_root) == 1
    assert [p for p in store_root.rglob("*") if p.is_file()] == [path]


def test_path_for_refuses_what_is_not_a_digest(tmp_path):
    with pytest.raises(ValueError):
        dicom.path_for("../../etc/passwd", tmp_path)


# ---------------------------------------------------------------------------------------------
# previews


def png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(BytesIO(data))
    image.load()
    return image


def test_preview_is_an_8_bit_png_no_larger_than_asked():
    data = factory.make(rows=600, columns=480)
    image = png(dicom.render_preview(data, 300))
    assert image.mode == "L"
    assert image.size == (240, 300)


def test_previews_have_the_standard_sizes():
    previews = dicom.render_previews(factory.make(rows=2048, columns=1600))
    assert png(previews.preview).size == (800, 1024)
    assert png(previews.thumbnail).size == (200, 256)


def test_a_small_image_is_not_enlarged():
    assert png(dicom.render_preview(factory.make(rows=100, columns=80), 1024)).size == (80, 100)


def test_monochrome1_is_inverted():
    # The same anatomy stored both ways must look the same on screen.
    mono2 = np.asarray(png(dicom.render_preview(factory.make(), 1024)), dtype=np.int16)
    mono1 = np.asarray(
        png(dicom.render_preview(factory.make(photometric="MONOCHROME1"), 1024)), dtype=np.int16
    )
    assert np.abs(mono2 - mono1).mean() < 2.0
    # And the lungs (left third, mid-height) are darker than the spine (centre).
    rows, cols = mono2.shape
    assert mono2[rows * 45 // 100, cols * 3 // 10] < mono2[rows * 45 // 100, cols // 2]


def test_monochrome1_without_inversion_would_differ():
    ds = factory.build(factory.Spec(photometric="MONOCHROME1"))
    ds.PhotometricInterpretation = "MONOCHROME2"
    wrong = np.asarray(png(dicom.render_preview(factory.to_bytes(ds), 1024)), dtype=np.int16)
    right = np.asarray(png(dicom.render_preview(factory.make(), 1024)), dtype=np.int16)
    assert np.abs(wrong - right).mean() > 50


def test_the_files_window_is_used():
    # A narrow window around the lungs clips everything else to black or white.
    narrow = np.asarray(png(dicom.render_preview(factory.make(window=(600.0, 50.0)), 1024)))
    wide = np.asarray(png(dicom.render_preview(factory.make(window=(2048.0, 4096.0)), 1024)))
    assert ((narrow == 0) | (narrow == 255)).mean() > 0.8
    assert ((wide == 0) | (wide == 255)).mean() < 0.1


def test_without_a_window_a_percentile_window_fills_the_range():
    image = np.asarray(png(dicom.render_preview(factory.make(window=None), 1024)))
    assert image.min() <= 5
    assert image.max() >= 250


def test_rescale_slope_and_intercept_are_applied_before_the_window():
    # Stored values x, modality values 2x + 1000: the window is in modality units.
    plain = factory.make(window=(2048.0, 4096.0))
    ds = factory.build(factory.Spec(window=(2 * 2048.0 + 1000, 2 * 4096.0)))
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 2, 1000, "US"
    a = np.asarray(png(dicom.render_preview(plain, 1024)), dtype=np.int16)
    b = np.asarray(png(dicom.render_preview(factory.to_bytes(ds), 1024)), dtype=np.int16)
    assert np.abs(a - b).max() <= 1


def test_voi_lut_sequence_is_applied():
    ds = factory.build(factory.Spec(window=None))
    # An inverting LUT over 12 bits: the preview must come out inverted.
    item = pydicom.Dataset()
    item.add_new(0x00283002, "US", [4096, 0, 16])  # LUT Descriptor
    item.add_new(0x00283006, "OW", np.arange(4095, -1, -1, dtype=np.uint16).tobytes())
    ds.VOILUTSequence = pydicom.Sequence([item])
    lut = np.asarray(png(dicom.render_preview(factory.to_bytes(ds), 1024)), dtype=np.int16)
    plain = np.asarray(
        png(dicom.render_preview(factory.make(window=(2047.5, 4096.0)), 1024)), dtype=np.int16
    )
    assert np.abs((255 - lut) - plain).mean() < 2.0


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"photometric": "MONOCHROME1"},
        {"window": None},
        {"window": (600.0, 50.0)},
        {"bits_stored": 16, "window": (30000.0, 20000.0)},
    ],
    ids=["window", "monochrome1", "percentiles", "narrow", "16-bit"],
)
def test_the_lookup_table_gives_the_pixels_of_the_per_pixel_mapping(changes):
    """Issue 20: windowing by a table over every stored value is the per-pixel arithmetic."""
    from pmha.exams.dicom import preview
    from pmha.exams.dicom.validate import pixels, read_dataset

    ds = read_dataset(factory.make(rows=512, columns=400, **changes))
    arr = pixels(ds)
    by_table = preview.to_display(ds, arr)
    by_pixel = preview.to_display_per_pixel(ds, arr)
    assert by_table.dtype == by_pixel.dtype == np.uint8
    assert np.abs(by_table.astype(np.int16) - by_pixel).max() <= 1


def test_the_lookup_table_covers_signed_pixels_with_a_rescale():
    from pmha.exams.dicom import preview
    from pmha.exams.dicom.validate import pixels, read_dataset

    ds = read_dataset(factory.make(rows=256, columns=200, window=(-200.0, 3000.0)))
    arr = pixels(ds).astype(np.int16) - 2048  # signed stored values, both sides of zero
    ds.PixelRepresentation, ds.RescaleSlope, ds.RescaleIntercept = 1, 1.5, -100
    table = preview.to_display(ds, arr).astype(np.int16)
    assert np.abs(table - preview.to_display_per_pixel(ds, arr)).max() <= 1
    assert table.min() == 0 and table.max() == 255


def test_preview_rejects_what_inspect_rejects():
    with pytest.raises(DicomRejected):
        dicom.render_preview(factory.html_renamed(), 256)


# ---------------------------------------------------------------------------------------------
# de-identification


def all_values(ds: pydicom.Dataset) -> dict[str, object]:
    values = {}
    for elem in ds.iterall():
        values[elem.keyword or str(elem.tag)] = elem.value
    return values


def test_every_profile_attribute_the_factory_sets_is_removed_or_replaced():
    data = factory.make()
    before = dataset(data)
    after = dataset(dicom.deidentify(data, UidMapper(SECRET)))
    checked = 0
    for elem in before.iterall():
        action = BASIC_PROFILE.get(int(elem.tag))
        if action is None or (elem.VR == "SQ" and action != "X"):
            continue
        checked += 1
        kept = after.get(elem.tag)
        if action == "U":
            assert kept is not None and kept.value != elem.value, elem.keyword
        elif kept is not None and kept.value not in (None, "", []):
            pytest.fail(f"{elem.keyword} ({action}) kept a value")
    assert checked >= 30


@pytest.mark.parametrize("keyword", sorted(factory.IDENTIFYING))
def test_identifying_attribute_is_gone(keyword):
    data = factory.make()
    after = dataset(dicom.deidentify(data, UidMapper(SECRET)))
    assert after.get(keyword) in (None, "", [])


def test_no_original_identifying_value_appears_in_the_output_bytes():
    data = factory.make()
    original = dataset(data)
    out = dicom.deidentify(data, UidMapper(SECRET))
    secrets_ = [
        *factory.IDENTIFYING.values(),
        factory.PRIVATE_VALUE,
        factory.OTHER_PATIENT_ID,
        *factory.REQUEST_IDS,
        original.StudyInstanceUID,
        original.SeriesInstanceUID,
        original.SOPInstanceUID,
        "SYNSTATION01",
        "SYNTH CORP",
    ]
    for value in secrets_:
        assert value.encode() not in out, value


def test_private_tags_and_file_meta_station_are_removed():
    out = dataset(dicom.deidentify(factory.make(), UidMapper(SECRET)))
    assert not any(elem.tag.is_private for elem in out.iterall())
    assert "SourceApplicationEntityTitle" not in out.file_meta


def test_the_dataset_is_marked_as_deidentified():
    out = dataset(dicom.deidentify(factory.make(), UidMapper(SECRET)))
    assert out.PatientIdentityRemoved == "YES"
    assert out.DeidentificationMethod
    code = out.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")
    assert out.LongitudinalTemporalInformationModified == "REMOVED"


def test_type_2_attributes_stay_present_and_empty():
    out = dataset(dicom.deidentify(factory.make(), UidMapper(SECRET)))
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyDate", "StudyID"):
        assert keyword in out
        assert out[keyword].value in (None, "")


def test_sop_class_is_kept_and_file_meta_updated():
    data = factory.make(sop_class=factory.DX, modality="DX", implicit_vr=True)
    out = dataset(dicom.deidentify(data, UidMapper(SECRET)))
    assert out.SOPClassUID == factory.DX
    assert out.file_meta.MediaStorageSOPClassUID == factory.DX
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert out.SOPInstanceUID.startswith("2.25.")


def test_uids_are_remapped_consistently_across_a_study():
    cr, sc = factory.study_of_two()
    mapper = UidMapper(SECRET)
    cr_out, sc_out = dataset(dicom.deidentify(cr, mapper)), dataset(dicom.deidentify(sc, mapper))
    cr_in, sc_in = dataset(cr), dataset(sc)
    assert cr_out.StudyInstanceUID == sc_out.StudyInstanceUID != cr_in.StudyInstanceUID
    assert cr_out.SeriesInstanceUID != sc_out.SeriesInstanceUID
    assert cr_out.SOPInstanceUID != sc_out.SOPInstanceUID
    # The Secondary Capture still points at the CR it came from, under the new UID.
    source = sc_out.SourceImageSequence[0]
    assert source.ReferencedSOPInstanceUID == cr_out.SOPInstanceUID
    assert source.ReferencedSOPClassUID == factory.CR
    assert sc_in.SourceImageSequence[0].ReferencedSOPInstanceUID == cr_in.SOPInstanceUID


def test_the_mapping_is_deterministic_per_secret_and_keyed():
    data = factory.make()
    a = dataset(dicom.deidentify(data, UidMapper(SECRET)))
    b = dataset(dicom.deidentify(data, UidMapper(SECRET)))
    c = dataset(dicom.deidentify(data, UidMapper(b"another-centre-secret-987654321")))
    assert a.SOPInstanceUID == b.SOPInstanceUID != c.SOPInstanceUID
    assert dicom.deidentify(data, UidMapper(SECRET)) == dicom.deidentify(data, UidMapper(SECRET))


def test_uid_mapper_output_is_a_valid_uid():
    mapper = UidMapper(SECRET)
    uid = mapper("1.2.3.4.5")
    assert uid.startswith("2.25.")
    assert len(uid) <= 64
    assert pydicom.uid.UID(uid).is_valid
    assert mapper("1.2.3.4.5") == uid != mapper("1.2.3.4.6")


def test_uid_mapper_refuses_a_short_secret():
    with pytest.raises(ValueError):
        UidMapper(b"short")


def test_pixel_data_is_unchanged():
    data = factory.make()
    assert dataset(dicom.deidentify(data, UidMapper(SECRET))).PixelData == dataset(data).PixelData


def test_an_image_with_burned_in_annotation_is_not_released():
    ds = factory.build()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(DicomRejected) as caught:
        dicom.deidentify(factory.to_bytes(ds), UidMapper(SECRET))
    assert caught.value.code == "exams.dicom.burned_in_annotation"


def test_deidentified_copy_is_still_an_acceptable_chest_xray():
    out = dicom.deidentify(factory.make(), UidMapper(SECRET))
    info = dicom.inspect(out)
    assert info.modality == "CR"
    assert info.study_date is None


# The table itself (PS3.15 Table E.1-1, 2026c) and every row of it: test_deidentify_table.py.
