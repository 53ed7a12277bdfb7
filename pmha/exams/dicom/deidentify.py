"""De-identified copies for research and QA: PS3.15 Annex E Basic Application Level
Confidentiality Profile, with UIDs remapped consistently per centre."""

from __future__ import annotations

import hashlib
import hmac
from io import BytesIO

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from pmha.exams.dicom.errors import DicomRejected
from pmha.exams.dicom.profile import BASIC_PROFILE, BASIC_PROFILE_CODE
from pmha.exams.dicom.validate import read_dataset

METHOD = "PS3.15 Basic Application Confidentiality Profile (PMHA)"  # LO: 64 chars
IMPLEMENTATION_VERSION = "PMHA_DEID_1"

# Attributes that a compound action (X/Z, Z/D, X/Z/D, ...) must keep, empty, in the IODs we
# accept (CR, DX, Secondary Capture); every other compound action removes (X) or empties (Z/D).
# None of these IODs makes a compound-action attribute Type 1, so no dummy values (D) are needed.
# Checked with dciodvfy on CR, DX and SC files.
_REQUIRED_EMPTY: frozenset[int] = frozenset(
    {
        0x00080023,  # Content Date: Type 2C in General Image (temporally related images)
        0x00080033,  # Content Time
        0x00400555,  # Acquisition Context Sequence: Type 2 in DX
    }
)
# UI attributes outside the table whose values name a kind of thing, not an instance.
_KEEP_UIDS = frozenset(
    {
        0x00080016,  # SOP Class UID
        0x00081150,  # Referenced SOP Class UID
        0x0008010C,  # Coding Scheme UID
        0x0008010D,  # Context Group Extension Creator UID
        0x00080117,  # Context UID
        0x00080118,  # Mapping Resource UID
        0x00020002,  # Media Storage SOP Class UID
        0x00020010,  # Transfer Syntax UID
        0x00020012,  # Implementation Class UID
        0x00041510,  # Referenced SOP Class UID in File
        0x0004151A,  # Referenced Related General SOP Class UID in File
    }
)
_DUMMY_TEXT = "ANONYMIZED"
_DUMMY_BY_VR = {
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "DS": "0",
    "IS": "0",
    "AS": "000Y",
    "AE": "ANONYMIZED",
    "CS": "ANONYMIZED",
}


class UidMapper:
    """Replaces UIDs deterministically: the same original UID always gets the same new UID
    under the same secret (so a study's images stay together across exports), and the new UID
    cannot be traced back without the secret (HMAC-SHA-256, written as a 2.25 UUID-form UID)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the UID mapping secret must be at least 16 bytes")
        self._secret = secret

    def __call__(self, uid: str) -> str:
        uid = uid.strip().rstrip("\0")
        if not uid:
            return uid
        digest = hmac.new(self._secret, uid.encode("ascii", "replace"), hashlib.sha256).digest()
        # 128 bits as a decimal integer under 2.25 (PS3.5 B.2): at most 44 characters.
        return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def deidentify(data: bytes, uid_map: UidMapper) -> bytes:
    """A de-identified copy of a DICOM file (Basic Profile), as Part 10 bytes."""
    ds = read_dataset(data)
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        # The Basic Profile does not clean pixel data: an image that says it has text burned
        # into its pixels may show a name, so it cannot be released.
        raise DicomRejected(
            "burned_in_annotation",
            "The image has annotation burned into its pixels; it cannot be de-identified "
            "without cleaning the pixel data.",
        )
    original_syntax = UID(str(ds.file_meta.TransferSyntaxUID))
    ds.remove_private_tags()
    _clean(ds, uid_map)
    _mark(ds)
    syntax = original_syntax if original_syntax.is_compressed else ExplicitVRLittleEndian
    ds.file_meta = _file_meta(ds, syntax)
    ds.preamble = b"\0" * 128  # a preamble can carry a TIFF header with its own tags
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _clean(ds: Dataset, uid_map: UidMapper) -> None:
    for elem in list(ds):
        tag = int(elem.tag)
        group = tag >> 16
        if group & 1 or (group & 0xFF00) in (0x5000, 0x6000):
            # Private attributes; curves (50xx) and overlays (60xx): the profile removes curve
            # data and overlay data and comments, and an overlay without its data is invalid.
            del ds[elem.tag]
            continue
        action = _resolve(tag, BASIC_PROFILE.get(tag))
        if action is None:
            _retain(elem, tag, uid_map)
        elif action == "X":
            del ds[elem.tag]
        elif action == "Z":
            elem.value = Sequence() if elem.VR == "SQ" else None
        elif action == "D":
            _dummy(elem, uid_map)
        elif action == "U":
            _remap(elem, uid_map)
        elif action == "U*":
            for item in elem.value:
                _clean(item, uid_map)


def _resolve(tag: int, action: str | None) -> str | None:
    if action is None or "/" not in action:
        return action
    if action == "X/Z/U*":
        return "U*"  # keep the references, with their UIDs replaced
    options = action.split("/")
    if tag in _REQUIRED_EMPTY and "Z" in options:
        return "Z"
    return "X" if "X" in options else options[0]


def _retain(elem: DataElement, tag: int, uid_map: UidMapper) -> None:
    if elem.VR == "SQ":
        for item in elem.value:
            _clean(item, uid_map)
    elif elem.VR == "UI" and tag not in _KEEP_UIDS and elem.value:
        # The table lists the instance UIDs it knows; any other UID that is not a standard
        # one (SOP classes, transfer syntaxes, coding schemes) may point back to the source.
        values = elem.value if elem.VM > 1 else [elem.value]
        if any(not str(v).startswith("1.2.840.10008.") for v in values):
            _remap(elem, uid_map)


def _dummy(elem: DataElement, uid_map: UidMapper) -> None:
    if elem.VR == "SQ":
        for item in elem.value:
            _clean(item, uid_map)
    elif elem.VR == "UI":
        _remap(elem, uid_map)
    elif elem.VR in _DUMMY_BY_VR:
        elem.value = _DUMMY_BY_VR[elem.VR]
    elif elem.VR in ("PN", "LO", "SH", "LT", "ST", "UT", "UC"):
        elem.value = _DUMMY_TEXT
    else:
        elem.value = None


def _remap(elem: DataElement, uid_map: UidMapper) -> None:
    if elem.VR == "SQ":
        for item in elem.value:
            _clean(item, uid_map)
    elif elem.VM > 1:
        elem.value = [uid_map(str(v)) for v in elem.value]
    elif elem.value:
        elem.value = uid_map(str(elem.value))


def _mark(ds: Dataset) -> None:
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = BASIC_PROFILE_CODE
    ds.DeidentificationMethodCodeSequence = Sequence([code])
    # Dates are removed or emptied, so no temporal information survives.
    ds.LongitudinalTemporalInformationModified = "REMOVED"


def _file_meta(ds: Dataset, syntax: UID) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    return meta
