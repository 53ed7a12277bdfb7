"""Issue 19: stored files encrypted at rest with keys from the environment, rotatable.

Where the keys come from (PMHA_FILE_KEYS; required in production, made under VAR_DIR for the
embedded default), that nothing is written in the clear outside a storage with a key, that a
file moved into another folder no longer opens, and `pmha files new-key` / `pmha files rotate`
(NIST SP 800-57 Part 1 §5.3: a key's use is limited in time; old keys kept only to decrypt)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmha.cli import main
from pmha.config import Config, ConfigError
from pmha.core import file_crypto

DATA = b"DICM synthetic chest X-ray of a test person " * 50


def _production(**overrides: str) -> Config:
    settings = {
        "ENV": "production",
        "DATABASE_URL": "postgresql+psycopg://pmha@db/pmha",
        "BROKER_URL": "redis://127.0.0.1:6379/0",
        "SECRET_KEY": "s" * 40,
        "AUDIT_KEY": "a" * 40,
        "STORAGE_DIR": "/srv/pmha/storage",
    } | overrides
    return Config(**settings)  # type: ignore[arg-type]


def test_production_needs_file_keys_and_refuses_malformed_ones() -> None:
    with pytest.raises(ConfigError, match="PMHA_FILE_KEYS"):
        _production().finish()
    with pytest.raises(ConfigError, match="PMHA_FILE_KEYS: file key k1 must be 32 bytes"):
        _production(FILE_KEYS="k1:c2hvcnQ=").finish()
    with pytest.raises(ConfigError, match="PMHA_FILE_KEYS: each file key is 'id:base64key'"):
        _production(FILE_KEYS="no-colon-here").finish()
    _production(FILE_KEYS=file_crypto.new_key_text("p1")).finish()


def test_the_embedded_default_makes_a_key_under_var_and_keeps_it(tmp_path: Path) -> None:
    first = Config(ENV="development", VAR_DIR=str(tmp_path))
    first.finish()
    again = Config(ENV="development", VAR_DIR=str(tmp_path))
    again.finish()
    assert first.FILE_KEYS == again.FILE_KEYS and first.FILE_KEYS.startswith("dev1:")
    assert (tmp_path / "file_keys").stat().st_mode & 0o077 == 0


def test_nothing_is_written_in_the_clear_outside_a_storage_with_a_key() -> None:
    outside = Path("/nonexistent-pmha-storage") / "dicom" / "f.dcm"
    with pytest.raises(file_crypto.FileKeyError, match="no file key is configured"):
        file_crypto.write(outside, DATA)
    assert not outside.exists()


def test_a_file_moved_into_another_folder_does_not_open(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    file_crypto.register(storage, file_crypto.FileCipher.from_text(file_crypto.new_key_text("m")))
    x_ray = storage / "dicom" / "ab" / "cd" / "f.dcm"
    file_crypto.write(x_ray, DATA)
    assert file_crypto.read(x_ray) == DATA
    moved = storage / "attachments" / "ab" / "cd" / "f"
    moved.parent.mkdir(parents=True)
    x_ray.rename(moved)
    with pytest.raises(file_crypto.FileKeyError, match="damaged or is not the file it claims"):
        file_crypto.read(moved)
    with pytest.raises(file_crypto.FileKeyError, match="not a folder of stored files"):
        file_crypto.write(storage / "elsewhere" / "f", DATA)


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keys: str) -> Path:
    storage = tmp_path / "storage"
    monkeypatch.setenv("PMHA_ENV", "test")
    monkeypatch.setenv("PMHA_DATABASE_URL", f"sqlite:///{tmp_path / 'pmha.db'}")
    monkeypatch.setenv("PMHA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PMHA_STORAGE_DIR", str(storage))
    monkeypatch.setenv("PMHA_SECRET_KEY", secrets.token_urlsafe(32))
    monkeypatch.setenv("PMHA_AUDIT_KEY", "files-test-audit-key-" + "x" * 20)
    monkeypatch.setenv("PMHA_FILE_KEYS", keys)
    return storage


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_rotate_re_encrypts_every_file_so_the_old_key_can_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = file_crypto.new_key_text("old1")
    storage = _env(monkeypatch, tmp_path, old)
    assert _run("db", "upgrade").exit_code == 0
    file_crypto.register(storage, file_crypto.FileCipher.from_text(old))
    stored = {
        storage / "dicom" / "ab" / "cd" / "x.dcm": DATA,
        storage / "exports" / "b.p7m": b"bundle " * 40,
    }
    for path, data in stored.items():
        file_crypto.write(path, data)
    legacy = storage / "attachments" / "12" / "34" / "a"  # stored before encryption at rest
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"%PDF-1.4 consent form")
    stored[legacy] = b"%PDF-1.4 consent form"
    (storage / "keys").mkdir()
    (storage / "keys" / "certificate.pem").write_bytes(b"not a stored file of a person")

    new = _run("files", "new-key", "new1")
    assert new.exit_code == 0 and new.output.startswith("new1:")
    monkeypatch.setenv("PMHA_FILE_KEYS", new.output.strip() + "," + old)
    done = _run("files", "rotate")
    assert done.exit_code == 0, done.output
    assert "3 file(s) re-encrypted under the current key; 0 already were" in done.output
    again = _run("files", "rotate").output  # nothing left to do
    assert "0 file(s) re-encrypted under the current key; 3 already were" in again
    assert (storage / "keys" / "certificate.pem").read_bytes() == b"not a stored file of a person"

    only_new = file_crypto.FileCipher.from_text(new.output.strip())
    file_crypto.register(storage, only_new)
    for path, data in stored.items():
        assert file_crypto.key_id_of(path) == "new1"
        assert file_crypto.read(path) == data and data not in path.read_bytes()


def test_rotate_names_a_key_that_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = file_crypto.new_key_text("gone")
    storage = _env(monkeypatch, tmp_path, gone)
    assert _run("db", "upgrade").exit_code == 0
    file_crypto.register(storage, file_crypto.FileCipher.from_text(gone))
    file_crypto.write(storage / "dicom" / "f.dcm", DATA)
    monkeypatch.setenv("PMHA_FILE_KEYS", file_crypto.new_key_text("next"))
    done = _run("files", "rotate")
    assert done.exit_code == 1
    assert "encrypted with a key that is not configured" in done.output
    assert "PMHA_FILE_KEYS" in done.output
