"""Fuzzing the DICOM reader (issue 19: "a fuzz test over the DICOM reader ... 0 unhandled
exceptions"). Valid chest X-rays (explicit and implicit VR, CR and DX, one with a sequence) are
mutated: bytes flipped, the file cut, lengths overwritten with the values that break parsers
(0, odd, 0xFFFF, 0xFFFFFFF0, undefined), bytes inserted and deleted. Each mutant goes the
upload's way, `inspect` then `render_previews` then `deidentify` (and the full-resolution
viewer's read): every step either succeeds or refuses with a *named* DicomRejected, never
another exception and never the adapter's last-line "unreadable".

`make test` runs 60 examples (derandomized, so the same ones every time); set
PMHA_FUZZ_EXAMPLES (e.g. 3000, as .ci/run does) for many more, random ones.
"""

from __future__ import annotations

import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmha.exams import dicom, xray_pixels
from pmha.exams.dicom import DicomRejected, UidMapper
from tests.exams import malformed_dicom as malformed

EXAMPLES = int(os.environ.get("PMHA_FUZZ_EXAMPLES", "0")) or 60
SEEDS = malformed.seeds()
LENGTHS = [0, 1, 2, 3, 4, 7, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFE, 0xFFFFFFFF]
MAPPER = UidMapper(b"fuzzing-the-dicom-reader")

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="PMHA_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _position(draw: st.DrawFn, data: bytes) -> int:
    # Headers are where parsers break: aim at the first 1.5 KB most of the time.
    near = st.integers(0, min(len(data) - 1, 1536))
    return draw(st.one_of(near, near, st.integers(0, len(data) - 1)))


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "length16", "length32", "insert", "delete"]))
        at = _position(draw, bytes(data))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            data = data[: max(at, 132)]
        elif kind in ("length16", "length32"):
            value = draw(st.sampled_from(LENGTHS))
            packed = (
                struct.pack("<H", value & 0xFFFF)
                if kind == "length16"
                else struct.pack("<I", value)
            )
            data[at : at + len(packed)] = packed
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at : at + draw(st.integers(1, 64))]
        if len(data) < 2:
            break
    return bytes(data)


def _named(error: DicomRejected) -> None:
    assert error.code.startswith("exams.dicom.")
    assert error.code != "exams.dicom.unreadable", error.detail
    assert error.status in (413, 422)


def run_pipeline(data: bytes) -> str:
    """The upload's steps; 'accepted' or the refusal's code. Any other exception fails."""
    try:
        dicom.inspect(data)
    except DicomRejected as error:
        _named(error)
        return error.code
    for step in (
        dicom.render_previews,
        lambda d: dicom.deidentify(d, MAPPER),
        xray_pixels.full_image,
    ):
        try:
            step(data)
        except DicomRejected as error:
            # The viewer refuses colour and deep images by design; the rest are accepted files.
            if error.code not in ("exams.dicom.not_greyscale", "exams.dicom.not_16_bit"):
                _named(error)
    return "accepted"


def test_the_seeds_are_accepted():
    assert [run_pipeline(seed) for seed in SEEDS] == ["accepted"] * len(SEEDS)


@FUZZ
@given(mutants())
def test_mutated_files_are_accepted_or_refused_by_name(data):
    run_pipeline(data)


@FUZZ
@given(st.binary(min_size=0, max_size=600))
def test_random_bytes_after_a_part_10_header_are_refused_by_name(tail):
    run_pipeline(b"\0" * 128 + b"DICM" + tail)
