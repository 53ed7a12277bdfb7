"""Export bundles: build + sign + encrypt, next to cryptography's bare CMS envelope; and imports.

    .venv/bin/python benchmarks/export.py                # 100 cases x 4 travellers x 8 MB image
    .venv/bin/python benchmarks/export.py --cases 10 --image-mb 2

Per case (issue 9): four travellers, each with a FHIR summary (Patient, Composition, three
Immunizations, labs, a classification, the chest X-ray's ImagingStudy and report, clearance and
follow-up), a VXU message and one chest X-ray DICOM of about 8 MB. Three figures, case by case so
that memory stays flat:
  bundle    the shipped path: manifest, zip (`build.pack`), CMS SignedData inside EnvelopedData
            AES-256 (`envelope.seal`);
  ceiling   cryptography's bare CMS AES-256 EnvelopedData of the same zip bytes
            (`envelope.encrypt_only`): no signature, no packing;
  import    the receiving side's checks: decrypt, verify the signature, unpack (zip-bomb and
            path checks), every manifest hash, FHIR structure, VXU parse, DICOM validation (the
            database insert of the arrival rows is left out).
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the test factory

from pmha.exports import build, envelope, fhir, hl7, receive  # noqa: E402
from pmha.exports.immunization import (  # noqa: E402
    Facility,
    ImmunizationRecord,
    Patient,
    RecordKind,
)
from pmha.exports.parts import Part  # noqa: E402
from tests.exams import dicom_factory as factory  # noqa: E402

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
DISTINCT_IMAGES = 4  # making 400 distinct 8 MB images would cost more than the run


def images(megabytes: float) -> list[bytes]:
    side = int((megabytes * 1024 * 1024 / 2) ** 0.5)  # 16-bit pixels
    return [factory.make(rows=side, columns=side) for _ in range(DISTINCT_IMAGES)]


def traveller_parts(n: int, image: bytes) -> tuple[list[Part], dict]:
    tid = str(uuid.uuid4())
    t = fhir.Traveller(tid, "Haddad", f"Layla {n}", dt.date(1990 + n, 6, 1), "female", "SY")
    subject = fhir.patient(t)
    records = [
        ImmunizationRecord(
            RecordKind.HISTORICAL,
            f"{tid}-{i}",
            dt.date(2000 + i, 1, 1),
            cvx,
            information_source="03",
        )
        for i, cvx in enumerate(("03", "115", "10"))
    ]
    records.append(
        ImmunizationRecord(
            RecordKind.ADMINISTERED,
            f"{tid}-a",
            NOW.date(),
            "03",
            amount=Decimal("0.5"),
            unit="mL",
            mvx="MSD",
            lot="L1",
            route="SC",
            site="LA",
        )
    )
    entries = [fhir.immunization(r, subject) for r in records]
    entries.append(
        fhir.lab_observation(
            fhir.LabResult(f"{tid}-l", "igra", "IGRA", "negative", "Negative", NOW.date()), subject
        )
    )
    entries.append(
        fhir.condition(
            fhir.Classification(
                "tb_class", "TB classification", "class_b2_ltbi", "Class B2 (LTBI)", "final"
            ),
            subject,
        )
    )
    name = f"dicom/{hashlib.sha256(image).hexdigest()}-{n}.dcm"
    study, report = fhir.imaging(
        fhir.ChestXray(
            f"1.2.826.0.1.{n}",
            f"1.2.826.0.1.{n}.1",
            f"1.2.826.0.1.{n}.1.1",
            "1.2.840.10008.5.1.4.1.1.1",
            "CR",
            NOW.date(),
            name,
            "normal",
            (),
            NOW,
        ),
        subject,
    )
    clear = fhir.Clearance(
        "cleared_with_conditions",
        "Cleared with conditions",
        NOW,
        "2024.1",
        (),
        ("TB evaluation after arrival (Class B2 (LTBI))",),
    )
    entries += [study, report, fhir.clearance(clear, subject), fhir.follow_up(clear, subject)]
    document = fhir.bundle(subject, entries, "IST", NOW)
    patient = Patient(tid, "PMHA", "Haddad", f"Layla {n}", dt.date(1990 + n, 6, 1), "F")
    vxu = hl7.build_vxu(
        patient,
        records,
        Facility("IST", "Istanbul", "PMHA"),
        Facility("US", "", "PHA"),
        uuid.UUID(tid).hex[:20],
        NOW,
    )
    parts = [
        Part(f"fhir/{tid}.json", "application/fhir+json", json.dumps(document).encode()),
        Part(f"hl7/{tid}.hl7", "application/hl7-v2", vxu.encode()),
        Part(name, "application/dicom", image),
    ]
    return parts, {
        "id": tid,
        "fhir": f"fhir/{tid}.json",
        "clearance": "cleared",
        "classifications": ["tb_class:class_b2_ltbi"],
        "follow_up": [],
    }


def manifest(parts: list[Part], travellers: list[dict]) -> dict:
    return {
        "schema_version": build.SCHEMA_VERSION,
        "bundle_id": str(uuid.uuid4()),
        "sending_site": {"code": "IST", "name": "Istanbul", "country": "TR"},
        "case": {
            "id": str(uuid.uuid4()),
            "case_number": "IST-000001",
            "destination": "US",
            "programme": "refugee",
        },
        "travellers": travellers,
        "rule_versions": ["US 2024.1"],
        "files": [
            {
                "path": p.name,
                "sha256": hashlib.sha256(p.data).hexdigest(),
                "media_type": p.media_type,
                "size": len(p.data),
            }
            for p in parts
        ],
        "created_at": NOW.isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--travellers", type=int, default=4)
    parser.add_argument("--image-mb", type=float, default=8.0)
    args = parser.parse_args()

    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    centre = envelope.make_key_pair("bench centre", start, start + dt.timedelta(days=30))
    authority = envelope.make_key_pair("bench authority", start, start + dt.timedelta(days=30))
    pictures = images(args.image_mb)
    print(
        f"{args.cases} cases x {args.travellers} travellers, images of "
        f"{len(pictures[0]) / 1e6:.1f} MB; RSA-2048 keys, AES-256, SHA-256"
    )

    spent = {"bundle": 0.0, "ceiling": 0.0, "import": 0.0}
    megabytes = 0.0
    for case in range(args.cases):
        parts, travellers = [], []
        for n in range(args.travellers):
            more, told = traveller_parts(n, pictures[(case + n) % len(pictures)])
            parts += more
            travellers.append(told)
        facts = manifest(parts, travellers)

        t0 = time.perf_counter()
        archive = build.pack(parts, facts)
        sealed = envelope.seal(archive, centre, authority.certificate)
        t1 = time.perf_counter()
        envelope.encrypt_only(archive, authority.certificate)
        t2 = time.perf_counter()
        signed = envelope.decrypt(sealed, [authority])
        content = envelope.verify(signed, [centre.certificate]).content
        files = receive.unpack(content)
        receive.check_manifest(files)
        receive.check_contents(files)
        t3 = time.perf_counter()
        spent["bundle"] += t1 - t0
        spent["ceiling"] += t2 - t1
        spent["import"] += t3 - t2
        megabytes += len(archive) / 1e6

    def line(name: str, what: str, unit: str) -> None:
        seconds = spent[name]
        print(
            f"  {name:8} {megabytes / seconds:8.1f} MB/s {args.cases / seconds:8.2f} {unit}/s"
            f"   ({seconds:.1f} s)  {what}"
        )

    print(f"{megabytes:.0f} MB of zipped content in all")
    line("ceiling", "bare CMS AES-256 envelope of the same bytes (cryptography)", "bundles")
    line("bundle", "zip + manifest + CMS SignedData + EnvelopedData AES-256", "bundles")
    line("import", "decrypt + verify + unpack + hashes + FHIR/VXU/DICOM checks", "imports")
    print(f"  build+sign+encrypt runs at {spent['ceiling'] / spent['bundle']:.0%} of the ceiling")


if __name__ == "__main__":
    main()
