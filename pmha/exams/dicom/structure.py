"""A Part 10 file's structure checked before pydicom reads it: every declared length against the
bytes that are there, every value representation known and its length a whole number of values,
sequences closed and not nested too deep, elements in order and once, the pixel data where and
as the transfer syntax says. pydicom trusts declared lengths (it reads a PixelData of length
0xFFFFFFF0 to the end of the file) and raises what it meets; here each fault is a DicomRejected
naming the element by its tag, which is never patient data.

The encoding is DICOM PS3.5 (2026c): 7.1 (elements, ascending and at most once), 7.1.2 and
7.1.3 (explicit and implicit VR headers), 7.5 (sequences, items, delimiters), 6.2 (fixed-size
VRs), 8.2 (native pixel data), A.4 (encapsulated pixel data), A.5 (deflate), 7.1 of PS3.10
(the file meta information, explicit VR little endian).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.uid import (
    UID,
    AllTransferSyntaxes,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)

from pmha.exams.dicom.errors import DicomRejected

MAX_DEPTH = 12
"""Sequences nested deeper than this are refused: a radiograph's nest three or four deep."""
MAX_ELEMENTS = 50_000
"""A chest X-ray has a few hundred elements; a file of millions is an attack on the parser."""

UNDEFINED = 0xFFFFFFFF
PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_LONG = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
_SHORT = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
    b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
}  # fmt: skip
# Value sizes of the VRs pydicom converts to numbers (PS3.5 Table 6.2-1): a length must be a
# multiple, or reading the value raises. (OB, OW, OF... stay bytes, and may be any length.)
_SIZE = {
    "AT": 4, "FD": 8, "FL": 4, "SL": 4, "SS": 2, "SV": 8, "UL": 4, "US": 2, "UV": 8,
    "US or SS": 2,
}  # fmt: skip
# Transfer syntaxes read: the little endian ones (big endian was retired in 2004).
ACCEPTED_SYNTAXES = frozenset(uid for uid in AllTransferSyntaxes if uid != ExplicitVRBigEndian) | {
    ImplicitVRLittleEndian
}


@dataclass(frozen=True, slots=True)
class Structure:
    """What the walk learnt: the transfer syntax and how the pixel data is stored."""

    transfer_syntax: UID
    pixel_length: int | None  # native pixel data's byte count; None when encapsulated or absent
    fragments: int  # encapsulated: data fragments after the Basic Offset Table


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _truncated(tag: int) -> DicomRejected:
    return DicomRejected(
        "truncated",
        f"The file ends inside element {_tag(tag)}: its declared length runs past the end of "
        "the file. The file is truncated or damaged; send it again from the source.",
    )


def _corrupt(tag: int, what: str) -> DicomRejected:
    return DicomRejected("corrupt", f"The DICOM file is damaged: element {_tag(tag)} {what}.")


class _Walk:
    def __init__(self, buf: bytes, explicit: bool, encapsulated: bool) -> None:
        self.buf = buf
        self.explicit = explicit
        self.encapsulated = encapsulated
        self.count = 0
        self.pixel_length: int | None = None
        self.fragments = 0

    def header(self, pos: int, end: int, explicit: bool) -> tuple[int, str, int, int]:
        """(tag, VR, value length, value start) of the element at pos."""
        buf = self.buf
        if pos + 8 > end:
            tag = 0
            if pos + 4 <= end:
                group, elem = struct.unpack_from("<HH", buf, pos)
                tag = group << 16 | elem
            raise _truncated(tag) if end == len(buf) else _corrupt(tag, "runs past its item")
        group, elem = struct.unpack_from("<HH", buf, pos)
        tag = group << 16 | elem
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise DicomRejected(
                "too_many_elements",
                f"The file holds more than {MAX_ELEMENTS:,} elements; a chest X-ray has a few "
                "hundred. It is damaged or not an image.",
            )
        # Items, delimiters and command elements (PS3.7 6.3.1) are always implicit VR.
        if group in (0xFFFE, 0x0000) or not explicit:
            (length,) = struct.unpack_from("<I", buf, pos + 4)
            vr = "SQ" if group != 0xFFFE and length == UNDEFINED else _dictionary_vr(tag)
            return tag, vr, length, pos + 8
        raw_vr = buf[pos + 4 : pos + 6]
        if raw_vr in _LONG:
            if pos + 12 > end:
                raise _truncated(tag) if end == len(buf) else _corrupt(tag, "runs past its item")
            (length,) = struct.unpack_from("<I", buf, pos + 8)
            return tag, raw_vr.decode(), length, pos + 12
        if raw_vr in _SHORT:
            (length,) = struct.unpack_from("<H", buf, pos + 6)
            return tag, raw_vr.decode(), length, pos + 8
        raise _corrupt(tag, "has no valid value representation (VR)")

    def dataset(self, pos: int, end: int, depth: int, *, explicit: bool, closed: bool) -> int:
        """Walk a data set from pos; `closed`: it ends with an item delimiter (undefined length)
        rather than at `end`. Returns where it ends. Whatever fails after the top level's pixel
        data is reported as bytes trailing it (its length was wrong, or bytes were appended)."""
        state = {"previous": -1, "after_pixels": False}
        while pos < end or closed:
            try:
                done, pos = self.element(pos, end, depth, explicit, closed, state)
            except DicomRejected:
                if state["after_pixels"]:
                    raise _trailing() from None
                raise
            if done:
                break
        return pos

    def element(
        self, pos: int, end: int, depth: int, explicit: bool, closed: bool, state: dict[str, Any]
    ) -> tuple[bool, int]:
        """Walk one element; (True, pos) when it was the item delimiter that closes the set."""
        top = depth == 0
        tag, vr, length, start = self.header(pos, end, explicit)
        if tag == ITEM_END and closed:
            return True, start
        if tag >> 16 == 0xFFFE:
            raise _corrupt(tag, "is a delimiter out of place")
        if tag <= state["previous"]:
            raise DicomRejected(
                "element_order",
                f"The DICOM file is damaged: element {_tag(tag)} is out of order or repeated "
                "(PS3.5 7.1: elements ascend and occur once).",
            )
        state["previous"] = tag
        if length == UNDEFINED:
            if top and tag == PIXEL_DATA and self.encapsulated:
                pos = self.fragments_from(start, end)
            elif vr in ("SQ", "UN"):
                # UN of undefined length: a sequence in implicit VR (PS3.5 6.2.2)
                pos = self.items(start, end, depth + 1, tag, explicit=explicit and vr == "SQ")
            else:
                raise _corrupt(tag, "has an undefined length, which only a sequence may have")
        else:
            value_end = start + length
            if value_end > end:
                if end == len(self.buf):
                    raise _truncated(tag)
                raise _corrupt(tag, "runs past the end of the item it is in")
            size = _SIZE.get(vr)
            if size and length % size:
                raise DicomRejected(
                    "bad_length",
                    f"The DICOM file is damaged: element {_tag(tag)} ({vr}) is {length} "
                    f"bytes long, not a whole number of {size}-byte values.",
                )
            if vr == "SQ":
                self.items(start, value_end, depth + 1, tag, explicit=explicit, length=length)
            if top and tag == PIXEL_DATA:
                if self.encapsulated:
                    raise _corrupt(
                        tag, "is not encapsulated although the transfer syntax compresses"
                    )
                self.pixel_length = length
            pos = value_end
        if top and tag in (PIXEL_DATA, *FLOAT_PIXEL_DATA):
            state["after_pixels"] = True
        return False, pos

    def items(
        self, pos: int, end: int, depth: int, seq: int, *, explicit: bool, length: int | None = None
    ) -> int:
        """Walk a sequence's items; with `length` None it ends at its delimiter."""
        if depth > MAX_DEPTH:
            raise DicomRejected(
                "too_deep",
                f"Sequences in the file nest more than {MAX_DEPTH} deep (at element "
                f"{_tag(seq)}): it is damaged or not an image.",
            )
        stop = end if length is None else pos + length
        while length is None or pos < stop:
            if length is None and pos + 8 > stop:
                raise _truncated(seq)
            tag, _, item_length, start = self.header(pos, stop, explicit)
            if tag == SEQUENCE_END and length is None:
                return start
            if tag != ITEM:
                raise _corrupt(seq, "holds something that is not an item")
            if item_length == UNDEFINED:
                pos = self.dataset(start, stop, depth, explicit=explicit, closed=True)
            else:
                if start + item_length > stop:
                    if stop == len(self.buf):
                        raise _truncated(seq)
                    raise _corrupt(seq, "has an item longer than the sequence")
                self.dataset(start, start + item_length, depth, explicit=explicit, closed=False)
                pos = start + item_length
        return pos

    def fragments_from(self, pos: int, end: int) -> int:
        """Encapsulated pixel data (PS3.5 A.4): items of defined length, then the delimiter."""
        items = 0
        while True:
            if pos + 8 > end:
                raise _truncated(PIXEL_DATA)
            tag, length = struct.unpack_from("<II", self.buf, pos)
            tag = (tag & 0xFFFF) << 16 | tag >> 16  # group, element in little endian order
            if tag == SEQUENCE_END:
                self.fragments = max(0, items - 1)
                return pos + 8
            if tag != ITEM or length == UNDEFINED:
                raise _corrupt(PIXEL_DATA, "holds a fragment that is not a defined-length item")
            if pos + 8 + length > end:
                raise _truncated(PIXEL_DATA)
            items += 1
            pos += 8 + length


def _trailing() -> DicomRejected:
    return DicomRejected(
        "trailing_bytes",
        "The file goes on after its pixel data with bytes that are not DICOM elements: the "
        "pixel data's length is wrong or something was appended to the file.",
    )


def _dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"  # private or unknown: no size to check


def check_structure(data: bytes, max_bytes: int) -> Structure:
    """Walk the whole file (a Part 10 file: preamble and 'DICM' already checked)."""
    walk = _Walk(data, explicit=True, encapsulated=False)
    pos = 132
    syntax_value: bytes | None = None
    previous = -1
    while pos + 2 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 0x0002:
        tag, _, length, start = walk.header(pos, len(data), True)
        if length == UNDEFINED:
            raise _corrupt(tag, "has an undefined length in the file meta information")
        if start + length > len(data):
            raise _truncated(tag)
        if tag <= previous:
            raise DicomRejected(
                "element_order",
                f"The DICOM file is damaged: file meta element {_tag(tag)} is out of order or "
                "repeated.",
            )
        previous = tag
        if tag == 0x00020010:
            syntax_value = data[start : start + length]
        pos = start + length
    if pos == 132:
        raise _truncated(0x00020000) if len(data) < 140 else _corrupt(0x00020000, "is missing")
    if syntax_value is None:
        raise DicomRejected("corrupt", "The DICOM file meta information has no transfer syntax.")
    syntax = UID(syntax_value.rstrip(b"\0 ").decode("ascii", "replace"))
    if syntax not in ACCEPTED_SYNTAXES:
        name = syntax.name if syntax.is_transfer_syntax else "an unrecognised transfer syntax"
        raise DicomRejected(
            "unsupported_syntax",
            f"The file is encoded as {name}, which this server does not read: export it "
            "as Explicit VR Little Endian or a JPEG or JPEG 2000 syntax.",
        )
    body = data[pos:]
    if syntax == DeflatedExplicitVRLittleEndian:
        body = _inflate(body, max_bytes)
    explicit = syntax != ImplicitVRLittleEndian
    walk = _Walk(body, explicit=explicit, encapsulated=syntax.is_encapsulated)
    walk.dataset(0, len(body), 0, explicit=walk.explicit, closed=False)
    return Structure(syntax, walk.pixel_length, walk.fragments)


def _inflate(body: bytes, max_bytes: int) -> bytes:
    """A deflated data set (PS3.5 A.5), inflated no further than max_bytes."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error:
        raise DicomRejected(
            "corrupt", "The DICOM file is damaged: its deflated data set cannot be inflated."
        ) from None
    if len(out) > max_bytes:
        raise DicomRejected(
            "too_large",
            f"The file's deflated data set inflates past the limit of {max_bytes // 1048576} MiB.",
            status=413,
        )
    if not inflater.eof:
        raise DicomRejected(
            "truncated", "The file ends inside its deflated data set: it is truncated."
        )
    return out
