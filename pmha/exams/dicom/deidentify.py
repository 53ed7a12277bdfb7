"""De-identified copies for research and QA: DICOM PS3.15 Annex E, the Basic Application Level
Confidentiality Profile of Table E.1-1 (edition 2026c, `profile.EDITION`), with UIDs replaced
consistently per centre, and everything the table does not list removed unless the image needs
it (`profile.KEEP`).

Every attribute, at every depth of every sequence, gets one of:
- the table's action (X remove, Z empty, D dummy, U new UID; a compound action resolved as
  `_resolve` says), private attributes (odd groups) and curves (50xx) and overlay data and
  comments (60xx) included: all X;
- kept, when the table does not list it and it is in `profile.KEEP` (the Type 1 and 2
  attributes of the chest X-ray IODs and the pixel modules);
- removed otherwise: an attribute the table does not know may identify too.
The file meta is written anew and the preamble zeroed.
"""

from __future__ import annotations

import hashlib
import hmac
from io import BytesIO

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from pmha.exams.dicom.errors import DicomRejected
from pmha.exams.dicom.profile import BASIC_PROFILE_CODE, EDITION, KEEP, action_for
from pmha.exams.dicom.validate import DicomInfo, read_dataset, total

METHOD = f"DICOM PS3.15 E.1-1 {EDITION} Basic Profile; UIDs replaced (PMHA)"  # LO: 64 chars
IMPLEMENTATION_VERSION = "PMHA_DEID_2"

# Compound actions (X/Z, X/D, Z/D, X/Z/D) take their first code unless the IOD needs the
# attribute present (the legend of PS3.15 Table E.1-1 on compound codes). In the IODs we accept
# (CR, DX, Secondary Capture) these must stay, empty; none is Type 1, so no dummy value (D) is
# needed. Checked with dciodvfy on CR, DX and SC files (scripts/check-dicom.sh).
_REQUIRED_EMPTY: frozenset[int] = frozenset(
    {
        0x00080023,  # Content Date: Type 2C in General Image (temporally related images)
        0x00080033,  # Content Time
        0x00400555,  # Acquisition Context Sequence: Type 2 in DX
    }
)
_DUMMY_TEXT = "ANONYMIZED"
_DUMMY_BY_VR: dict[str, object] = {
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "DS": "0",
    "IS": "0",
    "AS": "000Y",
    "AE": _DUMMY_TEXT,
    "CS": _DUMMY_TEXT,
    "PN": _DUMMY_TEXT,
    "LO": _DUMMY_TEXT,
    "SH": _DUMMY_TEXT,
    "LT": _DUMMY_TEXT,
    "ST": _DUMMY_TEXT,
    "UT": _DUMMY_TEXT,
    "UC": _DUMMY_TEXT,
    "UR": _DUMMY_TEXT,
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
    "AT": 0,
}
_DUMMY_BYTES = b"\0\0"  # OB, OW, OD, OF, OL, OV, UN: two zero bytes (even length)


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
    with total("de-identified"):
        return _deidentify(data, uid_map)


def check_releasable(info: DicomInfo) -> None:
    """Refuse, at upload, an image whose de-identified copy `deidentify` would refuse."""
    if info.burned_in_annotation:
        raise _burned_in()


def _burned_in() -> DicomRejected:
    # The Basic Profile does not clean pixel data: an image that says it has text burned
    # into its pixels may show a name, so it cannot be released.
    return DicomRejected(
        "burned_in_annotation",
        "The image has annotation burned into its pixels; it cannot be de-identified "
        "without cleaning the pixel data.",
    )


def _deidentify(data: bytes, uid_map: UidMapper) -> bytes:
    ds = read_dataset(data)
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        raise _burned_in()
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
        if tag >> 16 == 0x0000:
            # Command elements (PS3.7): the table lists two, but a Part 10 file may hold none.
            del ds[elem.tag]
            continue
        action = _resolve(tag, action_for(tag))
        if action is None:
            if tag not in KEEP:
                del ds[elem.tag]  # not in the table and not needed for the image
            elif elem.VR == "SQ":
                for item in elem.value:
                    _clean(item, uid_map)
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
    """One action for a table code. X/Z/U* keeps the references (Source Image Sequence,
    Referenced Image Sequence) with their items cleaned and their instance UIDs replaced, so
    that derived images in a de-identified set still point at their sources."""
    if action is None or "/" not in action:
        return action
    if action == "X/Z/U*":
        return "U*"
    options = action.split("/")
    if tag in _REQUIRED_EMPTY and "Z" in options:
        return "Z"
    return options[0]


def _dummy(elem: DataElement, uid_map: UidMapper) -> None:
    if elem.VR == "SQ":
        # A sequence's dummy is the sequence with its items de-identified.
        for item in elem.value:
            _clean(item, uid_map)
    elif elem.VR == "UI":
        _remap(elem, uid_map)
    elif elem.VR in _DUMMY_BY_VR:
        elem.value = _DUMMY_BY_VR[elem.VR]
    else:
        elem.value = _DUMMY_BYTES


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
