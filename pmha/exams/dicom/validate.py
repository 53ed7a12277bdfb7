"""Is this upload a chest X-ray we can keep? Parse, check, and describe it as a `DicomInfo`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import Any

import numpy as np
import pydicom
from pydicom import config as pydicom_config
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from pmha.exams.dicom.errors import DicomRejected, shown
from pmha.exams.dicom.identity import HeaderIdentity, header_identity

# pydicom's value validation warns and logs with the offending value quoted, and an uploaded
# file's values are patient data: we check what we need ourselves and never echo values.
pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
logging.getLogger("pydicom").setLevel(logging.ERROR)

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


def read_dataset(data: bytes) -> FileDataset:
    """Parse a DICOM Part 10 file, or raise DicomRejected saying why it is not one."""
    if len(data) > MAX_BYTES:
        raise DicomRejected(
            "too_large",
            f"The file is {len(data) / 1048576:.0f} MiB; the limit is {MAX_BYTES // 1048576} MiB.",
            status=413,
        )
    if len(data) < 132 or data[128:132] != b"DICM":
        raise _not_part10(data)
    try:
        ds = pydicom.dcmread(BytesIO(data), force=False)
    except (InvalidDicomError, EOFError, ValueError, KeyError, OSError, TypeError) as exc:
        # The exception text can quote element values: keep only its type.
        raise DicomRejected(
            "corrupt",
            f"The DICOM file could not be read ({type(exc).__name__}): it is damaged or truncated.",
        ) from None
    if "TransferSyntaxUID" not in ds.file_meta:
        raise DicomRejected("corrupt", "The DICOM file meta information has no transfer syntax.")
    return ds


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
    ds = read_dataset(data)
    check_chest_xray(ds)
    pixels(ds)
    return describe(ds)


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


def _check_pixel_description(ds: Dataset, sop_class: str) -> None:
    if "PixelData" not in ds:
        raise DicomRejected("no_pixel_data", "The file has no pixel data: there is no image.")
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    colour_ok = sop_class == SECONDARY_CAPTURE and photometric in _COLOUR
    if photometric not in _GRAYSCALE and not colour_ok:
        raise DicomRejected(
            "unsupported_pixels",
            f"The photometric interpretation {shown(photometric)} is not a grayscale "
            "radiograph (MONOCHROME1 or MONOCHROME2).",
        )
    if int(ds.get("NumberOfFrames", 1) or 1) != 1:
        raise DicomRejected("multi_frame", "The file holds several frames; upload one image.")
    if int(ds.get("Rows", 0) or 0) < 1 or int(ds.get("Columns", 0) or 0) < 1:
        raise DicomRejected("unsupported_pixels", "The image has no rows or columns.")


def pixels(ds: Dataset) -> np.ndarray[Any, Any]:
    """The decoded pixel array, or DicomRejected if it cannot be decoded."""
    try:
        arr: np.ndarray[Any, Any] = ds.pixel_array
    except (NotImplementedError, RuntimeError) as exc:
        name = _registered_name(str(ds.file_meta.TransferSyntaxUID), "an unknown transfer syntax")
        raise DicomRejected(
            "pixels_undecodable",
            f"The pixel data is compressed as {name}, which this server cannot decode "
            f"({type(exc).__name__}).",
        ) from None
    except (ValueError, AttributeError, KeyError, TypeError, EOFError) as exc:
        raise DicomRejected(
            "pixels_undecodable",
            f"The pixel data is damaged or incomplete ({type(exc).__name__}).",
        ) from None
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
