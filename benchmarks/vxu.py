"""VXU^V04 messages built and validated per second, next to the same messages as plain strings.

    .venv/bin/python benchmarks/vxu.py                 # 2,000 applicants, 5-15 doses each
    .venv/bin/python benchmarks/vxu.py --applicants 500 --strict-sample 50 --seed 7

Three figures over the same synthetic applicants (issue 6):
  ceiling   the messages written as plain ER7 strings, no validation (`build.vxu_text`);
  build_vxu the shipped path: CDC profile checks on the records, then every segment against
            hl7apy's v2.5.1 definitions compiled once (`check_structure`);
  strict    build_vxu(strict=True): the above plus hl7apy's full STRICT parse and validation,
            on a sample, because it costs about 15 ms or more a message.
Prints figures; asserts nothing about time. Target from the issue: over 2,000 messages/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Callable
from decimal import Decimal

from pmha.exports.hl7 import build_vxu
from pmha.exports.hl7.build import vxu_text
from pmha.exports.immunization import (
    Facility,
    ImmunizationRecord,
    Patient,
    Provider,
    RecordKind,
    VisDates,
)

NOW = dt.datetime(2025, 3, 10, 12, 0)
SENDER = Facility("IOMTR", application="PMHA")
RECEIVER = Facility("US", application="IIS")  # the destination: its funding values (vxu.toml)
GIVEN = [
    ("03", "MSD", "SC"),
    ("115", "SKB", "IM"),
    ("10", "PMC", "IM"),
    ("21", "MSD", "SC"),
    ("43", "SKB", "IM"),
    ("133", "PFR", "IM"),
    ("88", "SEQ", "IM"),
    ("213", "MOD", "IM"),
]
HISTORY = ["20", "10", "08", "17", "03", "133", "116", "02"]
NAMES = ["Yilmaz", "Kaya", "Demir", "O'Neil", "Smith^Jones", "Ahmadi", "Nguyen", "Haddad"]


def applicant(rng: random.Random, n: int) -> tuple[Patient, list[ImmunizationRecord]]:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
    patient = Patient(f"P{n:07d}", "PMHA", rng.choice(NAMES), "Test", born, rng.choice("FMU"))
    records = []
    for i in range(rng.randint(5, 15)):
        ident = f"P{n:07d}-{i}"
        roll = rng.random()
        day = born + dt.timedelta(days=rng.randrange(max(1, (NOW.date() - born).days)))
        if roll < 0.5:
            cvx, mvx, route = rng.choice(GIVEN)
            records.append(
                ImmunizationRecord(
                    RecordKind.ADMINISTERED,
                    ident,
                    NOW.replace(hour=9),
                    cvx,
                    amount=Decimal("0.5"),
                    unit="mL",
                    provider=Provider("N1", "Nurse", "A"),
                    location=Facility("IST"),
                    lot=f"LOT{rng.randrange(10**5)}",
                    lot_expiry=dt.date(2026, 12, 31),
                    mvx=mvx,
                    route=route,
                    site="LD",
                    vis=(VisDates(dt.date(2021, 8, 6), NOW.date()),),
                    dose_number=1,
                )
            )
        elif roll < 0.85:
            records.append(
                ImmunizationRecord(
                    RecordKind.HISTORICAL,
                    ident,
                    day,
                    rng.choice(HISTORY),
                    information_source=rng.choice(["01", "02", "03"]),
                )
            )
        elif roll < 0.95:
            records.append(
                ImmunizationRecord(
                    RecordKind.REFUSED, ident, NOW.date(), rng.choice(HISTORY), refusal_reason="00"
                )
            )
        else:
            records.append(
                ImmunizationRecord(
                    RecordKind.EVIDENCE_OF_IMMUNITY,
                    ident,
                    NOW.date(),
                    "998",
                    immunity_disease="38907003",
                )
            )
    return patient, records


def measure(label: str, work: Callable[[], int]) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    count = work()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = count / wall
    print(
        f"  {label:<44} {count:>6,} msgs  {wall:7.3f} s wall  {cpu:7.3f} s CPU  {rate:>9,.0f} msg/s"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=2000)
    parser.add_argument("--strict-sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    people = [applicant(rng, n) for n in range(args.applicants)]
    doses = sum(len(r) for _, r in people)
    print(f"{len(people):,} synthetic applicants, {doses:,} immunizations (5-15 each), one core:")
    build_vxu(*people[0], SENDER, RECEIVER, "WARM", NOW, strict=True)  # load hl7apy's references

    def plain() -> int:
        for n, (p, r) in enumerate(people):
            vxu_text(p, r, SENDER, RECEIVER, f"C{n}", NOW)
        return len(people)

    def validated() -> int:
        for n, (p, r) in enumerate(people):
            build_vxu(p, r, SENDER, RECEIVER, f"C{n}", NOW)
        return len(people)

    def strict() -> int:
        sample = people[: args.strict_sample]
        for n, (p, r) in enumerate(sample):
            build_vxu(p, r, SENDER, RECEIVER, f"C{n}", NOW, strict=True)
        return len(sample)

    ceiling = measure("ceiling: plain strings, no validation", plain)
    shipped = measure("build_vxu: profile + compiled hl7apy structure", validated)
    full = measure("build_vxu(strict=True): + hl7apy STRICT parse", strict)
    print(
        f"  build_vxu runs at {shipped / ceiling:.0%} of the ceiling; strict at {full:,.0f} msg/s"
    )


if __name__ == "__main__":
    main()
