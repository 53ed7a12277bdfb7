"""Issue 19: stored files encrypted at rest (AES-256-GCM, NIST SP 800-38D), keys rotatable.

The file format, the purpose bound to the file (a bundle cannot be read as an X-ray), rotation
under a new key with the old one kept until every file is re-encrypted, and clear refusals for
a missing key, a damaged file or malformed key configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmha.core.file_crypto import (
    MAGIC,
    FileCipher,
    FileKeyError,
    new_key_text,
    parse_keys,
    rotate_file,
)

DATA = b"DICM synthetic pixels " * 100


def test_a_sealed_file_opens_only_with_its_key_and_purpose() -> None:
    cipher = FileCipher.from_text(new_key_text("k1"))
    blob = cipher.seal(DATA, "xray")
    assert blob.startswith(MAGIC) and DATA not in blob
    assert cipher.open(blob, "xray") == DATA
    with pytest.raises(FileKeyError, match="damaged or is not the file it claims"):
        cipher.open(blob, "bundle")
    flipped = bytearray(blob)
    flipped[-1] ^= 1
    with pytest.raises(FileKeyError, match="damaged"):
        cipher.open(bytes(flipped), "xray")
    with pytest.raises(FileKeyError, match="truncated"):
        cipher.open(blob[:30], "xray")


def test_a_file_from_before_encryption_is_read_as_it_is() -> None:
    assert FileCipher.from_text(new_key_text("k1")).open(DATA, "xray") == DATA


def test_rotation_re_encrypts_under_the_new_key_and_old_files_keep_opening(tmp_path: Path) -> None:
    old_text = new_key_text("k1")
    old = FileCipher.from_text(old_text)
    path = tmp_path / "file"
    path.write_bytes(old.seal(DATA, "attachment"))
    rotated = FileCipher.from_text(new_key_text("k2") + "," + old_text)
    assert rotated.current == "k2"
    assert rotated.read(path, "attachment") == DATA  # before rotation, with the old key
    assert rotate_file(rotated, path, "attachment") is True
    assert rotate_file(rotated, path, "attachment") is False
    assert rotated.is_current(path.read_bytes())
    with pytest.raises(FileKeyError, match="not configured"):
        old.read(path, "attachment")
    plain = tmp_path / "plain"
    plain.write_bytes(DATA)
    assert rotate_file(rotated, plain, "attachment") is True
    assert rotated.read(plain, "attachment") == DATA and DATA not in plain.read_bytes()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no file key"),
        ("k1", "'id:base64key'"),
        ("toolongid9:AAAA", "'id:base64key'"),
        ("k1:not base64!", "not base64"),
        ("k1:QUJD", "32 bytes"),
    ],
)
def test_bad_key_configuration_is_refused_in_words(text: str, words: str) -> None:
    with pytest.raises(FileKeyError, match=words):
        parse_keys(text)
