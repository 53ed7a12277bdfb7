"""Build the demo VXUs (every pattern, names in several scripts, both VIS forms, A/U/D) and
validate each with hl7apy STRICT, the CDC profile's checks and a round trip through the parser.

`python -m pmha.exports.hl7.selfcheck` (scripts/check-vxu.sh, CI) prints one line per message
and exits 1 at the first that fails. Synthetic data only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from decimal import Decimal

from pmha.exports.hl7 import build_vxu, parse_vxu, validate_strict
from pmha.exports.hl7.checks import check_message
from pmha.exports.hl7.errors import Hl7Error
from pmha.exports.hl7.registry import complete, registry
from pmha.exports.immunization import (
    Action,
    Facility,
    Identifier,
    ImmunizationRecord,
    Patient,
    Provider,
    RecordKind,
    VisDates,
)

NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
SENDER = Facility("IST", "Istanbul centre", "PMHA")
RECEIVER = Facility("US", "", "PHA")

_MMR = ImmunizationRecord(
    RecordKind.ADMINISTERED,
    "demo-mmr-1",
    dt.datetime(2025, 3, 10, 9, 30, tzinfo=NOW.tzinfo),
    "03",
    amount=Decimal("0.5"),
    unit="mL",
    provider=Provider("N-1", "Nurse", "Demo"),
    location=Facility("IST"),
    lot="DEMO-LOT-1",
    lot_expiry=dt.date(2026, 12, 31),
    mvx="MSD",
    route="SC",
    site="LA",
    vis=(VisDates(dt.date(2012, 4, 20), dt.date(2025, 3, 10)),),  # a known edition: bar code
    dose_number=1,
)
_TD = dataclasses.replace(
    _MMR,
    immunization_id="demo-td-1",
    cvx="09",
    mvx="PMC",
    route="IM",
    site="RD",
    vis=(VisDates(dt.date(2024, 8, 6), dt.date(2025, 3, 10)),),  # not in the file: vaccine type
    dose_number=None,
)
_HISTORY = [
    ImmunizationRecord(RecordKind.HISTORICAL, "demo-h-1", dt.date(2012, 5, 1), "08"),
    ImmunizationRecord(
        RecordKind.HISTORICAL, "demo-h-2", dt.date(2013, 5, 1), "20", information_source="03"
    ),
    ImmunizationRecord(
        RecordKind.REFUSED, "demo-r-1", dt.date(2025, 3, 10), "88", refusal_reason="00"
    ),
    ImmunizationRecord(
        RecordKind.EVIDENCE_OF_IMMUNITY,
        "demo-i-1",
        dt.date(2025, 3, 10),
        "998",
        immunity_disease="38907003",
    ),
    dataclasses.replace(
        _MMR,
        kind=RecordKind.SUBPOTENT,
        immunization_id="demo-pa-1",
        cvx="10",
        mvx="PMC",
        route="IM",
        site="RD",
        vis=(),
        dose_number=None,
    ),
]
_PASSPORT = (Identifier("U12345678", "PPN", "TR"),)
PATIENTS = {
    "latin": Patient(
        "demo-1", "IST", "Demir", "Ayşe", dt.date(2012, 1, 2), "F", identifiers=_PASSPORT
    ),
    "arabic": Patient(
        "demo-2",
        "IST",
        "الحلبي",
        "محمد",
        dt.date(1990, 6, 1),
        "M",
        identifiers=(Identifier("N0012345", "PPN", "SY"),),
    ),
    "cjk-cyrillic": Patient(
        "demo-3", "IST", "李", "Анна", dt.date(2001, 2, 3), "U", middle_name="Ли"
    ),
    "delimiters": Patient(
        "demo-4",
        "IST",
        "O'Hara|Smith & Co",
        "A^B~C\\D",
        dt.date(1985, 3, 4),
        "F",
        identifiers=_PASSPORT,
    ),
}
MESSAGES: dict[str, tuple[Patient, list[ImmunizationRecord]]] = {
    "administered-bar-code-vis": (PATIENTS["latin"], [_MMR]),
    "administered-vaccine-type-vis": (PATIENTS["arabic"], [_TD]),
    "every-kind": (PATIENTS["cjk-cyrillic"], [_MMR, _TD, *_HISTORY]),
    "update-and-delete": (
        PATIENTS["delimiters"],
        [
            dataclasses.replace(_MMR, action=Action.UPDATE),
            dataclasses.replace(_HISTORY[0], action=Action.DELETE),
        ],
    ),
}


def check(name: str) -> str:
    """Build one demo message and validate it every way; returns the text, or raises."""
    patient, records = MESSAGES[name]
    text = build_vxu(patient, records, SENDER, RECEIVER, f"DEMO-{name[:12]}", NOW, strict=True)
    validate_strict(text)
    sent = complete(records, registry(), RECEIVER.id, SENDER.id)
    parsed_patient, parsed = parse_vxu(text)
    if (parsed_patient, parsed) != (patient, sent):
        raise Hl7Error.one("VXU_V04", f"{name}: does not read back as it was built")
    problems = check_message(parsed_patient, parsed, SENDER, RECEIVER, "DEMO", NOW, registry())
    if problems:
        raise Hl7Error(problems)
    return text


def main() -> int:
    for name in MESSAGES:
        try:
            text = check(name)
        except Hl7Error as exc:
            print(f"FAIL {name}: {exc}")
            return 1
        print(f"ok   {name}: {text.count(chr(13))} segments, hl7apy STRICT, CDC checks, round trip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
