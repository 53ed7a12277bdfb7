"""Export job benchmark: the whole job as the worker runs it, next to a bare CMS envelope of the
same bytes.

    .venv/bin/python benchmarks/export.py                   # 12 cases x 4 travellers, 8 MB X-rays
    .venv/bin/python benchmarks/export.py --cases 5 --image-mb 2 --profiled 2

Seeds a fresh SQLite database (or `--database-url`) through the services: IST with its signing
key and the US authority's certificate (tests/exports/keyring.py), then `--cases` US families of
`--travellers` (a principal and children; every other family reads Arabic), each traveller
planned by the rule engine, with a chest X-ray of about `--image-mb` MB that names them
(uploaded through `radiology.upload`: validated, previews, de-identified copy), three historical
vaccinations, and for the principal a syphilis serology result. Then, per case, one export job
run by the Celery task itself (`pmha.exports.tasks.build_bundle`, in-process, in an app
context): gather, FHIR summaries, VXUs, vaccination record PDFs, DICOM copies, manifest and
hashes, zip, CMS sign and encrypt, the atomic write, the database rows. Timed per job (wall and
this process's CPU time).

The baseline, in the same run and on the same bytes: the zip each job packed (caught as
`build.pack` returns it) sealed with cryptography's bare CMS AES-256 EnvelopedData
(`envelope.encrypt_only`: no signature, no gathering, no rendering). Then the receiving side's
checks on each bundle (decrypt, verify, unpack, hashes, FHIR/VXU/DICOM checks; no insert).

The first `--profiled` jobs run under cProfile and are left out of the figures; their top
entries are printed, with the share of the job in PDF rendering, FHIR JSON, DICOM reads,
hashing and the envelope. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import logging
import os
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the test factories

from pmha.app import create_app  # noqa: E402
from pmha.cases import service as cases  # noqa: E402
from pmha.cases.schemas import ApplicantIn  # noqa: E402
from pmha.core import migrate  # noqa: E402
from pmha.core.db import database  # noqa: E402
from pmha.exams import lab_service, radiology  # noqa: E402
from pmha.exams.commands import NewLabResult  # noqa: E402
from pmha.exports import build, envelope, receive, tasks  # noqa: E402
from pmha.exports.models import ExportJob, JobState  # noqa: E402
from pmha.vaccines import records as vaccinations  # noqa: E402
from pmha.vaccines.commands import NewVaccination  # noqa: E402
from pmha.vaccines.models import RecordKind  # noqa: E402
from pmha.workflow import service as workflow  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import config_for_tests  # noqa: E402
from tests.exams import dicom_factory  # noqa: E402
from tests.exports import keyring  # noqa: E402

CHILDREN = ("Yusuf", "Sara", "Ali", "Mariam", "Omar")
# Where the job's CPU goes, by the functions that do each part (cProfile's cumulative time).
PARTS = {
    "vaccination record PDFs": ("record_pdf.py", "render_record"),
    "gathering, FHIR summaries and VXUs (with the DICOM reads)": ("parts.py", "clinical_summary"),
    "  of which FHIR JSON dumps": ("parts.py", "_json"),
    "  of which X-ray entries and DICOM reads": ("parts.py", "_xray_entries"),
    "manifest hashes and content key": ("build.py", "manifest_for"),
    "zip": ("build.py", "pack"),
    "CMS sign + encrypt": ("envelope.py", "seal"),
    "atomic write": ("build.py", "write_atomically"),
}


@dataclass
class Run:
    cases: int = 0
    travellers: int = 0
    megabytes: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    archives: list[bytes] = field(default_factory=list)


def _image(name: str, sex: str, born: dt.date, side: int, n: int) -> bytes:
    return dicom_factory.of_person(
        name, sex, born.strftime("%Y%m%d"), rows=side, columns=side, seed=n
    )


def seed(app: Any, n_cases: int, travellers: int, image_mb: float) -> list[uuid.UUID]:
    """The cases, committed one by one; their ids."""
    db = database(app)
    rules = app.extensions["pmha.rules"]
    storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
    side = int((image_mb * 1024 * 1024 / 2) ** 0.5)  # 16-bit pixels
    ids = []
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        keyring.install(session, world)
    for c in range(n_cases):
        with app.app_context(), db.transaction() as session:
            world = factories.World(world.home, world.other, world.users)
            nurse, doctor = world.actor("nurse"), world.actor("panel_physician")
            family = f"Bench{chr(97 + c // 26)}{chr(97 + c % 26)}"
            case = factories.make_case(
                session,
                nurse,
                principal=factories.applicant_data(
                    family_name=family,
                    given_names="Omar",
                    dob=f"199{c % 10}-0{1 + c % 9}-1{c % 9}",  # 18 to 44: syphilis serology
                    acknowledge_duplicates=True,
                ),
            )
            for k in range(travellers - 1):
                cases.add_applicant(
                    session,
                    nurse,
                    case.id,
                    ApplicantIn().load(
                        factories.applicant_data(
                            family_name=family,
                            given_names=CHILDREN[k % len(CHILDREN)],
                            given_names_original=None,
                            dob=f"20{10 + k}-0{1 + k}-0{1 + k}",
                            sex="female" if k % 2 else "male",
                            relationship="child",
                            acknowledge_duplicates=True,
                        )
                    ),
                )
            session.flush()
            session.expire_all()
            for n, a in enumerate(case.applicants):
                if c % 2:
                    a.preferred_language = "ar"
                workflow.current(session, doctor, rules, a.id)
                name = f"{a.family_name.upper()}^{a.given_names.upper()}"
                image = _image(name, "F" if a.sex.value == "female" else "M", a.dob, side, n + c)
                radiology.upload(session, world.actor("radiologist"), a.id, image, storage)
                for i, cvx in enumerate(("03", "10", "115")):
                    vaccinations.record_vaccination(
                        session,
                        nurse,
                        a.id,
                        NewVaccination(
                            kind=RecordKind.HISTORICAL,
                            cvx=cvx,
                            date=a.dob + dt.timedelta(days=400 + 200 * i),
                            information_source="03",
                        ),
                    )
            principal = case.principal
            assert principal is not None
            order = lab_service.order_tests(
                session, doctor, rules, principal.id, ["syphilis_serology"]
            )[0]
            lab_service.record_result(
                session,
                world.actor("lab_technician"),
                rules,
                order.id,
                NewLabResult(
                    specimen_number=order.accession,
                    value="non_reactive",
                    date=dt.date.today(),
                    details={"treponemal": "non_reactive"},
                ),
            )
            ids.append(case.id)
    return ids


def queue(app: Any, case_id: uuid.UUID, requested_by: uuid.UUID) -> tuple[str, int]:
    """An export job row as `service.request_export` writes it (the job is run here, not sent)."""
    with app.app_context(), database(app).transaction() as session:
        case = cases.load_case(session, _physician(app, session), case_id)
        job = ExportJob(
            case_id=case.id, site_id=case.site_id, requested_by=requested_by, state=JobState.QUEUED
        )
        session.add(job)
        session.flush()
        return str(job.id), len(case.applicants)


def _physician(app: Any, session: Any) -> Any:
    from sqlalchemy import select

    from pmha.accounts import service as accounts
    from pmha.accounts.models import User

    user = session.scalar(select(User).where(User.username == "t_panel_physician"))
    return accounts.actor_for(user, ip=None, request_id=None, via="cli")


def run_jobs(app: Any, case_ids: list[uuid.UUID], caught: list[bytes]) -> Run:
    run = Run()
    with app.app_context(), database(app).transaction() as session:
        requested_by = _physician(app, session).user_id
    for case_id in case_ids:
        job_id, travellers = queue(app, case_id, requested_by)
        before = len(caught)
        with app.app_context():
            cpu, wall = time.process_time(), time.perf_counter()
            found = tasks.build_bundle(job_id)
            run.wall += time.perf_counter() - wall
            run.cpu += time.process_time() - cpu
        if found is None or len(caught) != before + 1:
            raise SystemExit(f"the export job of case {case_id} did not build a bundle")
        run.cases += 1
        run.travellers += travellers
        run.megabytes += len(caught[-1]) / 1e6
        run.archives.append(caught[-1])
    return run


def _share(stats: pstats.Stats, total: float) -> list[tuple[str, float]]:
    found = []
    for label, (file, name) in PARTS.items():
        cumulative = sum(
            row[3]
            for (path, _line, func), row in stats.stats.items()  # type: ignore[attr-defined]
            if path.endswith(file) and func == name
        )
        found.append((label, cumulative / total if total else 0.0))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=12)
    parser.add_argument("--travellers", type=int, default=4)
    parser.add_argument("--image-mb", type=float, default=8.0)
    parser.add_argument("--profiled", type=int, default=2, help="first jobs run under cProfile")
    parser.add_argument("--top", type=int, default=25, help="cProfile entries printed")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--save-profile", type=Path, help="write the cProfile data here")
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    tmp = Path(tempfile.mkdtemp(prefix="pmha-bench-export-"))
    try:
        run(args, tmp)
    finally:
        if not args.keep:  # about 1.4 GB at the defaults
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(config_for_tests(url, tmp / "var"))
    with database(app).engine.begin() as conn:
        migrate.upgrade(connection=conn)
    started = time.perf_counter()
    case_ids = seed(app, args.cases + args.profiled, args.travellers, args.image_mb)
    print(
        f"seeded {len(case_ids)} US cases x {args.travellers} travellers, each with a chest "
        f"X-ray of ~{args.image_mb:g} MB, in {time.perf_counter() - started:.0f} s ({tmp})"
    )

    caught: list[bytes] = []
    pack = build.pack

    def catching_pack(*a: Any, **k: Any) -> bytes:
        archive = pack(*a, **k)
        caught.append(archive)
        return archive

    build.pack = catching_pack

    profile = cProfile.Profile()
    profiled = Run()
    if args.profiled:
        profile.enable()
        profiled = run_jobs(app, case_ids[: args.profiled], caught)
        profile.disable()

    load = os.getloadavg()
    job = run_jobs(app, case_ids[args.profiled :], caught)

    with app.app_context(), database(app).transaction() as session:
        from pmha.exports import keys

        recipient = keys.recipient(session, "US", dt.date.today())
        certificate = envelope.load_certificate(recipient.cert_pem.encode())
    authority = keyring.pair("US authority")
    centre = keyring.pair("PMHA IST test centre")
    bare_wall = bare_cpu = check_wall = check_cpu = 0.0
    for archive in job.archives:
        cpu, wall = time.process_time(), time.perf_counter()
        envelope.encrypt_only(archive, certificate)
        bare_wall += time.perf_counter() - wall
        bare_cpu += time.process_time() - cpu
        sealed = envelope.seal(archive, centre, certificate)
        cpu, wall = time.process_time(), time.perf_counter()
        signed = envelope.decrypt(sealed, [authority])
        files = receive.unpack(envelope.verify(signed, [centre.certificate]).content)
        receive.check_manifest(files)
        receive.check_contents(files)
        check_wall += time.perf_counter() - wall
        check_cpu += time.process_time() - cpu
    end = os.getloadavg()

    mb = job.megabytes
    print(
        f"{job.cases} jobs timed, {job.travellers} travellers, {mb:.0f} MB of zipped content "
        f"({mb / max(job.cases, 1):.1f} MB a bundle); load average {load[0]:.2f} at the start, "
        f"{end[0]:.2f} {end[1]:.2f} {end[2]:.2f} at the end (2 CPUs)"
    )
    print(f"\n{'':42} {'MB/s':>7} {'trav/s':>7} {'wall s':>7} {'CPU s':>7} {'MB/CPU s':>8}")

    def line(name: str, wall: float, cpu: float) -> None:
        print(
            f"{name:42} {mb / wall:7.1f} {job.travellers / wall:7.2f} {wall:7.1f} {cpu:7.1f} "
            f"{mb / cpu:8.1f}"
        )

    line("baseline: bare CMS envelope, same bytes", bare_wall, bare_cpu)
    line("export job (the Celery task, whole)", job.wall, job.cpu)
    line("import checks of the same bundles", check_wall, check_cpu)
    print(
        f"\nthe job runs at {bare_wall / job.wall:.0%} of the baseline's MB/s "
        f"({bare_cpu / job.cpu:.0%} by CPU time); "
        f"{job.cpu / job.travellers * 1000:.0f} ms of CPU a traveller"
    )

    if args.profiled:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        if args.save_profile:
            stats.dump_stats(args.save_profile)
        total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
        print(
            f"\nprofile of the first {profiled.cases} jobs ({profiled.travellers} travellers, "
            f"under cProfile, {total:.1f} s of profiled time), share of the job:"
        )
        for label, share in _share(stats, total):
            print(f"  {share:6.1%}  {label}")
        stats.sort_stats("cumulative").print_stats(args.top)
        print("\n".join(out.getvalue().splitlines()[6:]))
        out.truncate(0)
        out.seek(0)
        stats.sort_stats("tottime").print_stats(args.top)
        print("\n".join(out.getvalue().splitlines()[6:]))


if __name__ == "__main__":
    main()
