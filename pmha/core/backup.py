"""Backup and restore: the database and the storage directory in one archive, with a manifest.

One gzip'd tar holds `manifest.json`, the database (`database.sqlite`, a copy made with SQLite's
online backup API; or `database.pgdump`, `pg_dump --format=custom` of the configured database)
and every file under STORAGE_DIR as `storage/<path>` (X-rays, attachments, bundles, the audit
checkpoints, keys made in development). The manifest gives the versions, the migration head, the
row count of every table, and the SHA-256 and size of every file; it is signed (HMAC-SHA256) with
the audit key, which the archive does not hold.

Restore checks everything before it touches anything: an archive that does not open, a file
whose digest differs, a file missing or not listed, a manifest not signed with this
installation's audit key, another engine, or a schema newer than this code, is refused in words.
It refuses a database that is in use (it has users or audit events) or a storage directory with
files, unless `force`; the storage found is then moved aside, not deleted. After restoring, the
row counts must equal the manifest's and the audit chain must verify against its checkpoints.

The database and the files are read from one point in time as far as the engine allows: on
PostgreSQL the counts and pg_dump share one exported snapshot; the checkpoint file is cut to the
checkpoints of the chain as dumped, so a checkpoint written while the archive was made does not
make the restored chain look cut. Files are only ever added under storage (content-addressed), so
files newer than the dump are harmless extras.

The archive is named by time only (`pmha-backup-20261207T014700Z.tar.gz`), written 0600. The
stored files in it stay encrypted at rest (pmha.core.file_crypto) under PMHA_FILE_KEYS, which the
archive does not hold: a restore needs the same keys, and is refused in words before it touches
anything when a file's key is not configured. The database dump is not encrypted: keep the
archive as the database itself is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, literal, select, table, text
from sqlalchemy.engine import URL, make_url

from pmha.core import file_crypto

FORMAT = "pmha-backup/1"
MANIFEST = "manifest.json"
CHECKPOINTS = PurePosixPath("audit/checkpoints.jsonl")
_CHUNK = 1 << 20


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why in the operator's words."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    counts: dict[str, int]
    files: int
    moved_aside: Path | None = None
    upgraded_from: str | None = None
    notes: list[str] = field(default_factory=list)


# -- helpers --------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _mac(key: bytes, manifest: dict[str, Any]) -> str:
    return hmac.new(key, b"pmha-backup|" + _canonical(manifest), hashlib.sha256).hexdigest()


def engine_name(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups know SQLite and PostgreSQL, not {name}")
    return name


def _pmha_version() -> str:
    try:
        return metadata.version("pmha")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"


def code_head() -> str:
    from alembic.script import ScriptDirectory

    from pmha.core.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return str(heads[0])


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from pmha.core.migrate import alembic_config

    return {
        str(rev.revision) for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in every table of the schema (alembic's own included)."""
    counts: dict[str, int] = {}
    for name in sorted(inspect(conn).get_table_names()):
        counts[name] = int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
    return counts


def _migration_head(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def _audit_head_seq(conn: Connection) -> int:
    if "audit_head" not in inspect(conn).get_table_names():
        return 0
    value = conn.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar()
    return int(value or 0)


def _pg_env(url: URL) -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore: nothing (no password) on the command line."""
    env = dict(os.environ)
    pairs = {
        "PGHOST": url.host or url.query.get("host"),
        "PGPORT": str(url.port) if url.port else url.query.get("port"),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": url.query.get("sslmode"),
    }
    for name, value in pairs.items():
        if isinstance(value, tuple):
            value = value[0]
        if value:
            env[name] = str(value)
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        # pg_dump/pg_restore by name with fixed options; the database's name comes from config.
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(
            f"{args[0]} is not installed (Debian: postgresql-client; "
            "scripts/install-system-deps.sh installs it)"
        ) from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupError(f"{what} failed: {' / '.join(tail) or 'exit ' + str(done.returncode)}")


def _storage_files(storage: Path) -> Iterator[tuple[PurePosixPath, Path]]:
    if not storage.is_dir():
        return
    for root, dirs, files in os.walk(storage):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            yield PurePosixPath(path.relative_to(storage).as_posix()), path


def _cut_checkpoints(source: Path, target: Path, head_seq: int) -> None:
    """The checkpoint file as of the dump: its lines for events the dump holds."""
    kept: list[str] = []
    for line in source.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            seq = int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            kept.append(line)  # damaged lines stay: they are evidence, verify names them
            continue
        if seq <= head_seq:
            kept.append(line)
    target.write_text("".join(item + "\n" for item in kept), encoding="utf-8")


# -- create ---------------------------------------------------------------------------------


@contextmanager
def _database_copy(engine: Engine, url: str, work: Path) -> Iterator[tuple[Path, Connection]]:
    """A copy of the database in `work` and a connection seeing the same point in time."""
    if engine_name(url) == "sqlite":
        source = make_url(url).database
        if not source or source == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        target = work / "database.sqlite"
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        from pmha.core.db import make_engine

        copy = make_engine(f"sqlite:///{target}")
        try:
            with copy.connect() as conn:
                yield target, conn
        finally:
            copy.dispose()
        return
    target = work / "database.pgdump"
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                ],
                _pg_env(make_url(url)),
                "pg_dump",
            )
            yield target, conn


def archive_path(destination: Path, now: datetime) -> Path:
    """The archive's file: `destination`, or a name by time in it when it is a folder."""
    if destination.is_dir():
        destination = destination / f"pmha-backup-{now:%Y%m%dT%H%M%SZ}.tar.gz"
    if destination.exists():
        raise BackupError(f"{destination} exists already: give a new name or a folder")
    if not destination.parent.is_dir():
        raise BackupError(f"the folder {destination.parent} does not exist")
    return destination


def create(
    engine: Engine,
    url: str,
    storage: Path,
    destination: Path,
    audit_key: bytes,
) -> BackupResult:
    """Write one archive of the database and storage; `destination` is a file or a folder."""
    engine_kind = engine_name(url)
    now = datetime.now(UTC)
    destination = archive_path(destination, now)
    with tempfile.TemporaryDirectory(prefix="pmha-backup-") as tmp:
        work = Path(tmp)
        with _database_copy(engine, url, work) as (db_file, conn):
            counts = table_counts(conn)
            head = _migration_head(conn)
            head_seq = _audit_head_seq(conn)
        if head is None:
            raise BackupError("the database has no schema (run `pmha db upgrade` first)")
        members: list[tuple[str, Path]] = [(db_file.name, db_file)]
        for rel, path in _storage_files(storage):
            if rel == CHECKPOINTS:
                cut = work / "checkpoints.jsonl"
                _cut_checkpoints(path, cut, head_seq)
                path = cut
            members.append((f"storage/{rel}", path))
        files = {
            name: {"sha256": _sha256_file(path), "size": path.stat().st_size}
            for name, path in members
        }
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "pmha_version": _pmha_version(),
            "engine": engine_kind,
            "migration_head": head,
            "audit_events": head_seq,
            "counts": counts,
            "files": files,
        }
        manifest["mac"] = _mac(audit_key, manifest)
        partial = destination.with_name(destination.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                import io

                tar.addfile(info, io.BytesIO(data))
                for name, path in members:
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode = (
                        path.stat().st_size,
                        int(now.timestamp()),
                        0o600,
                    )
                    with path.open("rb") as fh:
                        tar.addfile(info, fh)
            os.replace(partial, destination)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(destination, manifest)


# -- restore --------------------------------------------------------------------------------


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"the archive holds a file outside its own folders ({name!r}): refused")
    return path


def read_archive(archive: Path, into: Path, audit_key: bytes) -> dict[str, Any]:
    """Unpack into `into` and check everything against the signed manifest; return it."""
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            manifest: dict[str, Any] | None = None
            seen: dict[str, str] = {}
            for member in tar:
                name = str(_safe_name(member.name))
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"the archive holds a link or device ({name}): refused")
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - isfile() members always have data
                    raise BackupError(f"{name} cannot be read from the archive")
                if name == MANIFEST:
                    try:
                        manifest = json.loads(source.read(4 * _CHUNK))
                    except ValueError as exc:
                        raise BackupError("the archive's manifest is not valid JSON") from exc
                    continue
                if name in seen:
                    raise BackupError(f"the archive holds {name} twice: refused")
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with target.open("wb") as out:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                seen[name] = digest.hexdigest()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(
            f"{archive.name} is damaged or is not a PMHA backup ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive.name} is not a PMHA backup (no {FORMAT} manifest)")
    if not hmac.compare_digest(str(manifest.get("mac", "")), _mac(audit_key, manifest)):
        raise BackupError(
            "the archive's manifest is not signed with this installation's audit key: it was "
            "altered, or made by an installation with another PMHA_AUDIT_KEY (the restored "
            "audit trail would not verify)"
        )
    files: dict[str, Any] = manifest.get("files") or {}
    missing = sorted(set(files) - set(seen))
    extra = sorted(set(seen) - set(files))
    if missing:
        raise BackupError(
            f"the archive is damaged or incomplete: it lacks {len(missing)} file(s) its "
            f"manifest lists: {missing[0]}"
        )
    if extra:
        raise BackupError(
            f"the archive holds {len(extra)} file(s) its manifest does not list: {extra[0]}"
        )
    for name, expected in files.items():
        if seen[name] != expected.get("sha256"):
            raise BackupError(
                f"{name} in the archive is damaged (its SHA-256 differs from the manifest's)"
            )
    return manifest


def database_in_use(conn: Connection) -> bool:
    """A database someone has used: it has users or audit events (an empty schema has neither)."""
    names = set(inspect(conn).get_table_names())
    for name in ("users", "audit_events"):
        if name in names and conn.execute(select(literal(1)).select_from(table(name))).first():
            return True
    return False


def restore(
    engine: Engine,
    url: str,
    storage: Path,
    archive: Path,
    audit_key: bytes,
    *,
    force: bool = False,
) -> RestoreResult:
    """Check the archive, then put its database and storage in place of the configured ones."""
    engine_kind = engine_name(url)
    storage.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pmha-restore-", dir=storage.parent))
    try:
        manifest = read_archive(archive, staging, audit_key)
        if manifest.get("engine") != engine_kind:
            raise BackupError(
                f"the archive holds a {manifest.get('engine')} database and this installation "
                f"runs {engine_kind} (PMHA_DATABASE_URL): restore it where the engine matches"
            )
        head = str(manifest.get("migration_head"))
        if head not in _known_revisions():
            raise BackupError(
                f"the archive's schema ({head}) is newer than this version of PMHA knows "
                f"(latest {code_head()}): restore it with the version that made it "
                f"({manifest.get('pmha_version')})"
            )
        lacking = file_crypto.lacking_keys(staging / "storage", storage)
        if lacking:
            raise BackupError(
                f"the archive's stored files are encrypted with file key(s) {', '.join(lacking)}, "
                "which this installation does not have: set PMHA_FILE_KEYS as on the "
                "installation that made the backup (the archive does not hold the keys)"
            )
        with engine.connect() as conn:
            in_use = database_in_use(conn)
        has_files = any(True for _ in _storage_files(storage))
        if (in_use or has_files) and not force:
            what = " and ".join(
                w for w, on in (("the database", in_use), ("the storage folder", has_files)) if on
            )
            raise BackupError(
                f"{what} already hold data: restoring would replace it. Restore into an empty "
                "installation, or add --force to replace it (the storage found is moved aside)"
            )
        result = RestoreResult(manifest, {}, 0)
        engine.dispose()
        if engine_kind == "sqlite":
            _restore_sqlite(url, staging / "database.sqlite")
        else:
            _restore_postgresql(engine, url, staging / "database.pgdump", replace=in_use)
        engine.dispose()
        result.moved_aside = _restore_storage(staging / "storage", storage)
        result.files = sum(1 for name in manifest["files"] if name.startswith("storage/"))
        with engine.connect() as conn:
            result.counts = table_counts(conn)
        if result.counts != manifest.get("counts"):
            wrong = sorted(
                name
                for name in set(result.counts) | set(manifest.get("counts") or {})
                if result.counts.get(name) != (manifest.get("counts") or {}).get(name)
            )
            raise BackupError(
                f"after restoring, the row counts differ from the manifest's in {len(wrong)} "
                f"table(s) ({', '.join(wrong[:5])}): the restore is not to be trusted"
            )
        if head != code_head():
            from pmha.core import migrate

            with engine.begin() as conn:
                migrate.upgrade(connection=conn)
            result.upgraded_from = head
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _restore_sqlite(url: str, source: Path) -> None:
    target = make_url(url).database
    if not target or target == ":memory:":
        raise BackupError("cannot restore into an in-memory SQLite database")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page, replacing the whole target, in one transaction
    finally:
        dst.close()
        src.close()


def _restore_postgresql(engine: Engine, url: str, dump: Path, *, replace: bool) -> None:
    with engine.begin() as conn:
        names = inspect(conn).get_table_names()
        if names:
            # In use (forced) or a bare schema: start from an empty one, as pg_restore expects.
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    _run(
        [
            "pg_restore",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={make_url(url).database}",
            str(dump),
        ],
        _pg_env(make_url(url)),
        "pg_restore (the database is left empty)" if replace else "pg_restore",
    )


def _restore_storage(staged: Path, storage: Path) -> Path | None:
    moved: Path | None = None
    if storage.exists():
        if any(storage.iterdir()):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            moved = storage.with_name(f"{storage.name}.before-restore-{stamp}")
            storage.rename(moved)
        else:
            storage.rmdir()
    if staged.is_dir():
        staged.rename(storage)
    else:
        storage.mkdir(parents=True)
    os.chmod(storage, 0o700)
    return moved
