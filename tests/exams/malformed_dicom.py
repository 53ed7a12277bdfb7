"""Malformed DICOM files, built byte by byte from the factory's valid chest X-ray: the fixtures
of issue 19 ("no 500 on any file"). Each is a (name, bytes builder, refusal code) row.

The encoding follows DICOM PS3.5 (2026c): 7.1.2 (explicit VR: a 2-byte length, or 2 reserved
bytes and a 4-byte length for OB, OD, OF, OL, OV, OW, SQ, UC, UN, UR, UT, SV, UV), 7.1.3
(implicit VR: a 4-byte length), 7.5 (items and delimiters, undefined length 0xFFFFFFFF),
8.2 (native pixel data is exactly Rows x Columns x Samples x Bits Allocated / 8 bytes, padded
to even), A.4 (encapsulated pixel data). Everything here is synthetic.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    JPEGBaseline8Bit,
    JPEGLossless,
)

from tests.exams import dicom_factory as factory

UNDEFINED = 0xFFFFFFFF
LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"SQ",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"SV",
    b"UV",
}
ITEM = struct.pack("<HH", 0xFFFE, 0xE000)
ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
SEQUENCE_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def element(group: int, elem: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
    """One explicit VR little endian element (PS3.5 7.1.2)."""
    n = len(value) if length is None else length
    head = struct.pack("<HH", group, elem) + vr
    if vr in LONG_VRS:
        return head + b"\0\0" + struct.pack("<I", n) + value
    return head + struct.pack("<H", n) + value


def find(data: bytes, group: int, elem: int, vr: bytes) -> int:
    """Where the top-level element's header starts (its tag and VR are unique in our files)."""
    at = data.find(struct.pack("<HH", group, elem) + vr, 132)
    assert at > 0, f"({group:04X},{elem:04X}) not found"
    return at


def element_span(data: bytes, group: int, elem: int, vr: bytes) -> tuple[int, int]:
    """Start and end of the whole (defined length) element."""
    at = find(data, group, elem, vr)
    if vr in LONG_VRS:
        (n,) = struct.unpack_from("<I", data, at + 8)
        return at, at + 12 + n
    (n,) = struct.unpack_from("<H", data, at + 6)
    return at, at + 8 + n


def replace(data: bytes, group: int, elem: int, vr: bytes, new: bytes) -> bytes:
    start, end = element_span(data, group, elem, vr)
    return data[:start] + new + data[end:]


def insert_before(data: bytes, group: int, elem: int, vr: bytes, new: bytes) -> bytes:
    at = find(data, group, elem, vr)
    return data[:at] + new + data[at:]


def set_length(data: bytes, group: int, elem: int, vr: bytes, length: int) -> bytes:
    at = find(data, group, elem, vr)
    if vr in LONG_VRS:
        return data[: at + 8] + struct.pack("<I", length) + data[at + 12 :]
    return data[: at + 6] + struct.pack("<H", length) + data[at + 8 :]


def valid() -> bytes:
    return factory.make()


def pixel_start(data: bytes) -> int:
    for vr in (b"OW", b"OB"):
        at = data.find(struct.pack("<HH", 0x7FE0, 0x0010) + vr, 132)
        if at > 0:
            return at
    raise AssertionError("no pixel data")


def with_pixels(data: bytes, pixels: bytes, length: int | None = None) -> bytes:
    """The file with its pixel data element (always last) rewritten."""
    return data[: pixel_start(data)] + element(0x7FE0, 0x0010, b"OW", pixels, length)


def _dataset(**pixel_module: object) -> bytes:
    ds = factory.build()
    ds["PixelData"].VR = "OW"
    for keyword, value in pixel_module.items():
        setattr(ds, keyword, value)
    return factory.to_bytes(ds)


def _raw(data: bytes, elem: int, vr: bytes, value: bytes) -> bytes:
    """Group 0028's element `elem` with these bytes as its value."""
    return replace(data, 0x0028, elem, vr, element(0x0028, elem, vr, value))


def _after_window(data: bytes, extra: bytes) -> bytes:
    end = element_span(data, 0x0028, 0x1051, b"DS")[1]
    return data[:end] + extra + data[end:]


def _eight_bit() -> bytes:
    return _dataset(BitsAllocated=8, BitsStored=8, HighBit=7)


def _us(elem: int, value: bytes) -> Callable[[bytes], bytes]:
    return lambda data: replace(data, 0x0028, elem, b"US", element(0x0028, elem, b"US", value))


def _transfer_syntax(data: bytes, uid: str) -> bytes:
    """The file meta's transfer syntax changed (the group length rewritten to match)."""
    value = uid.encode() + (b"\0" if len(uid) % 2 else b"")
    data = replace(data, 0x0002, 0x0010, b"UI", element(0x0002, 0x0010, b"UI", value))
    meta_end = find(data, 0x0008, 0x0005, b"CS")  # Specific Character Set: the first element
    length = meta_end - (132 + 12)
    return data[:140] + struct.pack("<I", length) + data[144:]


def _encapsulated(data: bytes, uid: str, frames: list[bytes]) -> bytes:
    """The pixel data as PS3.5 A.4 fragments under a compressed transfer syntax."""
    data = _transfer_syntax(data, uid)
    value = ITEM + struct.pack("<I", 0)  # an empty Basic Offset Table
    for frame in frames:
        value += ITEM + struct.pack("<I", len(frame)) + frame
    value += SEQUENCE_END
    return data[: pixel_start(data)] + element(0x7FE0, 0x0010, b"OB", value, UNDEFINED)


def _nested_undefined(depth: int, *, closed: bool = True) -> bytes:
    """A sequence of sequences `depth` deep, all of undefined length (PS3.5 7.5.2)."""
    opening = b""
    closing = b""
    for _ in range(depth):
        opening += struct.pack("<HH", 0x0008, 0x1140) + b"SQ\0\0" + struct.pack("<I", UNDEFINED)
        opening += ITEM + struct.pack("<I", UNDEFINED)
        closing = ITEM_END + SEQUENCE_END + closing
    return opening + (closing if closed else b"")


def _before_pixels(data: bytes, extra: bytes) -> bytes:
    """Extra bytes where a (0008,1140) element belongs: after the last of group 0008, before
    the private block (0009,0010)."""
    return insert_before(data, 0x0009, 0x0010, b"LO", extra)


def _deflated(data: bytes, body: bytes | None = None) -> bytes:
    data = _transfer_syntax(data, DeflatedExplicitVRLittleEndian)
    start = find(data, 0x0008, 0x0005, b"CS")
    raw = data[start:] if body is None else body
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return data[:start] + packer.compress(raw) + packer.flush()


def _with_sequence_item_too_long(data: bytes) -> bytes:
    item = element(0x0008, 0x1150, b"UI", b"1.2.3\0")
    sequence = ITEM + struct.pack("<I", len(item) + 400) + item
    return _before_pixels(data, element(0x0008, 0x1140, b"SQ", sequence))


def _bomb() -> bytes:
    data = valid()
    start = find(data, 0x0008, 0x0005, b"CS")
    # A 300 MiB element of zeros inflates from about 300 KiB.
    body = data[start : pixel_start(data)] + element(0x7FE0, 0x0010, b"OB", b"", 300 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = packer.compress(body)
    for _ in range(300):
        compressed += packer.compress(b"\0" * (1 << 20))
    compressed += packer.flush()
    head = _transfer_syntax(data, DeflatedExplicitVRLittleEndian)
    return head[: find(head, 0x0008, 0x0005, b"CS")] + compressed


def _duplicate_rows(data: bytes) -> bytes:
    at, end = element_span(data, 0x0028, 0x0010, b"US")
    return data[:end] + data[at:end] + data[end:]


def _out_of_order(data: bytes) -> bytes:
    at, end = element_span(data, 0x0008, 0x0060, b"CS")  # Modality moved to the end
    moved = data[:at] + data[end:]
    return moved[: pixel_start(moved)] + data[at:end] + moved[pixel_start(moved) :]


def _implicit_truncated_sequence() -> bytes:
    data = factory.make(implicit_vr=True)
    # Implicit VR: tag and a 4-byte length; an undefined-length sequence never closed.
    opening = struct.pack("<HHI", 0x0008, 0x1140, UNDEFINED) + ITEM + struct.pack("<I", UNDEFINED)
    at = data.find(struct.pack("<HH", 0x0009, 0x0010), 132)
    return data[:at] + opening + data[at:]


def _with_sequence(data: bytes) -> bytes:
    ds = factory.build()
    ref = Dataset()
    ref.ReferencedSOPClassUID = factory.CR
    ds.ReferencedImageSequence = Sequence([ref])
    return factory.to_bytes(ds)


Row = tuple[str, Callable[[], bytes], str]

# name, how to build it, the refusal code (exams.dicom.<code>; a|b: either, where the
# damage makes what follows it garbage that may be read either way)
MALFORMED: list[Row] = [
    # truncation and declared lengths against the file's size
    ("truncated_in_meta", lambda: valid()[:150], "truncated"),
    ("truncated_in_header", lambda: valid()[:700], "truncated"),
    ("truncated_in_pixels", lambda: valid()[:-1000], "truncated"),
    ("truncated_by_one_byte", lambda: valid()[:-1], "truncated"),
    (
        "pixel_length_fffffff0",
        lambda: set_length(valid(), 0x7FE0, 0x0010, b"OW", 0xFFFFFFF0),
        "truncated",
    ),
    (
        "pixel_length_shorter_than_written",
        lambda: set_length(valid(), 0x7FE0, 0x0010, b"OW", 1000),
        "pixel_length|trailing_bytes",
    ),
    (
        "text_length_past_its_neighbours",
        lambda: set_length(valid(), 0x0008, 0x0060, b"CS", 0xFFF0),
        "corrupt|truncated|trailing_bytes|bad_length|element_order",
    ),
    (
        "meta_length_past_end",
        lambda: set_length(valid(), 0x0002, 0x0001, b"OB", 0x7FFFFFF0),
        "truncated",
    ),
    ("garbage_after_the_pixels", lambda: valid() + b"\x01\x02\x03", "trailing_bytes"),
    (
        "sequence_item_longer_than_its_sequence",
        lambda: _with_sequence_item_too_long(valid()),
        "corrupt",
    ),
    # value representations and their lengths (PS3.5 6.2)
    ("rows_length_3", lambda: _us(0x0010, b"\x00\x01\x00")(valid()), "bad_length"),
    ("rows_length_1", lambda: _us(0x0010, b"\x01")(valid()), "bad_length"),
    ("columns_length_0", lambda: _us(0x0011, b"")(valid()), "unsupported_pixels"),
    ("rows_two_values", lambda: _us(0x0010, b"\x00\x01\x00\x01")(valid()), "unsupported_pixels"),
    (
        "bits_allocated_length_5",
        lambda: _us(0x0100, b"\x10\x00\x10\x00\x10")(valid()),
        "bad_length",
    ),
    (
        "unknown_vr",
        lambda: replace(
            valid(), 0x0008, 0x0060, b"CS", struct.pack("<HH", 0x0008, 0x0060) + b"Q!\x02\x00CR"
        ),
        "corrupt",
    ),
    (
        "window_center_not_a_number",
        lambda: _raw(valid(), 0x1050, b"DS", b"12x4"),
        "bad_value",
    ),
    (
        "rescale_slope_not_a_number",
        lambda: _after_window(valid(), element(0x0028, 0x1053, b"DS", b"slope ")),
        "bad_value",
    ),
    # the pixel module (PS3.3 C.7.6.3) against the pixel data (PS3.5 8.2)
    ("pixels_shorter_than_the_image", lambda: with_pixels(valid(), b"\0" * 1000), "pixel_length"),
    (
        "pixels_longer_than_the_image",
        lambda: with_pixels(valid(), b"\0" * (256 * 200 * 2 + 4000)),
        "pixel_length",
    ),
    ("pixels_empty", lambda: with_pixels(valid(), b""), "pixel_length"),
    (
        "pixels_undefined_length_in_a_native_syntax",
        lambda: with_pixels(valid(), b"\0" * 100 + SEQUENCE_END, UNDEFINED),
        "corrupt",
    ),
    ("bits_allocated_0", lambda: _dataset(BitsAllocated=0), "unsupported_pixels"),
    ("bits_allocated_7", lambda: _dataset(BitsAllocated=7), "unsupported_pixels"),
    ("bits_allocated_64", lambda: _dataset(BitsAllocated=64), "unsupported_pixels"),
    ("bits_allocated_32", lambda: _dataset(BitsAllocated=32), "unsupported_pixels"),
    ("bits_stored_above_allocated", lambda: _dataset(BitsStored=20), "unsupported_pixels"),
    ("bits_stored_0", lambda: _dataset(BitsStored=0), "unsupported_pixels"),
    ("high_bit_above_allocated", lambda: _dataset(HighBit=16), "unsupported_pixels"),
    ("pixel_representation_2", lambda: _dataset(PixelRepresentation=2), "unsupported_pixels"),
    ("samples_per_pixel_0", lambda: _dataset(SamplesPerPixel=0), "unsupported_pixels"),
    ("samples_per_pixel_5", lambda: _dataset(SamplesPerPixel=5), "unsupported_pixels"),
    ("monochrome_with_3_samples", lambda: _dataset(SamplesPerPixel=3), "unsupported_pixels"),
    (
        "rgb_with_1_sample",
        lambda: factory.make(sop_class=factory.SC, modality="OT", photometric="RGB"),
        "unsupported_pixels",
    ),
    ("no_bits_allocated", lambda: _delete("BitsAllocated"), "unsupported_pixels"),
    ("no_photometric", lambda: _delete("PhotometricInterpretation"), "unsupported_pixels"),
    ("no_rows", lambda: _delete("Rows"), "unsupported_pixels"),
    ("float_pixel_data", lambda: _float_pixels(), "unsupported_pixels"),
    (
        "frames_not_a_number",
        lambda: insert_before(
            valid(), 0x0028, 0x0010, b"US", element(0x0028, 0x0008, b"IS", b"x1")
        ),
        "bad_value",
    ),
    ("two_frames", lambda: _dataset(NumberOfFrames=2), "multi_frame"),
    ("huge_image_declared", lambda: _huge_compressed(), "image_too_large"),
    # transfer syntaxes (PS3.5 10, A)
    (
        "unknown_transfer_syntax",
        lambda: _transfer_syntax(valid(), "1.2.3.4.5"),
        "unsupported_syntax",
    ),
    ("empty_transfer_syntax", lambda: _transfer_syntax(valid(), ""), "unsupported_syntax"),
    (
        "big_endian_transfer_syntax",
        lambda: _transfer_syntax(valid(), ExplicitVRBigEndian),
        "unsupported_syntax",
    ),
    (
        "jpeg_lossless_without_a_decoder",
        lambda: _encapsulated(valid(), JPEGLossless, [b"\xff\xd8\xff\xc3" + b"\0" * 60]),
        "pixels_undecodable",
    ),
    (
        "jpeg_baseline_garbage",
        lambda: _encapsulated(
            _dataset(BitsAllocated=8, BitsStored=8, HighBit=7),
            JPEGBaseline8Bit,
            [b"\xff\xd8\xff\xe0garbage" + b"\0" * 57],
        ),
        "pixels_undecodable",
    ),
    (
        "jpeg_baseline_no_fragments",
        lambda: _encapsulated(
            _dataset(BitsAllocated=8, BitsStored=8, HighBit=7), JPEGBaseline8Bit, []
        ),
        "pixels_undecodable",
    ),
    (
        "compressed_syntax_native_pixels",
        lambda: _transfer_syntax(valid(), JPEGBaseline8Bit),
        "corrupt",
    ),
    ("deflated_garbage", lambda: _deflated(valid(), b"\x00" * 10)[:-2] + b"\xff\xff", "corrupt"),
    ("deflate_bomb", _bomb, "too_large"),
    # structure (PS3.5 7.1, 7.5)
    (
        "nested_undefined_200_deep",
        lambda: _before_pixels(valid(), _nested_undefined(200)),
        "too_deep",
    ),
    (
        "nested_undefined_never_closed",
        lambda: _before_pixels(valid(), _nested_undefined(3, closed=False)),
        "truncated",
    ),
    ("implicit_sequence_never_closed", _implicit_truncated_sequence, "truncated"),
    ("duplicate_rows", lambda: _duplicate_rows(valid()), "element_order"),
    ("elements_out_of_order", lambda: _out_of_order(valid()), "element_order"),
    (
        "many_tiny_elements",
        lambda: insert_before(
            valid(),
            0x0010,
            0x0010,
            b"PN",
            b"".join(element(0x000B, 0x1000 + i, b"LO", b"") for i in range(60_000)),
        ),
        "too_many_elements",
    ),
]


def _delete(keyword: str) -> bytes:
    ds = factory.build()
    ds["PixelData"].VR = "OW"
    delattr(ds, keyword)
    return factory.to_bytes(ds)


def _float_pixels() -> bytes:
    ds = factory.build()
    del ds.PixelData
    ds.FloatPixelData = b"\0" * (256 * 200 * 4)
    return factory.to_bytes(ds)


def _huge_compressed() -> bytes:
    ds = factory.build()
    ds.Rows = ds.Columns = 65535
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    data = factory.to_bytes(ds)
    return _encapsulated(data, JPEGBaseline8Bit, [b"\xff\xd8" + b"\0" * 62])


# A valid file in each shape the fuzz tests mutate.
def seeds() -> list[bytes]:
    return [
        factory.make(rows=64, columns=48),
        factory.make(rows=40, columns=32, implicit_vr=True),
        factory.make(sop_class=factory.DX, modality="DX", rows=48, columns=40),
        _with_sequence(factory.make(rows=32, columns=32)),
    ]
