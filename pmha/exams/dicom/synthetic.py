"""A synthetic chest X-ray (CR, PA) for demonstration data: an invented person, drawn pixels.
It lives in the adapter package because only the adapter imports pydicom.

Built the way the tests' DICOM factory builds its files, so that it passes the adapter's
validation (pmha.exams.dicom) and carries the CR Image IOD's mandatory modules.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

CR = UID("1.2.840.10008.5.1.4.1.1.1")


def chest_pixels(rows: int, columns: int, bits_stored: int, seed: int) -> np.ndarray:
    """A chest-like MONOCHROME2 image: body, two darker lung fields and a bright spine."""
    rng = np.random.default_rng(seed)
    top = (1 << bits_stored) - 1
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float32)
    y /= rows
    x /= columns
    body = np.exp(-(((x - 0.5) / 0.42) ** 6) - ((y - 0.55) / 0.55) ** 8)
    lungs = sum(np.exp(-(((x - cx) / 0.15) ** 2) - ((y - 0.45) / 0.28) ** 2) for cx in (0.3, 0.7))
    spine = np.exp(-(((x - 0.5) / 0.05) ** 2))
    image = 0.15 + 0.6 * body - 0.35 * lungs + 0.2 * spine * body
    image += rng.normal(0.0, 0.01, size=image.shape)
    pixels: np.ndarray = (np.clip(image, 0.0, 1.0) * top * 0.9 + top * 0.05).astype(np.uint16)
    return pixels


def chest_xray(name: str, sex: str, taken: date, *, seed: int = 7) -> bytes:
    """Part 10 bytes of a CR PA chest image of an invented person ("FAMILY^GIVEN")."""
    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = CR, sop_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = name, f"DEMO-{seed:05d}"
    ds.PatientBirthDate, ds.PatientSex = "", "F" if sex == "female" else "M"
    ds.StudyDate = ds.ContentDate = taken.strftime("%Y%m%d")
    ds.StudyTime = ds.ContentTime = "093000"
    ds.ReferringPhysicianName, ds.StudyID, ds.AccessionNumber = "", "1", ""
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CR", 1, 1
    ds.Manufacturer = "PMHA SYNTHETIC"
    ds.BodyPartExamined, ds.ViewPosition = "CHEST", "PA"
    ds.PatientOrientation = ["L", "F"]
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BurnedInAnnotation = "NO"
    rows, columns, bits = 512, 420, 12
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits, bits - 1, 0
    ds.WindowCenter, ds.WindowWidth = 2048.0, 4096.0
    ds.PixelData = chest_pixels(rows, columns, bits, seed).tobytes()
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True, implicit_vr=False, little_endian=True)
    return out.getvalue()
