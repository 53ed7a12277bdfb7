"""Backup and restore (issue 19, "a backup and restore command that round-trips database and
storage, tested"): `pmha backup create` / `pmha backup restore` on the suite's engine (SQLite, or
PostgreSQL with PMHA_TEST_DATABASE_URL). Synthetic data, made through the services; the audit
chain must verify after the restore (`pmha audit verify`)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pmha.app import create_app
from pmha.audit import service as audit_service
from pmha.cli import main
from pmha.config import Config
from pmha.core import backup, file_crypto, migrate
from pmha.core.db import database, make_engine
from tests import factories

FILE_KEYS = file_crypto.new_key_text("bk1")
PLAIN = b"DICM synthetic image of a test person"
AUDIT_KEY = "backup-test-audit-key-" + "x" * 20


@pytest.fixture()
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """New empty databases of the suite's engine, dropped afterwards."""
    made: list[str] = []

    def make(label: str) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / (label + '.db')}"
        name = f"pmha_backup_{label}_{uuid.uuid4().hex[:8]}"
        admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        made.append(name)
        return make_url(database_url).set(database=name).render_as_string(hide_password=False)

    yield make
    if made:
        admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _env(monkeypatch: pytest.MonkeyPatch, url: str, var: Path) -> None:
    monkeypatch.setenv("PMHA_ENV", "test")
    monkeypatch.setenv("PMHA_DATABASE_URL", url)
    monkeypatch.setenv("PMHA_VAR_DIR", str(var))
    monkeypatch.setenv("PMHA_STORAGE_DIR", str(var / "storage"))
    monkeypatch.setenv("PMHA_AUDIT_KEY", AUDIT_KEY)
    monkeypatch.setenv("PMHA_SECRET_KEY", "backup-test-secret-key-" + "y" * 20)
    monkeypatch.setenv("PMHA_FILE_KEYS", FILE_KEYS)


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _seed(url: str, var: Path) -> None:
    """A small centre: users and tokens, three families, stored files of every kind, and a
    checkpoint of the audit chain in storage."""
    config = Config(
        ENV="test",
        DATABASE_URL=url,
        VAR_DIR=str(var),
        TESTING=True,
        SECRET_KEY=secrets.token_urlsafe(32),
        AUDIT_KEY=AUDIT_KEY,
        FILE_KEYS=FILE_KEYS,
        THROTTLE_PER_CLIENT="",
        THROTTLE_PER_ACCOUNT="",
    )
    config.finish()
    app = create_app(config)
    db = database(app)
    with db.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    storage = var / "storage"
    with db.transaction() as session:
        world = factories.build_world(session)
        for name, born in (
            ("Haddad", "1985-03-14"),
            ("Nasser", "1990-07-01"),
            ("Karimi", "1979-11-30"),
        ):
            factories.make_case(
                session,
                world.actor("operations"),
                principal=factories.applicant_data(family_name=name, given_names="Test", dob=born),
            )
    for rel, size in (
        ("dicom/ab/cd/abcdef.dcm", 70_000),
        ("attachments/12/34/1234", 5_000),
        ("exports/b1.p7m", 9_000),
    ):  # people's files, encrypted at rest under the installation's file key (issue 19)
        file_crypto.write(storage / rel, PLAIN + secrets.token_bytes(size))
    retired = storage / "keys/retired/old.pem"
    retired.parent.mkdir(parents=True, exist_ok=True)
    retired.write_bytes(secrets.token_bytes(300))
    with db.transaction() as session:
        assert audit_service.verify_and_checkpoint(session, storage).ok
    db.engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return backup.table_counts(conn)
    finally:
        engine.dispose()


def _files(storage: Path) -> dict[str, str]:
    return {
        p.relative_to(storage).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(storage.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def made(
    fresh_url: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    url, var = fresh_url("src"), tmp_path / "src"
    _seed(url, var)
    _env(monkeypatch, url, var)
    out = tmp_path / "out"
    out.mkdir()
    done = _run("backup", "create", str(out))
    assert done.exit_code == 0, done.output
    (archive,) = out.iterdir()
    return {
        "url": url,
        "var": var,
        "archive": archive,
        "counts": _counts(url),
        "files": _files(var / "storage"),
    }


def test_round_trip_into_an_empty_installation(
    made: dict[str, Any], fresh_url: Callable[[str], str], tmp_path: Path, monkeypatch: Any
) -> None:
    archive: Path = made["archive"]
    # Named by time only, private to its owner, nothing identifying in it.
    assert re.fullmatch(r"pmha-backup-\d{8}T\d{6}Z\.tar\.gz", archive.name)
    assert archive.stat().st_mode & 0o077 == 0
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["migration_head"] == backup.code_head()
    assert manifest["counts"]["applicants"] == 3
    assert {"storage/dicom/ab/cd/abcdef.dcm", "storage/audit/checkpoints.jsonl"} <= set(
        manifest["files"]
    )
    # The wiped installation: a new empty database and no storage.
    url, var = fresh_url("dst"), tmp_path / "dst"
    _env(monkeypatch, url, var)
    done = _run("backup", "restore", str(archive))
    assert done.exit_code == 0, done.output
    assert "counts and digests match the manifest" in done.output
    assert "audit chain intact" in done.output
    restored = _counts(url)
    # The restore itself is one more audit event; everything else is as backed up.
    assert restored["audit_events"] == made["counts"]["audit_events"] + 1
    assert {k: v for k, v in restored.items() if not k.startswith("audit")} == {
        k: v for k, v in made["counts"].items() if not k.startswith("audit")
    }
    files = _files(var / "storage")
    for rel, digest in made["files"].items():
        if rel != "audit/checkpoints.jsonl":
            assert files[rel] == digest, rel
    # the restored files open with the same file keys, and stayed encrypted all the way
    x_ray = var / "storage" / "dicom/ab/cd/abcdef.dcm"
    assert file_crypto.read(x_ray).startswith(PLAIN) and PLAIN not in x_ray.read_bytes()
    with tarfile.open(archive) as tar:
        member = tar.extractfile("storage/dicom/ab/cd/abcdef.dcm")
        assert member is not None and PLAIN not in member.read()
    verify = _run("audit", "verify")
    assert verify.exit_code == 0, verify.output
    assert "audit chain intact" in verify.output


def test_refuses_an_installation_in_use_unless_forced(made: dict[str, Any], tmp_path: Path) -> None:
    # The source installation itself holds data.
    done = _run("backup", "restore", str(made["archive"]))
    assert done.exit_code == 1
    assert "already hold data" in done.output and "--force" in done.output
    forced = _run("backup", "restore", "--force", str(made["archive"]))
    assert forced.exit_code == 0, forced.output
    assert "moved to" in forced.output
    assert list(tmp_path.glob("src/storage.before-restore-*"))
    assert _run("audit", "verify").exit_code == 0


def _repack(
    archive: Path, target: Path, edit: Callable[[dict[str, Any], dict[str, bytes]], None]
) -> None:
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    manifest = json.loads(members.pop("manifest.json"))
    edit(manifest, members)
    with tarfile.open(target, "w:gz") as tar:
        for name, data in [("manifest.json", json.dumps(manifest).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _resign(manifest: dict[str, Any]) -> None:
    manifest["mac"] = backup._mac(AUDIT_KEY.encode(), manifest)


def _swap_file(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    members["storage/dicom/ab/cd/abcdef.dcm"] = b"not the X-ray"


def _more_rows(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    manifest["counts"]["applicants"] += 1


def _extra_file(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    members["storage/planted.txt"] = b"x"


def _lost_file(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    del members["storage/exports/b1.p7m"]


def _newer_schema(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    manifest["migration_head"] = "9999"
    _resign(manifest)


def _other_engine(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    manifest["engine"] = "postgresql" if manifest["engine"] == "sqlite" else "sqlite"
    _resign(manifest)


def _escape(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    members["../outside.txt"] = b"x"


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (_swap_file, "abcdef.dcm in the archive is damaged"),
        (_more_rows, "not signed with this installation's audit key"),
        (_extra_file, "does not list: storage/planted.txt"),
        (_lost_file, "lacks 1 file(s) its manifest lists: storage/exports/b1.p7m"),
        (_newer_schema, "newer than this version of PMHA knows"),
        (_other_engine, "restore it where the engine matches"),
        (_escape, "outside its own folders"),
    ],
)
def test_refuses_a_damaged_or_mismatched_archive_before_touching_anything(
    made: dict[str, Any],
    fresh_url: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: Any,
    edit: Callable[[dict[str, Any], dict[str, bytes]], None],
    words: str,
) -> None:
    bad = tmp_path / "bad.tar.gz"
    _repack(made["archive"], bad, edit)
    url, var = fresh_url("dst"), tmp_path / "dst"
    _env(monkeypatch, url, var)
    done = _run("backup", "restore", str(bad))
    assert done.exit_code == 1
    assert words in done.output
    assert not (var / "storage").exists() or not any((var / "storage").iterdir())
    engine = make_engine(url)
    with engine.connect() as conn:
        assert not backup.database_in_use(conn)
    engine.dispose()


def test_refuses_a_truncated_or_foreign_file_and_another_audit_key(
    made: dict[str, Any], fresh_url: Callable[[str], str], tmp_path: Path, monkeypatch: Any
) -> None:
    url, var = fresh_url("dst"), tmp_path / "dst"
    _env(monkeypatch, url, var)
    data = made["archive"].read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    done = _run("backup", "restore", str(cut))
    assert done.exit_code == 1 and "is damaged or is not a PMHA backup" in done.output
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF
    bent = tmp_path / "bent.tar.gz"
    bent.write_bytes(bytes(flipped))
    done = _run("backup", "restore", str(bent))
    assert done.exit_code == 1 and "damaged" in done.output
    text_file = tmp_path / "notes.tar.gz"
    text_file.write_text("hello")
    done = _run("backup", "restore", str(text_file))
    assert done.exit_code == 1 and "is damaged or is not a PMHA backup" in done.output
    monkeypatch.setenv("PMHA_AUDIT_KEY", "another-installation-key-" + "z" * 20)
    done = _run("backup", "restore", str(made["archive"]))
    assert done.exit_code == 1 and "another PMHA_AUDIT_KEY" in done.output


def test_refuses_an_installation_without_the_file_keys_before_touching_anything(
    made: dict[str, Any], fresh_url: Callable[[str], str], tmp_path: Path, monkeypatch: Any
) -> None:
    """The archive does not hold the file keys: restoring where they are not configured would
    bring back files nobody can open; it is refused in words, naming the key id only."""
    url, var = fresh_url("dst"), tmp_path / "dst"
    _env(monkeypatch, url, var)
    monkeypatch.setenv("PMHA_FILE_KEYS", file_crypto.new_key_text("other"))
    done = _run("backup", "restore", str(made["archive"]))
    assert done.exit_code == 1
    assert "encrypted with file key(s) bk1" in done.output and "PMHA_FILE_KEYS" in done.output
    assert not (var / "storage").exists() or _files(var / "storage") == {}
    assert _counts(url).get("applicants", 0) == 0


def test_an_existing_archive_is_not_overwritten(made: dict[str, Any]) -> None:
    done = _run("backup", "create", str(made["archive"]))
    assert done.exit_code == 1 and "exists already" in done.output
