"""Fuzzing the bundle reader's unpacking and manifest checks (issue 19: "a fuzz test over ... the
manifest parser ... 0 unhandled exceptions"). `receive.unpack` and `receive.check_manifest` are
called directly (no signature, no database) on:
- manifests whose fields hold any JSON (the bundle format: docs/bundles, manifest schema "1");
- valid bundle zips mutated byte by byte (PKWARE APPNOTE 6.3: local headers, central directory).
Each either passes or is refused with ImportRefused (a named 422), nothing else.

The crashes it found (a bundle_id that is not a string, zipfile's and zlib's own errors, a
manifest nested 100,000 deep, "classifications": 5) are tests of their own at the end of the file.

`make test` runs 60 examples (derandomized); PMHA_FUZZ_EXAMPLES sets more (.ci/run).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import uuid
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmha.exports import receive
from pmha.exports.build import SCHEMA_VERSION

EXAMPLES = int(os.environ.get("PMHA_FUZZ_EXAMPLES", "0")) or 60
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="PMHA_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CONTENT = {
    "fhir/t1.json": b'{"resourceType": "Bundle", "type": "document", "entry": []}',
    "handover/t1.json": b'{"note": "synthetic"}',
    "pdf/t1.pdf": b"%PDF-1.7\n% synthetic\n",
}
KEYS = ["schema_version", "bundle_id", "files", "case", "travellers", "sending_site", "path"]


def manifest_for(files: dict[str, bytes], /, **changes: object) -> dict[str, object]:
    manifest: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "bundle_id": str(uuid.UUID(int=7)),
        "files": [
            {"path": name, "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        ],
        "case": {"case_number": "SYN-1"},
        "sending_site": {"code": "IST", "name": "Synthetic centre"},
        "travellers": [{"fhir": "fhir/t1.json", "clearance": "cleared", "classifications": []}],
    }
    manifest.update(changes)
    return manifest


def zipped(files: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compress) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def valid_files() -> dict[str, bytes]:
    return {**CONTENT, "manifest.json": json.dumps(manifest_for(CONTENT)).encode()}


def read(files: dict[str, bytes]) -> str:
    try:
        receive.check_manifest(files)
    except receive.ImportRefused as error:
        assert error.code.startswith("exports.") and error.status == 422
        return error.code
    return "accepted"


def read_archive(archive: bytes) -> str:
    try:
        files = receive.unpack(archive)
    except receive.ImportRefused as error:
        assert error.code.startswith("exports.") and error.status == 422
        return error.code
    return read(files)


def test_the_valid_bundle_is_accepted():
    assert read_archive(zipped(valid_files())) == "accepted"
    assert read_archive(zipped(valid_files(), zipfile.ZIP_STORED)) == "accepted"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["fhir/t1.json", "../x", "manifest.json", SCHEMA_VERSION]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4))
def test_manifest_fields_holding_any_json_are_accepted_or_refused(changes):
    manifest = manifest_for(CONTENT, **changes)
    read({**CONTENT, "manifest.json": json.dumps(manifest).encode()})


@FUZZ
@given(json_values)
def test_a_manifest_that_is_any_json_is_refused_by_name(document):
    read({**CONTENT, "manifest.json": json.dumps(document).encode()})


@FUZZ
@given(st.binary(max_size=300))
def test_a_manifest_of_any_bytes_is_refused_by_name(raw):
    read({**CONTENT, "manifest.json": raw})


@st.composite
def mutated_archives(draw: st.DrawFn) -> bytes:
    stored = draw(st.booleans())
    data = bytearray(zipped(valid_files(), zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "cut", "size", "insert", "delete"]))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            data = data[:at]
        elif kind == "size":
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, len(data)]))
            data[at : at + 4] = struct.pack("<I", value)
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at : at + draw(st.integers(1, 32))]
        if not data:
            break
    return bytes(data)


@FUZZ
@given(mutated_archives())
def test_mutated_archives_are_accepted_or_refused_by_name(archive):
    read_archive(archive)


# ---------------------------------------------------------------------------------------------
# Crashes the fuzzing found in receive.py (issue 19), fixed: each refused by name now


def test_a_deeply_nested_manifest_is_refused_by_name():
    assert read({**CONTENT, "manifest.json": b"[" * 100_000 + b"]" * 100_000}) != "accepted"


def _patched(archive: bytes, at: int, value: int) -> bytes:
    data = bytearray(archive)
    data[at : at + 4] = struct.pack("<I", value)
    return bytes(data)


def _central(archive: bytes) -> int:
    return archive.index(b"PK\x01\x02")  # the first central directory header (APPNOTE 4.3.12)


@pytest.mark.parametrize("bundle_id", [[], 5, 1.5, True, {"a": 1}])
def test_a_bundle_id_that_is_not_a_string_is_refused_by_name(bundle_id):
    manifest = manifest_for(CONTENT, bundle_id=bundle_id)
    files = {**CONTENT, "manifest.json": json.dumps(manifest).encode()}
    with pytest.raises(receive.ImportRefused):
        receive.check_manifest(files)


def _flipped(archive: bytes, at: int) -> bytes:
    data = bytearray(archive)
    data[at] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda z: _patched(z, _central(z) + 6, 0x7FFFFFFF), id="version_needed"),
        pytest.param(lambda z: _patched(z, _central(z) + 8, 0x1), id="encrypted_flag"),
        pytest.param(lambda z: _patched(z, len(z) - 6, 0xFFFF), id="central_directory_offset"),
    ],
)
def test_a_damaged_zip_is_refused_by_name(damage):
    archive = zipped(valid_files(), zipfile.ZIP_STORED)
    with pytest.raises(receive.ImportRefused):
        receive.unpack(damage(archive))


def test_a_damaged_deflate_stream_is_refused_by_name():
    archive = zipped(valid_files(), zipfile.ZIP_DEFLATED)
    with pytest.raises(receive.ImportRefused):
        receive.unpack(_flipped(archive, 28))


SUMMARY = {
    "resourceType": "Bundle",
    "type": "document",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "name": [{"family": "SYNTHETIC", "given": ["TEST"]}],
                "birthDate": "1985-03-14",
            }
        }
    ],
}


def test_a_traveller_whose_classifications_are_not_a_list_is_refused_by_name(
    session, world, tmp_path, monkeypatch
):
    """The signature and envelope are not the point here: open_bundle is replaced by what it
    returns for a verified bundle carrying this manifest."""
    import datetime as dt

    files = {"fhir/t1.json": json.dumps(SUMMARY).encode()}
    manifest = manifest_for(
        files,
        bundle_id=str(uuid.uuid4()),
        travellers=[{"fhir": "fhir/t1.json", "clearance": "cleared", "classifications": 5}],
    )
    opened = receive.Opened(manifest, files, "0" * 64, dt.datetime.now(dt.UTC))
    monkeypatch.setattr(receive, "open_bundle", lambda *args: opened)
    with pytest.raises(receive.ImportRefused):
        receive.import_bundle(session, world.actor("receiving_authority"), b"x", tmp_path)
