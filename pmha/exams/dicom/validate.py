"""Is this upload a chest X-ray we can keep? Parse, check, and describe it as a `DicomInfo`."""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom import config as pydicom_config
from pydicom.dataset import Dataset, FileDataset
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import UID

from pmha.exams.dicom.errors import DicomRejected, shown
from pmha.exams.dicom.identity import HeaderIdentity, header_identity
from pmha.exams.dicom.structure import FLOAT_PIXEL_DATA, MAX_DEPTH, check_structure

# pydicom's value validation warns and logs with the offending value quoted, and an uploaded
# file's values are patient data: we check what we need ourselves and never echo values.
pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
logging.getLogger("pydicom").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

MAX_BYTES = 200 * 1024 * 1024
"""Largest upload accepted, checked before parsing. A 4k x 4k 16-bit radiograph is 32 MiB."""

CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
DX_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"
DX_PROCESSING = "1.2.840.10008.5.1.4.1.1.1.1.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"

# Which modalities each accepted SOP class may carry. A Secondary Capture of a chest film is
# usually OT, sometimes the original CR/DX.
_MODALITIES_BY_SOP_CLASS = {
    CR_IMAGE: {"CR"},
    DX_PRESENTATION: {"DX"},
    DX_PROCESSING: {"DX"},
    SECONDARY_CAPTURE: {"OT", "CR", "DX"},
}
_ACCEPTED_MODALITIES = {"CR", "DX", "OT"}
_CHEST_BODY_PARTS = {"CHEST", "THORAX"}
# Chest codes of CID 4009 (DX Anatomy Imaged): SNOMED CT and the older SNOMED-RT designators.
_CHEST_CODES = {("51185008", "SCT"), ("43799004", "SCT"), ("T-D3000", "SRT"), ("T-D3000", "SNM3")}
_CHEST_VIEWS = {"PA", "AP", "LL", "RL", "LLD", "RLD", "LAT", "LATERAL", "LPO", "RPO", "LAO", "RAO"}
_GRAYSCALE = {"MONOCHROME1", "MONOCHROME2"}
_COLOUR = {"RGB", "YBR_FULL", "YBR_FULL_422"}
# What an upload that is not DICOM usually begins with, to say what it looks like.
_LOOKS_LIKE = (
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"<?xml", "an XML document"),
    (b"%pdf", "a PDF document"),
    (b"\x89png", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"pk\x03\x04", "a ZIP archive"),
)


@dataclass(frozen=True, slots=True)
class DicomInfo:
    """What the application keeps about an accepted image: identifiers and acquisition facts."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    sop_class_name: str
    transfer_syntax_uid: str
    modality: str
    body_part: str | None
    view_position: str | None
    rows: int
    columns: int
    bits_stored: int
    photometric_interpretation: str
    acquisition_date: date | None
    study_date: date | None
    manufacturer: str | None
    identity: HeaderIdentity = field(default_factory=HeaderIdentity)
    """Who the header says the image is of, compared with the applicant on upload."""
    burned_in_annotation: bool = False
    """The header says text is burned into the pixels (no de-identified copy can be made)."""


def read_dataset(data: bytes) -> FileDataset:
    """Parse a DICOM Part 10 file, or raise DicomRejected saying why it is not one.

    The structure is walked first (`structure.check_structure`: every declared length against
    the file's size, VRs, sequences, order), then pydicom reads it and every value is converted
    once, so that nothing later meets a value it cannot read."""
    if len(data) > MAX_BYTES:
        raise DicomRejected(
            "too_large",
            f"The file is {len(data) / 1048576:.0f} MiB; the limit is {MAX_BYTES // 1048576} MiB.",
            status=413,
        )
    if len(data) < 132 or data[128:132] != b"DICM":
        raise _not_part10(data)
    check_structure(data, MAX_BYTES)
    try:
        ds = pydicom.dcmread(BytesIO(data), force=False)
    except Exception as exc:  # the walk passed; pydicom may still object
        # The exception text can quote element values: keep only its type.
        raise DicomRejected(
            "corrupt",
            f"The DICOM file could not be read ({type(exc).__name__}): it is damaged or truncated.",
        ) from None
    if "TransferSyntaxUID" not in ds.file_meta:
        raise DicomRejected("corrupt", "The DICOM file meta information has no transfer syntax.")
    _convert_all(ds, 0)
    return ds


def _convert_all(ds: Dataset, depth: int) -> None:
    """Convert every element's value now (pydicom converts on first access), naming the first
    that does not match its value representation."""
    for tag in list(ds.keys()):
        try:
            elem = ds[tag]
            value = elem.value
        except Exception:  # any conversion failure is the file's
            raise DicomRejected(
                "bad_value",
                f"The DICOM file is damaged: the value of element ({tag.group:04X},"
                f"{tag.element:04X}) does not match its type.",
            ) from None
        if elem.VR == "SQ" and depth < MAX_DEPTH:
            for item in value:
                _convert_all(item, depth + 1)


def _not_part10(data: bytes) -> DicomRejected:
    head = data[:64].lstrip().lower()
    for magic, what in _LOOKS_LIKE:
        if head.startswith(magic):
            return DicomRejected("not_dicom", f"The file is not DICOM: it looks like {what}.")
    # A bare data set (no preamble, no "DICM") starts with a group 0002 or 0008 tag.
    if data[:2] in (b"\x02\x00", b"\x08\x00") and len(data) >= 8:
        return DicomRejected(
            "no_preamble",
            "The file has no DICOM Part 10 header (128-byte preamble and 'DICM'): "
            "export it from the modality or PACS as a DICOM file.",
        )
    if data and _is_text(data[:512]):
        return DicomRejected("not_dicom", "The file is not DICOM: it looks like a text file.")
    return DicomRejected("not_dicom", "The file is not DICOM (no 'DICM' marker at byte 128).")


def _is_text(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 0x20 or b in b"\t\r\n" for b in sample)


def inspect(data: bytes) -> DicomInfo:
    """Validate an uploaded chest X-ray and describe it; raise DicomRejected if unacceptable."""
    with total("read"):
        ds = read_dataset(data)
        check_chest_xray(ds)
        pixels(ds)
        return describe(ds)


@contextmanager
def total(doing: str) -> Iterator[None]:
    """The adapter's last line: whatever a file makes pydicom, numpy or Pillow raise that the
    checks above did not foresee becomes a DicomRejected ("unreadable"), never a 500. The log
    names the exception's type and where it arose, never its text (which can quote values)."""
    try:
        yield
    except DicomRejected:
        raise
    except Exception as exc:  # the point: no file may crash the service
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.warning(
            "DICOM file not %s: %s at %s:%s",
            doing,
            type(exc).__name__,
            Path(frame.filename).name,
            frame.lineno,
        )
        raise DicomRejected(
            "unreadable",
            f"The DICOM file could not be {doing} ({type(exc).__name__}): it is damaged or uses "
            "a feature this server does not support.",
        ) from None


def check_chest_xray(ds: Dataset) -> None:
    """Modality, SOP class, anatomy and pixel description of a chest radiograph."""
    modality = str(ds.get("Modality", "")).upper()
    if not modality:
        raise DicomRejected(
            "no_modality",
            "The file has no modality: it is truncated, damaged or not an image.",
        )
    if modality not in _ACCEPTED_MODALITIES:
        raise DicomRejected(
            "wrong_modality",
            f"The image's modality is {shown(modality)}; a chest X-ray must be CR, DX "
            "or a Secondary Capture.",
        )
    sop_class = str(ds.get("SOPClassUID", ""))
    allowed = _MODALITIES_BY_SOP_CLASS.get(sop_class)
    if allowed is None:
        raise DicomRejected(
            "wrong_sop_class",
            f"The file is a {_sop_class_name(sop_class)}; a chest X-ray must be a CR, "
            "DX or Secondary Capture image.",
        )
    if modality not in allowed:
        raise DicomRejected(
            "wrong_modality",
            f"The image's modality {shown(modality)} does not match its SOP class "
            f"({_sop_class_name(sop_class)}).",
        )
    _check_anatomy(ds, sop_class)
    _check_pixel_description(ds, sop_class)


def _sop_class_name(uid: str) -> str:
    return _registered_name(uid, "an unregistered SOP class")


def _registered_name(uid: str, otherwise: str) -> str:
    """The standard's name for a UID; never the file's own text."""
    name = UID(uid).name
    return otherwise if name == uid or not uid.startswith("1.2.840.10008.") else name


def _check_anatomy(ds: Dataset, sop_class: str) -> None:
    body_part = str(ds.get("BodyPartExamined", "")).strip().upper()
    if body_part and body_part not in _CHEST_BODY_PARTS:
        raise DicomRejected(
            "not_chest",
            f"The image is of body part {shown(body_part)}, not a chest X-ray.",
        )
    codes = [
        (str(item.get("CodeValue", "")), str(item.get("CodingSchemeDesignator", "")))
        for item in ds.get("AnatomicRegionSequence", [])
    ]
    if codes and not any(code in _CHEST_CODES for code in codes):
        raise DicomRejected(
            "not_chest",
            f"The image's anatomic region is coded {shown(codes[0][0])} "
            f"({shown(codes[0][1])}), not the chest.",
        )
    # A Secondary Capture often carries no anatomy at all; a CR or DX image must say chest.
    if not body_part and not codes and sop_class != SECONDARY_CAPTURE:
        raise DicomRejected(
            "body_part_missing",
            "The image does not say which body part it shows (no Body Part Examined or "
            "Anatomic Region): it cannot be filed as a chest X-ray.",
        )
    view = str(ds.get("ViewPosition", "")).strip().upper()
    if view and view not in _CHEST_VIEWS:
        raise DicomRejected(
            "not_chest_view",
            f"The view position is {shown(view)}, not a chest view (PA, AP, lateral or decubitus).",
        )


MAX_PIXELS = 8192 * 8192
"""Largest image decoded (64 megapixels): a 43 cm plate at 0.1 mm is about 4300 x 3500."""
_SAMPLES = {"MONOCHROME1": 1, "MONOCHROME2": 1, "RGB": 3, "YBR_FULL": 3, "YBR_FULL_422": 3}


def _one_int(ds: Dataset, keyword: str) -> int | None:
    """A single integer value of the element, or None if absent, empty or several values."""
    value = ds.get(keyword)
    if value is None or isinstance(value, bytes | str) or _is_multi(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _is_multi(value: object) -> bool:
    return isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"


def _unsupported(message: str) -> DicomRejected:
    return DicomRejected("unsupported_pixels", message)


# Numbers the display depends on (PS3.3 C.7.6.3, C.11.1, C.11.2): pydicom keeps an unreadable
# DS or IS as text, and the image would be shown otherwise than its maker meant.
_DISPLAY_NUMBERS = (
    (0x00280008, "Number of Frames"),
    (0x00281050, "Window Center"),
    (0x00281051, "Window Width"),
    (0x00281052, "Rescale Intercept"),
    (0x00281053, "Rescale Slope"),
)


def _check_numbers(ds: Dataset) -> None:
    for tag, name in _DISPLAY_NUMBERS:
        value = ds.get(tag)
        value = None if value is None else value.value
        if value is None or value == "":
            continue
        for one in value if _is_multi(value) else [value]:
            try:
                ok = math.isfinite(float(one))
            except (TypeError, ValueError, OverflowError):
                ok = False
            if not ok:
                raise DicomRejected(
                    "bad_value",
                    f"The DICOM file is damaged: its {name} ({tag >> 16:04X},{tag & 0xFFFF:04X}) "
                    "is not a number.",
                )


def _check_pixel_description(ds: Dataset, sop_class: str) -> None:
    """The Image Pixel module (PS3.3 C.7.6.3) of a radiograph, each attribute present once and
    consistent with the others."""
    _check_numbers(ds)
    if "PixelData" not in ds:
        if any(tag in ds for tag in FLOAT_PIXEL_DATA):
            raise _unsupported("The image's pixels are floating point, not a radiograph's.")
        raise DicomRejected("no_pixel_data", "The file has no pixel data: there is no image.")
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    colour_ok = sop_class == SECONDARY_CAPTURE and photometric in _COLOUR
    if photometric not in _GRAYSCALE and not colour_ok:
        if not photometric:
            raise _unsupported("The image has no photometric interpretation: it cannot be shown.")
        raise _unsupported(
            f"The photometric interpretation {shown(photometric)} is not a grayscale "
            "radiograph (MONOCHROME1 or MONOCHROME2)."
        )
    if ds.get("NumberOfFrames") not in (None, "") and _one_int(ds, "NumberOfFrames") != 1:
        raise DicomRejected("multi_frame", "The file holds several frames; upload one image.")
    rows, columns = _one_int(ds, "Rows"), _one_int(ds, "Columns")
    if not rows or not columns or rows < 1 or columns < 1:
        raise _unsupported("The image has no rows or columns (or gives several).")
    samples = _one_int(ds, "SamplesPerPixel")
    if samples != _SAMPLES[photometric]:
        raise _unsupported(
            f"The image says it has {samples if samples is not None else 'no'} samples per "
            f"pixel; {photometric} has {_SAMPLES[photometric]}."
        )
    allocated = _one_int(ds, "BitsAllocated")
    if allocated not in (8, 16):
        raise _unsupported(
            f"The image has {allocated if allocated is not None else 'no'} bits allocated per "
            "sample; a radiograph has 8 or 16."
        )
    stored, high = _one_int(ds, "BitsStored"), _one_int(ds, "HighBit")
    if stored is None or not 1 <= stored <= allocated:
        raise _unsupported(f"Bits Stored must be 1 to {allocated} (the bits allocated).")
    if high is None or not stored - 1 <= high < allocated:
        raise _unsupported(f"High Bit must be {stored - 1} to {allocated - 1}.")
    if _one_int(ds, "PixelRepresentation") not in (0, 1):
        raise _unsupported("Pixel Representation must be 0 (unsigned) or 1 (signed).")
    if samples == 3 and _one_int(ds, "PlanarConfiguration") not in (0, 1):
        raise _unsupported("A colour image's Planar Configuration must be 0 or 1.")
    if rows * columns > MAX_PIXELS:
        raise DicomRejected(
            "image_too_large",
            f"The image is {rows} x {columns} pixels; the limit is {MAX_PIXELS // 1_000_000} "
            "megapixels.",
        )


def _check_pixel_data(ds: Dataset) -> None:
    """Native pixel data is exactly the image's size (PS3.5 8.2, one padding byte allowed);
    compressed pixel data needs a decoder this server has."""
    syntax = UID(str(ds.file_meta.TransferSyntaxUID))
    elem = ds["PixelData"]
    if syntax.is_encapsulated:
        try:
            available = get_decoder(syntax).is_available
        except (NotImplementedError, ValueError):
            available = False
        if not available:
            name = _registered_name(str(syntax), "an unknown transfer syntax")
            raise DicomRejected(
                "pixels_undecodable",
                f"The pixel data is compressed as {name}, which this server cannot decode.",
            )
        if not elem.is_undefined_length:
            raise DicomRejected("corrupt", "The compressed pixel data is not encapsulated.")
        return
    rows, columns = int(ds.Rows), int(ds.Columns)
    samples, allocated = int(ds.SamplesPerPixel), int(ds.BitsAllocated)
    expected = rows * columns * samples * allocated // 8
    if str(ds.PhotometricInterpretation).upper() == "YBR_FULL_422":
        expected = expected // 3 * 2  # two chroma samples shared by each pair of pixels
    actual = len(elem.value or b"")
    if actual not in (expected, expected + expected % 2):
        raise DicomRejected(
            "pixel_length",
            f"The pixel data is {actual:,} bytes; a {rows} x {columns} image of "
            f"{allocated}-bit samples needs {expected:,}. The file is damaged or its "
            "description does not match its pixels.",
        )


def pixels(ds: Dataset) -> np.ndarray[Any, Any]:
    """The decoded pixel array, or DicomRejected if it cannot be decoded."""
    _check_pixel_data(ds)
    try:
        arr: np.ndarray[Any, Any] = ds.pixel_array
    except (NotImplementedError, RuntimeError) as exc:
        name = _registered_name(str(ds.file_meta.TransferSyntaxUID), "an unknown transfer syntax")
        raise DicomRejected(
            "pixels_undecodable",
            f"The pixel data is compressed as {name}, which this server cannot decode "
            f"({type(exc).__name__}).",
        ) from None
    except Exception as exc:  # a decoder's failure is the file's
        raise DicomRejected(
            "pixels_undecodable",
            f"The pixel data is damaged or incomplete ({type(exc).__name__}).",
        ) from None
    shape = (int(ds.Rows), int(ds.Columns))
    if arr.shape[:2] != shape or arr.ndim != (2 if int(ds.SamplesPerPixel) == 1 else 3):
        raise DicomRejected(
            "pixels_undecodable",
            "The decoded pixel data does not have the size the file declares.",
        )
    return arr


def describe(ds: Dataset) -> DicomInfo:
    """Our record of an accepted image."""
    sop_class = str(ds.SOPClassUID)
    return DicomInfo(
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        sop_class_uid=sop_class,
        sop_class_name=UID(sop_class).name,
        transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
        modality=str(ds.Modality).upper(),
        body_part=_text(ds, "BodyPartExamined"),
        view_position=_text(ds, "ViewPosition"),
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        bits_stored=int(ds.get("BitsStored", 0) or 0),
        photometric_interpretation=str(ds.PhotometricInterpretation).upper(),
        acquisition_date=_date(ds, "AcquisitionDate") or _date(ds, "ContentDate"),
        study_date=_date(ds, "StudyDate"),
        manufacturer=_text(ds, "Manufacturer"),
        identity=header_identity(ds),
        burned_in_annotation=str(ds.get("BurnedInAnnotation", "")).upper() == "YES",
    )


def _text(ds: Dataset, keyword: str) -> str | None:
    value = str(ds.get(keyword, "") or "").strip()
    return value or None


def _date(ds: Dataset, keyword: str) -> date | None:
    value = str(ds.get(keyword, "") or "").strip()
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None
