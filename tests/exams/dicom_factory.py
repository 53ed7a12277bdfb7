"""Synthetic chest X-ray DICOM files for tests and benchmarks, and broken variants of them.

Every person in here is made up (SYNTHETIC^...). The valid files carry the mandatory modules
of their IODs so that dciodvfy reports no errors on them: CR Image, Digital X-Ray Image (For
Presentation) and Secondary Capture Image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

CR = "1.2.840.10008.5.1.4.1.1.1"
DX = "1.2.840.10008.5.1.4.1.1.1.1"
SC = "1.2.840.10008.5.1.4.1.1.7"
MR = "1.2.840.10008.5.1.4.1.1.4"

# Identifying values the factory writes, by keyword: none may survive de-identification.
# The patient is the tests' default applicant (tests.factories.applicant_data: Omar Haddad,
# male, born 1985-03-14), so that a default image is attached to them; Spec.patient_* and
# `of_person` make an image of someone else. The Patient ID is an X-ray unit's own number.
IDENTIFYING = {
    "PatientName": "HADDAD^OMAR",
    "PatientID": "SYN-7741-0091",
    "PatientBirthDate": "19850314",
    "PatientAddress": "12 SYNTHETIC LANE SOMEWHERE",
    "PatientTelephoneNumbers": "555-0199-321",
    "PatientAge": "042Y",
    "PatientWeight": "71.5",
    "PatientSize": "1.68",
    "EthnicGroup": "SYNTHGROUP",
    "AccessionNumber": "ACC-SYN-99812",
    "StudyID": "STUDY-SYN-77",
    "StudyDate": "20240315",
    "StudyTime": "101530",
    "SeriesDate": "20240316",
    "SeriesTime": "101731",
    "AcquisitionDate": "20240317",
    "AcquisitionTime": "101845",
    "ContentDate": "20240318",
    "ContentTime": "101902",
    "InstanceCreationDate": "20240319",
    "ReferringPhysicianName": "SYNTHETIC^REFERRER",
    "PerformingPhysicianName": "SYNTHETIC^PERFORMER",
    "OperatorsName": "SYNTHETIC^OPERATOR",
    "InstitutionName": "SYNTHETIC GENERAL HOSPITAL",
    "InstitutionAddress": "1 SYNTHETIC PLAZA",
    "InstitutionalDepartmentName": "SYNTH RADIOLOGY",
    "StationName": "SYNSTATION01",
    "DeviceSerialNumber": "SN-SYN-445566",
    "StudyDescription": "SYNTHETIC CHEST STUDY",
    "SeriesDescription": "SYNTHETIC PA SERIES",
    "ProtocolName": "SYNTH CHEST PROTO",
    "ImageComments": "SYNTHETIC COMMENT ABOUT ALICE",
    "PatientComments": "SYNTHETIC PATIENT COMMENT",
    "AdditionalPatientHistory": "SYNTHETIC HISTORY",
    "PlateID": "PLATE-SYN-3",
    "CassetteID": "CASS-SYN-8",
}
PRIVATE_VALUE = "SYN-PRIVATE-SECRET-42"
OTHER_PATIENT_ID = "SYN-OTHER-5512"
REQUEST_IDS = ("REQ-SYN-311", "SPS-SYN-312")


@dataclass
class Spec:
    """What to build. Defaults: a small CR PA chest, MONOCHROME2, 12 of 16 bits stored."""

    sop_class: str = CR
    modality: str = "CR"
    photometric: str = "MONOCHROME2"
    rows: int = 256
    columns: int = 200
    bits_stored: int = 12
    body_part: str | None = "CHEST"
    view: str | None = "PA"
    window: tuple[float, float] | None = (2048.0, 4096.0)
    pixel_data: bool = True
    identifying: bool = True
    private: bool = True
    implicit_vr: bool = False
    study_uid: str = field(default_factory=generate_uid)
    series_uid: str = field(default_factory=generate_uid)
    sop_uid: str = field(default_factory=generate_uid)
    source_sop_uid: str | None = None
    seed: int = 7
    # The header's patient (when `identifying`): None keeps IDENTIFYING's value, "" empties it.
    patient_name: str | None = None
    patient_sex: str = "M"
    patient_birth_date: str | None = None
    patient_id: str | None = None
    character_set: str = "ISO_IR 100"


def chest_pixels(rows: int, columns: int, bits_stored: int, *, seed: int = 7) -> np.ndarray:
    """A chest-like MONOCHROME2 image: bright mediastinum and ribs cage, darker lung fields."""
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
    return (np.clip(image, 0.0, 1.0) * top * 0.9 + top * 0.05).astype(np.uint16)


def build(spec: Spec | None = None) -> Dataset:
    """A dataset (with file meta) for the spec."""
    spec = spec or Spec()
    ds = Dataset()
    ds.file_meta = _meta(spec)
    ds.SpecificCharacterSet = spec.character_set
    ds.SOPClassUID = spec.sop_class
    ds.SOPInstanceUID = spec.sop_uid
    _patient_and_study(ds, spec)
    ds.Modality = spec.modality
    ds.SeriesInstanceUID = spec.series_uid
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.Manufacturer = "SYNTHETIC MODALITY CO"
    ds.ManufacturerModelName = "SYNTH-XR 1"
    ds.PatientOrientation = ["L", "F"]
    ds.ImageType = ["ORIGINAL", "PRIMARY"] if spec.sop_class != SC else ["DERIVED", "SECONDARY"]
    # Body Part Examined and View Position are Type 2 in the CR Series module: present, maybe empty.
    if spec.body_part is not None or spec.sop_class == CR:
        ds.BodyPartExamined = spec.body_part or ""
    if spec.view is not None or spec.sop_class == CR:
        ds.ViewPosition = spec.view or ""
    _pixels(ds, spec)
    if spec.sop_class == DX:
        _dx_modules(ds, spec)
    elif spec.sop_class == SC:
        ds.ConversionType = "WSD"
        if spec.body_part is None:
            ds.Laterality = ""  # Type 2C: required when the body part may be paired
        ds.BurnedInAnnotation = "NO"
    elif spec.sop_class == CR:
        ds.BurnedInAnnotation = "NO"
    if spec.source_sop_uid is not None:
        ref = Dataset()
        ref.ReferencedSOPClassUID = CR
        ref.ReferencedSOPInstanceUID = spec.source_sop_uid
        ds.SourceImageSequence = Sequence([ref])
    if spec.private:
        block = ds.private_block(0x0009, "SYNTH CORP", create=True)
        block.add_new(0x10, "LO", PRIVATE_VALUE)
    return ds


def to_bytes(ds: Dataset, *, preamble: bool = True) -> bytes:
    buf = BytesIO()
    implicit = ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    ds.save_as(buf, enforce_file_format=True, implicit_vr=implicit, little_endian=True)
    data = buf.getvalue()
    return data if preamble else data[132:]


def make(spec: Spec | None = None, **changes: object) -> bytes:
    """Part 10 bytes: make(modality="MR", ...) changes the default spec's fields."""
    base = spec or Spec()
    fields = {**base.__dict__, **changes}
    return to_bytes(build(Spec(**fields)))  # type: ignore[arg-type]


def of_person(
    name: str, sex: str = "M", birth_date: str = "", patient_id: str = "", **changes: object
) -> bytes:
    """An image whose header names this (synthetic) person: name as "FAMILY^GIVEN^MIDDLE"
    (a name in Arabic script is written in UTF-8, ISO_IR 192), sex M/F/O or "", birth date
    YYYYMMDD or "", and Patient ID or ""."""
    charset = "ISO_IR 100" if name.isascii() else "ISO_IR 192"
    return make(
        patient_name=name,
        patient_sex=sex,
        patient_birth_date=birth_date,
        patient_id=patient_id,
        character_set=charset,
        **changes,
    )


def wrong_patient(**changes: object) -> bytes:
    """The header names another person: another name, female, another birth date."""
    return of_person("QUINN^ALICE", "F", "19810423", "SYN-7741-0091", **changes)


def study_of_two() -> tuple[bytes, bytes]:
    """A CR image and a Secondary Capture derived from it, in one study."""
    study = generate_uid()
    cr_uid = generate_uid()
    cr = make(study_uid=study, sop_uid=cr_uid)
    sc = make(
        sop_class=SC,
        modality="OT",
        study_uid=study,
        series_uid=generate_uid(),
        source_sop_uid=cr_uid,
        body_part=None,
        view=None,
        window=None,
        seed=8,
    )
    return cr, sc


# ---------------------------------------------------------------------------------------------
# Broken variants


def no_pixel_data() -> bytes:
    return make(pixel_data=False)


def wrong_modality() -> bytes:
    return make(sop_class=MR, modality="MR")


def knee() -> bytes:
    return make(body_part="KNEE")


def truncated() -> bytes:
    data = make()
    return data[: len(data) // 2]


def html_renamed() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>Login</title></head><body>Sign in</body></html>\n"


def no_preamble() -> bytes:
    return to_bytes(build(), preamble=False)


def text_file() -> bytes:
    return b"This is a plain text note that someone saved with a .dcm extension.\n" * 4


# ---------------------------------------------------------------------------------------------


def _meta(spec: Spec) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = spec.sop_class
    meta.MediaStorageSOPInstanceUID = spec.sop_uid
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if spec.implicit_vr else ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = "SYNSTATION01"
    return meta


def _patient_and_study(ds: Dataset, spec: Spec) -> None:
    ds.StudyInstanceUID = spec.study_uid

    def patient(value: str | None, keyword: str) -> str:
        if not spec.identifying:
            return ""
        return IDENTIFYING[keyword] if value is None else value

    ds.PatientName = patient(spec.patient_name, "PatientName")
    ds.PatientID = patient(spec.patient_id, "PatientID")
    ds.PatientBirthDate = patient(spec.patient_birth_date, "PatientBirthDate")
    ds.PatientSex = spec.patient_sex
    ds.StudyDate = IDENTIFYING["StudyDate"]
    ds.StudyTime = IDENTIFYING["StudyTime"]
    ds.ReferringPhysicianName = IDENTIFYING["ReferringPhysicianName"]
    ds.StudyID = IDENTIFYING["StudyID"]
    ds.AccessionNumber = IDENTIFYING["AccessionNumber"]
    ds.ContentDate = IDENTIFYING["ContentDate"]
    ds.ContentTime = IDENTIFYING["ContentTime"]
    if not spec.identifying:
        return
    for keyword, value in IDENTIFYING.items():
        if keyword not in ds:
            setattr(ds, keyword, value)
    other = Dataset()
    other.PatientID = OTHER_PATIENT_ID
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    request = Dataset()
    request.RequestedProcedureID, request.ScheduledProcedureStepID = REQUEST_IDS
    ds.RequestAttributesSequence = Sequence([request])


def _pixels(ds: Dataset, spec: Spec) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = spec.photometric
    ds.Rows = spec.rows
    ds.Columns = spec.columns
    ds.BitsAllocated = 16
    ds.BitsStored = spec.bits_stored
    ds.HighBit = spec.bits_stored - 1
    ds.PixelRepresentation = 0
    if spec.window is not None:
        ds.WindowCenter, ds.WindowWidth = spec.window
    if spec.pixel_data:
        arr = chest_pixels(spec.rows, spec.columns, spec.bits_stored, seed=spec.seed)
        if spec.photometric == "MONOCHROME1":
            arr = ((1 << spec.bits_stored) - 1 - arr).astype(np.uint16)
        ds.PixelData = arr.tobytes()


def _dx_modules(ds: Dataset, spec: Spec) -> None:
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.RescaleType = "US"
    ds.PresentationLUTShape = "INVERSE" if spec.photometric == "MONOCHROME1" else "IDENTITY"
    ds.LossyImageCompression = "00"
    ds.BurnedInAnnotation = "NO"
    ds.ImageLaterality = "U"
    region = Dataset()
    region.CodeValue = "51185008"
    region.CodingSchemeDesignator = "SCT"
    region.CodeMeaning = "Chest"
    ds.AnatomicRegionSequence = Sequence([region])
    ds.DetectorType = "SCINTILLATOR"
    ds.ImagerPixelSpacing = [0.15, 0.15]
    ds.AcquisitionContextSequence = Sequence()
    ds.PositionerType = "NONE"
    if spec.window is None:
        ds.WindowCenter, ds.WindowWidth = 2048.0, 4096.0
