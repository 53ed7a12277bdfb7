"""De-identification over the whole of DICOM PS3.15 Annex E, Table E.1-1 (edition 2026c), the
Basic Application Level Confidentiality Profile (column "Basic Prof."), as PMHA applies it: UIDs
replaced consistently per centre, no option claimed, and every attribute the table does not
list removed unless the image needs it.

A "filled image" is a synthetic chest X-ray (tests.exams.dicom_factory) holding every attribute
of the table with a plausible value of its VR (PS3.6 through pydicom's data dictionary; UN for
the few attributes newer than that dictionary), each sequence holding an item with identifying,
unlisted and private content. Each attribute's result is checked against its action as the
table's legend defines it: X removed; Z present and empty; D replaced by a dummy value that is
not the original; U a new UID, the same one for the same original UID; compound codes resolved
as the legend says (the first code unless the IOD needs the attribute: PS3.3 A.2 CR Image keeps
Content Date and Time, Type 2C), X/Z/U* references kept with their UIDs replaced.
"""

from __future__ import annotations

import re
from io import BytesIO

import pydicom
import pytest
from pydicom.datadict import DicomDictionary, dictionary_description, dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from pmha.exams import dicom
from pmha.exams.dicom import UidMapper, profile
from pmha.exams.dicom.deidentify import METHOD
from tests.exams import dicom_factory as factory

SECRET = b"centre-secret-for-tests-0123456789"
# Compound actions the CR Image IOD (PS3.3 A.2) needs present: General Image's Content Date and
# Content Time are Type 2C, so Z; DX (A.26) needs the Acquisition Context Sequence (Type 2).
NEEDED_EMPTY = {0x00080023, 0x00080033, 0x00400555}
DUMMIES = {"19000101", "000000", "19000101000000", "ANONYMIZED", "0", "000Y"}
# Attributes the factory's image carries for its IOD; the fill leaves their values alone.
# Not in a file's data set, checked apart: command elements (0000,eeee), which a Part 10 file
# must not hold, and Media Storage SOP Instance UID, which is file meta (0002,eeee).
SKIP_FILL = {0x00001000, 0x00001001, 0x00020003}


def dataset(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(BytesIO(data))


def vr_of(tag: int) -> str:
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "UN"  # newer than pydicom's dictionary: how a reader without it sees it
    return vr.split(" or ")[0]


def value_for(tag: int, vr: str) -> object:
    """A plausible value of the VR that names its tag, so that a survivor can be traced."""
    mark = f"S{tag:08X}"  # 9 characters: fits AE, CS, SH
    match vr:
        case "AE" | "CS" | "SH" | "LO" | "LT" | "ST" | "UT" | "UC":
            return mark
        case "PN":
            return f"SYN^{mark}"
        case "UR":
            return f"http://synthetic.invalid/{mark}"
        case "DA":
            return "20240315"
        case "TM":
            return "101530"
        case "DT":
            return "20240315101530"
        case "AS":
            return "042Y"
        case "DS" | "IS":
            return "17"
        case "US" | "SS" | "UL" | "SL" | "UV" | "SV":
            return 17
        case "FL" | "FD":
            return 1.5
        case "AT":
            return 0x00100010
        case "UI":
            return generate_uid()
        case "SQ":
            return Sequence([nested_item(tag)])
        case _:  # OB, OW, OD, OF, OL, OV, UN
            return mark.encode() + b"\0"


def nested_item(tag: int) -> Dataset:
    """An item with a listed name (Z), a listed station name (X), an unlisted acquisition
    value (KVP), a private attribute, a kept code and a reference whose UID must be replaced."""
    item = Dataset()
    item.PatientName = f"NESTED^{tag:08X}"
    item.StationName = f"NS{tag:08X}"
    item.KVP = "125"
    item.CodeValue = "51185008"
    item.CodingSchemeDesignator = "SCT"
    item.ReferencedSOPClassUID = factory.CR
    item.ReferencedSOPInstanceUID = generate_uid()
    item.add_new(0x00291010, "LO", f"PRIVATE{tag:08X}")
    return item


def filled() -> tuple[Dataset, dict[int, DataElement]]:
    """The factory's CR image with every single attribute of Table E.1-1 added (those the image
    already has keep their values), the repeating groups and a private block; and the
    attributes as written, by tag."""
    ds = factory.build()
    for tag in profile.BASIC_PROFILE:
        if tag in ds or tag in SKIP_FILL:
            continue
        vr = vr_of(tag)
        ds.add(DataElement(tag, vr, value_for(tag, vr)))
    ds.add_new(0x50000005, "US", 2)  # Curve Dimensions (50xx: curve data)
    ds.add_new(0x60003000, "OW", b"\x01\x00" * 8)  # Overlay Data
    ds.add_new(0x60004000, "LT", "OVERLAY COMMENT ABOUT SYNTHETIC ALICE")
    ds.add_new(0x60000010, "US", 4)  # Overlay Rows: not listed, goes with its overlay
    before = {int(elem.tag): elem for elem in ds}
    return ds, before


@pytest.fixture(scope="module")
def run() -> tuple[dict[int, DataElement], Dataset, bytes, UidMapper]:
    ds, before = filled()
    mapper = UidMapper(SECRET)
    out = dicom.deidentify(factory.to_bytes(ds), mapper)
    return before, dataset(out), out, mapper


def empty(elem: DataElement) -> bool:
    return elem.value in (None, "", b"") or (elem.VR == "SQ" and len(elem.value) == 0)


def expected(tag: int, action: str) -> str:
    """The action Table E.1-1's legend prescribes for a CR image."""
    if action == "X/Z/U*":
        return "U*"
    if "/" in action:
        codes = action.split("/")
        return "Z" if tag in NEEDED_EMPTY and "Z" in codes else codes[0]
    return action


def check_item(item: Dataset, mapper: UidMapper, original: Dataset) -> None:
    assert item.get("PatientName") in (None, "")
    assert "StationName" not in item and "KVP" not in item
    assert not any(elem.tag.is_private for elem in item)
    assert item.CodeValue == "51185008"
    assert item.ReferencedSOPInstanceUID == mapper(original.ReferencedSOPInstanceUID)


# ---------------------------------------------------------------------------------------------
# The table as data


def test_the_table_is_the_2026c_edition_whole():
    """PS3.15 Table E.1-1, 2026c: 652 attributes and 3 repeating groups (curve data, overlay
    data, overlay comments); the private attributes' row is a rule."""
    assert profile.EDITION == "2026c"
    assert len(profile.BASIC_PROFILE) == 652
    assert {(f"{r.tag:08X}", f"{r.mask:08X}") for r in profile.REPEATING} == {
        ("50000000", "FF000000"),
        ("60003000", "FF00FFFF"),
        ("60004000", "FF00FFFF"),
    }
    assert set(profile.BASIC_PROFILE.values()) <= profile.ACTIONS
    # A few rows read in the standard's table (2026c).
    assert profile.BASIC_PROFILE[0x00100010] == "Z"  # Patient's Name
    assert profile.BASIC_PROFILE[0x00100020] == "Z/D"  # Patient ID
    assert profile.BASIC_PROFILE[0x00080018] == "U"  # SOP Instance UID
    assert profile.BASIC_PROFILE[0x00081010] == "X/Z/D"  # Station Name
    assert profile.BASIC_PROFILE[0x00080055] == "X"  # Station AE Title
    assert profile.BASIC_PROFILE[0x00082112] == "X/Z/U*"  # Source Image Sequence
    assert 0x00080016 not in profile.BASIC_PROFILE  # SOP Class UID: not listed, kept


def _letters(text: str) -> str:
    """A name without case, spaces, punctuation or the table's "(see Note n)"."""
    text = re.sub(r"\(see note \d+\)", "", text.lower())
    return "".join(re.findall(r"[a-z0-9]+", text.replace("'s", "s")))


def test_the_tables_names_agree_with_the_data_dictionary():
    """The generated file names each attribute as the standard does; PS3.6 (pydicom's
    dictionary) must agree for every tag it knows, so that no row is shifted or mistyped."""
    differ = []
    for row in profile.TABLE:
        if row.mask != 0xFFFFFFFF or row.tag not in DicomDictionary:
            continue
        if _letters(row.name) != _letters(dictionary_description(row.tag)):
            differ.append((f"{row.tag:08X}", row.name, dictionary_description(row.tag)))
    assert differ == []


def test_attributes_newer_than_the_data_dictionary_are_few_and_all_removed():
    newer = [r for r in profile.TABLE if r.mask == 0xFFFFFFFF and r.tag not in DicomDictionary]
    assert len(newer) < 30
    assert {r.action for r in newer} == {"X"}


def test_private_attributes_are_removed_by_rule():
    assert profile.action_for(0x00090010) == "X"
    assert profile.action_for(0x7FE10010) == "X"
    assert profile.action_for(0x60023000) == "X"  # another overlay group's data
    assert profile.action_for(0x50101234) == "X"  # any curve element
    assert profile.action_for(0x00180060) is None  # KVP: not listed


def test_the_keep_list_is_small_and_outside_the_table():
    assert len(profile.KEEP) < 80
    assert not profile.KEEP & set(profile.BASIC_PROFILE)
    for keyword in profile.KEEP_REASONS:
        tag = pydicom.datadict.tag_for_keyword(keyword)
        assert dictionary_VR(tag) not in ("DA", "DT", "TM", "PN"), keyword


# ---------------------------------------------------------------------------------------------
# Every row of the table, on a filled image


@pytest.mark.parametrize(
    "tag",
    sorted(t for t in profile.BASIC_PROFILE if t not in SKIP_FILL),
    ids=lambda t: f"{t:08X}",
)
def test_every_attribute_of_the_table_gets_its_action(run, tag):
    before, after, _, mapper = run
    action = profile.BASIC_PROFILE[tag]
    original = before[tag]
    result = after.get(tag)
    match expected(tag, action):
        case "X":
            assert result is None, f"{original.name} ({action}) kept"
        case "Z":
            assert result is not None and empty(result), f"{original.name} ({action})"
        case "D":
            assert result is not None and not empty(result), f"{original.name} ({action})"
            if original.VR == "SQ":
                for item, item_before in zip(result.value, original.value, strict=True):
                    check_item(item, mapper, item_before)
            elif original.VR == "UI":
                assert result.value == mapper(original.value)
            else:
                assert result.value != original.value
                assert str(result.value) in DUMMIES | {"0.0", "b'\\x00\\x00'"}
        case "U":
            assert result is not None and result.value == mapper(original.value), original.name
            assert result.value.startswith("2.25.")
        case "U*":
            assert result is not None and len(result.value) == len(original.value)
            for item, item_before in zip(result.value, original.value, strict=True):
                check_item(item, mapper, item_before)
        case other:
            pytest.fail(f"no expectation for {other}")


def test_media_storage_sop_instance_uid_is_the_new_sop_instance_uid(run):
    before, after, _, mapper = run
    assert after.file_meta.MediaStorageSOPInstanceUID == mapper(before[0x00080018].value)


def test_command_elements_in_a_file_are_removed():
    """Affected (X) and Requested (U) SOP Instance UID are command elements (PS3.7); a file
    that carries them anyway loses them, as any (0000,eeee) element: a Part 10 file may not
    hold command elements, so none can be written back."""
    data = factory.make()
    meta_end = 132 + 12 + int.from_bytes(data[140:144], "little")
    uid = b"1.2.826.0.1.3680043.2.1125.9\0"
    # Command elements are always implicit VR little endian (PS3.7 6.3.1).
    command = b"\x00\x00\x00\x10" + len(uid).to_bytes(4, "little") + uid
    requested = b"\x00\x00\x01\x10" + len(uid).to_bytes(4, "little") + uid
    data = data[:meta_end] + command + requested + data[meta_end:]
    assert 0x00001001 in dataset(data)
    out = dicom.deidentify(data, UidMapper(SECRET))
    assert not [e for e in dataset(out) if e.tag.group == 0]
    assert uid[:-1] not in out


def test_repeating_groups_and_private_attributes_are_gone(run):
    _, after, out, _ = run
    assert not [e for e in after.iterall() if e.tag.is_private]
    assert not [e for e in after if e.tag.group & 0xFF00 in (0x5000, 0x6000)]
    assert b"OVERLAY COMMENT" not in out


def test_no_value_of_a_listed_attribute_survives_anywhere_in_the_bytes(run):
    before, _, out, _ = run
    marks = [f"S{tag:08X}".encode() for tag in profile.BASIC_PROFILE]
    marks += [f"NESTED^{tag:08X}".encode() for tag in before if before[tag].VR == "SQ"]
    marks += [f"PRIVATE{tag:08X}".encode() for tag in before if before[tag].VR == "SQ"]
    assert [m for m in marks if m in out] == []


def test_what_survives_is_the_table_or_the_keep_list(run):
    _, after, _, _ = run
    top = {int(elem.tag) for elem in after}
    assert top <= set(profile.BASIC_PROFILE) | profile.KEEP


def test_the_copy_says_how_it_was_deidentified(run):
    """PS3.15 E.1.1 and PS3.3 C.7.1.1: Patient Identity Removed YES, a De-identification
    Method, and its code sequence from PS3.16 CID 7050: 113100 only, since PMHA applies no
    option (UIDs are replaced, not retained: no 113110; descriptors removed, not cleaned: no
    113105)."""
    _, after, _, _ = run
    assert after.PatientIdentityRemoved == "YES"
    assert after.DeidentificationMethod == METHOD and len(METHOD) <= 64
    method_codes = after.DeidentificationMethodCodeSequence
    codes = [(c.CodeValue, c.CodingSchemeDesignator) for c in method_codes]
    assert codes == [("113100", "DCM")]
    assert after.LongitudinalTemporalInformationModified == "REMOVED"


# ---------------------------------------------------------------------------------------------
# What the table does not list


def test_station_name_and_dates_the_old_transcription_missed_are_removed():
    """The issue's case: a station name and three dates survived in an image whose header said
    dates were removed. All four are rows of the 2026c table (X, X/D, X, X), and an unlisted
    date would be removed too."""
    ds = factory.build()
    ds.StationAETitle = "SYNSTATION02"
    ds.DateOfLastDetectorCalibration = "20240101"
    ds.StudyArrivalDate = "20240314"
    ds.DateOfInstallation = "20190607"
    ds.add_new(0x00181201, "TM", "093000")  # Time of Last Calibration
    ds.LongitudinalTemporalInformationModified = "REMOVED"
    out = dicom.deidentify(factory.to_bytes(ds), UidMapper(SECRET))
    after = dataset(out)
    for keyword in ("StationAETitle", "DateOfLastDetectorCalibration", "StudyArrivalDate"):
        assert keyword not in after
    assert "DateOfInstallation" not in after and 0x00181201 not in after
    for text in (b"SYNSTATION02", b"20240101", b"20240314", b"20190607", b"093000"):
        assert text not in out


def _dictionary_fill() -> tuple[Dataset, set[int]]:
    """The factory's image with every public attribute of the data dictionary that is neither
    in the table nor kept, nor file meta, command or item delimiters."""
    ds = factory.build()
    added = set()
    for tag, entry in DicomDictionary.items():
        group = tag >> 16
        if group in (0x0000, 0x0002, 0xFFFE) or tag in ds or entry[3] == "Retired":
            continue
        if tag in profile.BASIC_PROFILE or tag in profile.KEEP:
            continue
        vr = entry[0].split(" or ")[0]
        ds.add(DataElement(tag, vr, value_for(tag, vr)))
        added.add(tag)
    return ds, added


def test_every_unlisted_attribute_outside_the_keep_list_is_removed():
    """Attributes Table E.1-1 does not list may identify too (a later edition's, a vendor's
    misuse): every current attribute of PS3.6 outside the table and the keep-list is removed,
    its dates, times and names with it."""
    ds, added = _dictionary_fill()
    assert len(added) > 3000
    after = dataset(dicom.deidentify(factory.to_bytes(ds), UidMapper(SECRET)))
    assert sorted(f"{t:08X}" for t in added if t in after) == []
    survivors = [e for e in after.iterall() if e.VR in ("DA", "DT", "TM") and e.value]
    assert [e.name for e in survivors if str(e.value) not in DUMMIES] == []


def test_sequences_are_cleaned_at_every_depth():
    ds = factory.build()
    inner = nested_item(0x00082112)
    middle = nested_item(0x00081140)
    middle.SourceImageSequence = Sequence([inner])
    ds.ReferencedImageSequence = Sequence([middle])
    ds.AnatomicRegionSequence = Sequence([nested_item(0x00082218)])
    after = dataset(dicom.deidentify(factory.to_bytes(ds), UidMapper(SECRET)))
    mapper = UidMapper(SECRET)
    check_item(after.ReferencedImageSequence[0], mapper, middle)
    check_item(after.ReferencedImageSequence[0].SourceImageSequence[0], mapper, inner)
    region = after.AnatomicRegionSequence[0]
    assert "PatientName" in region and region.PatientName in (None, "")
    assert "StationName" not in region and "KVP" not in region
