"""Chest X-ray ingest benchmark (issue 20): the upload's request path, and how soon its previews
are ready, next to a same-run baseline that hashes and writes the same bytes durably.

    .venv/bin/python benchmarks/dicom_ingest.py [--images 60] [--size 2048] [--latency 15]
        [--database-url postgresql+psycopg://...] [--redis redis://127.0.0.1:6379/9]

Synthetic 2048 x 2048 16-bit chest images (8 MB each, every file distinct). Three parts, one
after the other, each timed in wall time and in CPU time:

1. baseline, on the same bytes: SHA-256, then a durable write (temporary file, fsync, rename,
   fsync of the directory: what the ingest does); and the same through the at-rest cipher
   (`file_crypto.write`, AES-256-GCM), the storage floor of the ingest;
2. the request path, as the upload does it: `radiology.upload` (inspect = parse and validate,
   identity check, duplicate check, hash, encrypted durable store, row and audit event) and
   the commit that writes the job's outbox row and sends it to the broker. The worker is not
   running yet, so nothing else takes the CPU;
3. the job: a Celery worker (`celery -A pmha.worker worker`, solo pool, Redis) is started and
   drains the queued jobs (previews, thumbnail and de-identified copy per image); then, with the
   worker idle, `--latency` uploads one at a time, each timed from its commit to its study row
   reading `ready` (polled every 5 ms): the previews-ready latency.

The load average is printed at the start and the end: other work on the machine moves the wall
times, the CPU times less. One process uploads, one image at a time. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the test factories

DISTINCT_PIXEL_IMAGES = 8  # pixel arrays to cycle through: making 100 costs more than the run


def make_files(directory: Path, count: int, size: int) -> list[Path]:
    """count synthetic CR/DX chest images, every file distinct (own UIDs, own pixels)."""
    from tests.exams import dicom_factory as factory

    bases = [
        factory.chest_pixels(size, size, 12, seed=seed) for seed in range(DISTINCT_PIXEL_IMAGES)
    ]
    paths = []
    for i in range(count):
        dx = i % 2 == 1
        spec = factory.Spec(
            sop_class=factory.DX if dx else factory.CR,
            modality="DX" if dx else "CR",
            photometric="MONOCHROME1" if i % 4 in (2, 3) else "MONOCHROME2",
            rows=size,
            columns=size,
            pixel_data=False,
            study_uid=generate_uid(),
        )
        ds = factory.build(spec)
        pixels = bases[i % DISTINCT_PIXEL_IMAGES].copy()
        pixels[0, 0] = i  # distinct pixel data as well as distinct UIDs
        if spec.photometric == "MONOCHROME1":
            pixels = (4095 - pixels).astype(np.uint16)
        ds.PixelData = pixels.tobytes()
        path = directory / f"{i:04d}.dcm"
        path.write_bytes(factory.to_bytes(ds))
        paths.append(path)
    return paths


class Clock:
    """Wall and CPU (this process) time of a block, added up."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        w, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall += time.perf_counter() - w
            self.cpu += time.process_time() - c


def durable_write(path: Path, data: bytes) -> None:
    """What file_crypto.write does, without the cipher: temp file, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".incoming-", suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(name, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def baselines(paths: list[Path], out: Path) -> tuple[Clock, Clock]:
    from pmha.core import file_crypto

    plain, sealed = Clock(), Clock()
    file_crypto.register(out, file_crypto.FileCipher.from_text(file_crypto.new_key_text("bench")))
    for path in paths:
        data = path.read_bytes()
        with plain():
            digest = hashlib.sha256(data).hexdigest()
            durable_write(out / "plain" / digest[:2] / f"{digest}.dcm", data)
    for path in paths:
        data = path.read_bytes()
        with sealed():
            digest = hashlib.sha256(data).hexdigest()
            file_crypto.write(out / "dicom" / digest[:2] / f"{digest}.dcm", data)
    return plain, sealed


def seed(app: Any, applicants: int) -> tuple[Any, list[uuid.UUID]]:
    from pmha.core.db import database
    from tests import factories

    with app.app_context(), database(app).transaction() as session:
        world = factories.build_world(session)
        nurse = world.actor("nurse")
        ids = [
            factories.make_case(
                session,
                nurse,
                principal=factories.applicant_data(
                    family_name=f"Bench{chr(97 + n // 26)}{chr(97 + n % 26)}",
                    acknowledge_duplicates=True,
                ),
            )
            .applicants[0]
            .id
            for n in range(applicants)
        ]
        return world.actor("radiologist"), ids


def request_path(
    app: Any, actor: Any, applicants: list[uuid.UUID], paths: list[Path], stages: dict[str, float]
) -> tuple[Clock, list[uuid.UUID]]:
    """Each upload in its own transaction, as a request: the service, then the commit."""
    from pmha.core.db import database
    from pmha.exams import dicom, radiology

    storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
    clock, studies = Clock(), []

    def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            c = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[stage] += time.process_time() - c

        return run

    originals = dicom.inspect, dicom.store
    dicom.inspect = timed("inspect (parse, validate, decode)", dicom.inspect)
    dicom.store = timed("hash + encrypt + durable write", dicom.store)
    try:
        for n, path in enumerate(paths):
            data = path.read_bytes()  # the request body, already received
            with clock(), app.app_context(), database(app).transaction() as session:
                study = radiology.upload(
                    session, actor, applicants[n % len(applicants)], data, storage
                )
                studies.append(study.id)
    finally:
        dicom.inspect, dicom.store = originals
    return clock, studies


def ready_counter(url: str) -> Callable[[list[uuid.UUID]], int]:
    """How many of these studies read `ready`: a plain read on an engine of its own (the app's
    SQLite engine begins every transaction IMMEDIATE, taking the write lock the worker needs)."""
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(url)
    query = text(
        "SELECT count(*) FROM xray_studies WHERE images_status = 'ready' AND id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))

    def count(study_ids: list[uuid.UUID]) -> int:
        ids = [i.hex if url.startswith("sqlite") else i for i in study_ids]
        with engine.connect() as conn:
            return int(conn.execute(query, {"ids": ids}).scalar() or 0)

    return count


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv" / "bin" / "celery"),
        "-A",
        "pmha.worker",
        "worker",
        "--pool",
        "solo",
        "-Q",
        "pmha",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "WARNING",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--latency", type=int, default=15, help="uploads timed to ready")
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9", help="the broker")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pmha-dicom-bench-"))
    env = {
        **os.environ,
        "PMHA_VAR_DIR": str(work / "var"),
        "PMHA_BROKER_URL": args.redis,
        "PMHA_DATABASE_URL": args.database_url or f"sqlite:///{work / 'var' / 'pmha.db'}",
        "PMHA_THROTTLE_PER_CLIENT": "",
        "PMHA_THROTTLE_PER_ACCOUNT": "",
    }
    os.environ.update(env)  # this process and the worker share one configuration
    (work / "var").mkdir()
    worker: subprocess.Popen[bytes] | None = None
    try:
        import redis

        from pmha.app import create_app
        from pmha.core import migrate

        redis.Redis.from_url(args.redis).flushdb()  # this benchmark's own database number
        print(
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"pydicom {pydicom.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs; "
            f"load average at start {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
        )
        t0 = time.perf_counter()
        incoming = work / "incoming"
        incoming.mkdir()
        paths = make_files(incoming, args.images + args.latency, args.size)
        timed_paths, latency_paths = paths[: args.images], paths[args.images :]
        megabytes = sum(p.stat().st_size for p in timed_paths) / 1e6
        print(
            f"made {len(paths)} synthetic {args.size}x{args.size} 16-bit chest images "
            f"({megabytes / len(timed_paths):.1f} MB each) in {time.perf_counter() - t0:.1f} s"
        )
        if args.database_url:
            from tests.conftest import reset_database

            reset_database(args.database_url)
        migrate.upgrade(env["PMHA_DATABASE_URL"])
        app = create_app()
        actor, applicants = seed(app, 10)

        plain, sealed = baselines(timed_paths, work / "baseline")
        stages: dict[str, float] = defaultdict(float)
        # Warm the imports and the first connection, unmeasured.
        request_path(app, actor, applicants, latency_paths[:1], defaultdict(float))
        ingest, studies = request_path(app, actor, applicants, timed_paths, stages)

        n = len(timed_paths)
        print()
        print(f"{'request path, per image':44} {'images/s':>9} {'MB/s':>7} {'wall ms':>8} "
              f"{'CPU ms':>7}")  # fmt: skip
        for label, clock in (
            ("baseline: SHA-256 + durable write", plain),
            ("baseline: SHA-256 + encrypt + durable write", sealed),
            ("upload: validate, identity, store, commit", ingest),
        ):
            print(
                f"{label:44} {n / clock.wall:9.1f} {megabytes / clock.wall:7.1f} "
                f"{1000 * clock.wall / n:8.1f} {1000 * clock.cpu / n:7.1f}"
            )
        print(
            f"upload / baseline (durable write): {ingest.wall / plain.wall:.1f}x wall, "
            f"{ingest.cpu / plain.cpu:.1f}x CPU; / encrypted baseline: "
            f"{ingest.wall / sealed.wall:.1f}x wall"
        )
        print("CPU per image in the upload (ms):")
        for stage, seconds in stages.items():
            print(f"  {stage:36} {1000 * seconds / n:7.1f}")
        rest = ingest.cpu - sum(stages.values())
        print(f"  {'the rest (rows, audit, commit, send)':36} {1000 * rest / n:7.1f}")

        # The job: a worker drains what the uploads queued.
        ready = ready_counter(env["PMHA_DATABASE_URL"])
        worker = start_worker(env, work / "worker.log")
        first: tuple[float, float] | None = None  # wall, worker CPU when the first was ready
        while (done := ready(studies)) < n:
            if worker.poll() is not None:
                raise SystemExit(f"the worker stopped: see {work / 'worker.log'} (--keep)")
            if first is None and done:
                first = time.perf_counter(), cpu_of(worker.pid)
                first_done = done
            time.sleep(0.02)
        if first is not None and n > first_done:
            drained = n - first_done  # from the first ready one on: the worker's start-up left out
            wall = time.perf_counter() - first[0]
            cpu = cpu_of(worker.pid) - first[1]
            print()
            print(
                f"job (previews + thumbnail + de-identified copy), one solo worker draining the "
                f"queue: {drained / wall:.1f} images/s, {1000 * wall / drained:.0f} ms wall and "
                f"{1000 * cpu / drained:.0f} ms worker CPU per image"
            )

        # Previews-ready latency, worker idle, one upload at a time.
        latencies = []
        storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
        from pmha.core.db import database
        from pmha.exams import radiology

        for k, path in enumerate(latency_paths[1:]):
            data = path.read_bytes()
            with app.app_context():
                with database(app).transaction() as session:
                    study = radiology.upload(session, actor, applicants[k % 10], data, storage)
                committed = time.perf_counter()
                while ready([study.id]) < 1:
                    if time.perf_counter() - committed > 60:
                        raise SystemExit("a study was not ready after 60 s")
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - committed)
        if latencies:
            latencies.sort()
            print(
                f"previews ready after the upload's commit ({len(latencies)} uploads, worker "
                f"idle): median {1000 * statistics.median(latencies):.0f} ms, max "
                f"{1000 * latencies[-1]:.0f} ms (target: 2,000 ms)"
            )
        print(f"load average at the end {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
