"""Chest X-ray ingest benchmark: synthetic 2048 x 2048 16-bit images through the whole ingest.

For each file, as an upload would be handled: read the bytes, validate (`inspect`), hash, store
content-addressed (with fsync), render the preview and the thumbnail and write them, de-identify
and store the de-identified copy. Next to it, in the same run and on the same files, the
baseline: a bare pydicom read and write of each file (parse, serialise, write; no fsync). Prints
images per second and MB/s of input for both, and where the ingest time goes. One process, one
image at a time. It asserts nothing about time.

    .venv/bin/python benchmarks/dicom_ingest.py [--images 200] [--size 2048] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the test factory

from pmha.exams import dicom  # noqa: E402
from tests.exams import dicom_factory as factory  # noqa: E402

DISTINCT_PIXEL_IMAGES = 8  # pixel arrays to cycle through: making 200 costs more than the run


def make_files(directory: Path, count: int, size: int) -> list[Path]:
    """count synthetic CR/DX chest images, every file distinct (own UIDs, own pixels)."""
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


def baseline(paths: list[Path], out: Path) -> float:
    """Bare pydicom: read each file and write it back out."""
    out.mkdir()
    start = time.perf_counter()
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.save_as(out / path.name, enforce_file_format=True)
    return time.perf_counter() - start


def ingest(paths: list[Path], out: Path, stages: dict[str, float]) -> float:
    """The whole ingest, stage by stage."""
    originals, previews, research = out / "originals", out / "previews", out / "deidentified"
    previews.mkdir(parents=True)
    mapper = dicom.UidMapper(secrets.token_bytes(32))

    def timed(stage: str, fn: Callable[[], object]) -> object:
        t0 = time.perf_counter()
        result = fn()
        stages[stage] += time.perf_counter() - t0
        return result

    start = time.perf_counter()
    for path in paths:
        data = path.read_bytes()
        timed("validate", lambda: dicom.inspect(data))  # noqa: B023
        digest = timed("hash", lambda: dicom.sha256_of(data))  # noqa: B023
        timed("store", lambda: dicom.store(data, originals))  # noqa: B023
        rendered = timed("preview+thumbnail", lambda: dicom.render_previews(data))  # noqa: B023
        assert isinstance(rendered, dicom.Previews)

        def write_previews() -> None:
            (previews / f"{digest}.png").write_bytes(rendered.preview)  # noqa: B023
            (previews / f"{digest}.thumb.png").write_bytes(rendered.thumbnail)  # noqa: B023

        timed("preview+thumbnail", write_previews)
        copy = timed("de-identify", lambda: dicom.deidentify(data, mapper))  # noqa: B023
        assert isinstance(copy, bytes)
        timed("store", lambda: dicom.store(copy, research))  # noqa: B023
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pmha-dicom-bench-"))
    try:
        print(
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"pydicom {pydicom.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs"
        )
        t0 = time.perf_counter()
        incoming = work / "incoming"
        incoming.mkdir()
        paths = make_files(incoming, args.images, args.size)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"made {len(paths)} synthetic {args.size}x{args.size} 16-bit chest images "
            f"({megabytes:.0f} MB) in {time.perf_counter() - t0:.1f} s, in {work}"
        )
        # Warm the page cache and the imports, unmeasured.
        pydicom.dcmread(paths[0])
        dicom.render_previews(paths[0].read_bytes())

        bare = baseline(paths, work / "baseline")
        stages: dict[str, float] = defaultdict(float)
        full = ingest(paths, work / "ingest", stages)

        n = len(paths)
        print()
        print(f"{'':36} {'images/s':>9} {'MB/s':>8} {'ms/image':>9}")
        for label, seconds in (
            ("baseline: pydicom read + write", bare),
            ("ingest: validate..de-identify", full),
        ):
            rate, throughput, per_image = n / seconds, megabytes / seconds, 1000 * seconds / n
            print(f"{label:36} {rate:9.1f} {throughput:8.1f} {per_image:9.1f}")
        print(f"ingest / baseline time: {full / bare:.1f}x")
        print()
        print("where the ingest time goes (ms/image):")
        for stage in ("validate", "hash", "store", "preview+thumbnail", "de-identify"):
            print(f"  {stage:20} {1000 * stages[stage] / n:7.1f}")
        print(
            "  (store: originals and de-identified copies, each written to a temporary file, "
            "fsynced and renamed; the baseline does not fsync)"
        )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
