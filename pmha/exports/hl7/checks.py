"""The CDC profile's conformance rules, checked on our dataclasses before any text is written.

Rules from BRIEF §8.2-8.3 (CDC IG release 1.5 and its 2018 update [S37a], the NIST test
messages [S37b]); code tables from `pmha.codes`. Every problem is collected, so that one
`Hl7Error` names them all; `build_vxu` (and so the export job) refuses a message with any.
tests/exports/test_vxu_conformance.py lists each rule with the guide's place for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from pmha.codes import (
    CVX,
    FUNDING_SOURCE,
    HL70064,
    HL70162,
    HL70163,
    HL70203,
    MVX,
    NIP001,
    NIP002,
    NO_VACCINE_ADMINISTERED,
    SEXES,
)
from pmha.exports.hl7.errors import Problem
from pmha.exports.hl7.registry import REGISTRY_FILE, Registry, edition_of, given_here
from pmha.exports.immunization import Facility, ImmunizationRecord, Patient, RecordKind

_SNOMED = re.compile(r"^\d{6,18}$")
_COUNTRY = re.compile(r"^[A-Z]{2,3}$")  # ISO 3166 alpha-2 or alpha-3: a passport's issuer
_RULE_FILE = f"country_rules/{REGISTRY_FILE.parent.name}/{REGISTRY_FILE.name}"
_GIVEN_HERE = {RecordKind.ADMINISTERED, RecordKind.SUBPOTENT}
_NO_AMOUNT = {RecordKind.HISTORICAL, RecordKind.REFUSED, RecordKind.EVIDENCE_OF_IMMUNITY}
_KIND_WORDS = {
    RecordKind.ADMINISTERED: "an administered dose",
    RecordKind.HISTORICAL: "a historical dose",
    RecordKind.REFUSED: "a refusal",
    RecordKind.SUBPOTENT: "a sub-potent dose",
    RecordKind.EVIDENCE_OF_IMMUNITY: "evidence of immunity",
}


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _after(value: dt.date | dt.datetime, now: dt.datetime) -> bool:
    if isinstance(value, dt.datetime) and (value.tzinfo is None) == (now.tzinfo is None):
        return value > now
    return _day(value) > now.date()


def check_header(sender: Facility, receiver: Facility, control_id: str) -> list[Problem]:
    problems = []
    if not sender.id:
        problems.append(Problem("MSH-4", "(sending facility) is required"))
    if not receiver.id:
        problems.append(Problem("MSH-6", "(receiving facility) is required"))
    if not control_id:
        problems.append(Problem("MSH-10", "(message control id) is required"))
    elif len(control_id) > 20:
        problems.append(Problem("MSH-10", "(message control id) is longer than 20 characters"))
    return problems


def check_patient(patient: Patient, now: dt.datetime) -> list[Problem]:
    problems = []
    if not patient.identifier:
        problems.append(Problem("PID-3", "(patient identifier) is required"))
    if not patient.assigning_authority:
        problems.append(Problem("PID-3.4", "(assigning authority) is required"))
    if not patient.family_name:
        problems.append(Problem("PID-5.1", "(family name) is required"))
    if not patient.given_name:
        problems.append(Problem("PID-5.2", "(given name) is required"))
    if patient.birth_date > now.date():
        problems.append(Problem("PID-7", "(date of birth) is in the future"))
    if patient.sex not in SEXES:
        problems.append(Problem("PID-8", f"(sex) must be F, M or U, not {patient.sex!r}"))
    seen = {("MR", patient.identifier)}
    for other in patient.identifiers:
        if not other.value:
            problems.append(Problem("PID-3.1", "(identifier) is empty in a repetition"))
        if other.type_code not in HL70203:
            problems.append(
                Problem("PID-3.5", f"(identifier type) {other.type_code!r} is not an HL70203 code")
            )
        if not other.assigning_authority:
            problems.append(Problem("PID-3.4", "(assigning authority) is required"))
        elif other.type_code == "PPN" and not _COUNTRY.match(other.assigning_authority):
            problems.append(
                Problem("PID-3.4", "(assigning authority) of a passport is its issuing country")
            )
        if (other.type_code, other.value) in seen:
            problems.append(Problem("PID-3", "(patient identifier) is repeated"))
        seen.add((other.type_code, other.value))
    return problems


def _check_funding(
    record: ImmunizationRecord, what: str, destination: str, bad: Callable[[str, str], None]
) -> None:
    """OBX 64994-7 and 30963-3: both on a dose given here, neither on any other record."""
    if not given_here(record):
        if record.eligibility:
            bad("OBX-5", f"(64994-7 funding program eligibility) is not for {what}")
        if record.funding_source:
            bad("OBX-5", f"(30963-3 funding source) is not for {what}")
        return
    if not record.eligibility:
        bad("OBX-5", f"(64994-7 funding program eligibility) is required for {what}: set "
            f"`eligibility` for destination {destination!r} in {_RULE_FILE}")  # fmt: skip
    elif record.eligibility not in HL70064:
        bad("OBX-5", f"(64994-7 funding program eligibility) {record.eligibility!r} is not "
            "an HL70064 code")  # fmt: skip
    if not record.funding_source:
        bad("OBX-5", f"(30963-3 funding source) is required for {what}: set "
            f"`funding_source` for destination {destination!r} in {_RULE_FILE}")  # fmt: skip
    elif record.funding_source not in FUNDING_SOURCE:
        bad("OBX-5", f"(30963-3 funding source) {record.funding_source!r} is not a CDCPHINVS "
            "funding source code")  # fmt: skip


def _check_vis(
    record: ImmunizationRecord,
    now: dt.datetime,
    found: Registry | None,
    bad: Callable[[str, str], None],
) -> None:
    for vis in record.vis:
        if vis.presented > now.date():
            bad("OBX-5", "(29769-7 VIS presented) is in the future")
        if vis.published > vis.presented:
            bad("OBX-5", "(29768-9 VIS published) is after the day it was presented")
        if not vis.document:
            continue
        known = found.documents.get(vis.document) if found is not None else None
        edition = known.edition if known is not None else edition_of(vis.document)
        if edition is None:
            bad("OBX-5", f"(69764-9 VIS document type) {vis.document!r} is not a cdcgs1vis code")
        elif edition != vis.published:
            bad("OBX-5", f"(69764-9 VIS document type) is the edition of {edition.isoformat()}, "
                f"not of {vis.published.isoformat()}")  # fmt: skip
        elif known is not None and known.cvx and record.cvx not in known.cvx:
            bad("OBX-5", f"(69764-9 VIS document type) {known.name!r} is not the VIS of CVX "
                f"{record.cvx}")  # fmt: skip


def check_record(
    index: int,
    record: ImmunizationRecord,
    patient: Patient,
    now: dt.datetime,
    found: Registry | None = None,
    destination: str = "",
) -> list[Problem]:
    """Every rule one record breaks; `index` is 1-based."""
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(field, message, index))

    kind, what = record.kind, _KIND_WORDS[record.kind]
    given_here = kind in _GIVEN_HERE and record.information_source == "00"
    if not record.immunization_id:
        bad("ORC-3", "(unique immunization id) is required")
    if _after(record.occurred_at, now):
        bad("RXA-3", "(date of administration) is in the future")
    elif _day(record.occurred_at) < patient.birth_date:
        bad("RXA-3", "(date of administration) is before the date of birth")
    if record.cvx not in CVX:
        bad("RXA-5", f"(CVX code) {record.cvx!r} is not a known CVX code")
    elif (record.cvx == NO_VACCINE_ADMINISTERED) != (kind is RecordKind.EVIDENCE_OF_IMMUNITY):
        bad("RXA-5", "(CVX code) 998 is used for evidence of immunity, and only for it")
    if kind in _NO_AMOUNT and record.amount is not None:
        bad("RXA-6", f"(amount) must be 999 (unknown) for {what}")
    if kind in _GIVEN_HERE:
        if record.amount is None or record.amount <= 0:
            bad("RXA-6", f"(amount) is required for {what}")
        if not record.unit:
            bad("RXA-7", f"(units) are required for {what}")
    source = record.information_source
    if kind is RecordKind.HISTORICAL and source not in NIP001.keys() - {"00"}:
        bad(
            "RXA-9",
            "(information source) must be an NIP001 code from 01 to 08 for a historical dose",
        )
    elif kind in _GIVEN_HERE and source not in NIP001:
        bad("RXA-9", f"(information source) must be an NIP001 code for {what}")
    elif kind is RecordKind.ADMINISTERED and source != "00":
        bad("RXA-9", "(information source) must be 00 for an administered dose")
    elif source and source not in NIP001:
        bad("RXA-9", f"(information source) {source!r} is not an NIP001 code")
    if given_here and not record.lot:
        bad("RXA-15", f"(lot) is required for {what}")
    if (
        record.lot_expiry is not None
        and given_here
        and record.lot_expiry < _day(record.occurred_at)
    ):
        bad("RXA-16", "(lot expiry) is before the date of administration: the lot had expired")
    if record.mvx and record.mvx not in MVX:
        bad("RXA-17", f"(manufacturer) {record.mvx!r} is not a known MVX code")
    elif given_here and not record.mvx:
        bad("RXA-17", f"(manufacturer) is required for {what}")
    if kind is RecordKind.REFUSED:
        if record.refusal_reason not in NIP002:
            bad("RXA-18", "(refusal reason) must be an NIP002 code for a refusal")
    elif record.refusal_reason:
        bad("RXA-18", f"(refusal reason) is only for a refusal, not for {what}")
    if given_here and not record.route:
        bad("RXR-1", f"(route) is required for {what}")
    if record.route and record.route not in HL70162:
        bad("RXR-1", f"(route) {record.route!r} is not an HL70162 code")
    if record.site and record.site not in HL70163:
        bad("RXR-2", f"(site) {record.site!r} is not an HL70163 code")
    if (record.route or record.site) and kind not in _GIVEN_HERE:
        bad("RXR", f"(route and site) are only sent for a dose given, not for {what}")
    if kind is RecordKind.EVIDENCE_OF_IMMUNITY:
        if not _SNOMED.match(record.immunity_disease):
            bad("OBX-5", "(59784-9 disease with presumed immunity) needs a SNOMED CT code")
        elif not record.immunity_disease_name:
            bad("OBX-5", f"(59784-9 disease with presumed immunity) {record.immunity_disease!r} "
                "is not an evidence-of-immunity code we know the name of")  # fmt: skip
    elif record.immunity_disease:
        bad("OBX-5", f"(59784-9 disease with presumed immunity) is not for {what}")
    _check_funding(record, what, destination, bad)
    _check_vis(record, now, found, bad)
    if record.dose_number is not None and record.dose_number < 1:
        bad("OBX-5", "(30973-2 dose number) must be 1 or more")
    return problems


def check_message(
    patient: Patient,
    records: Sequence[ImmunizationRecord],
    sender: Facility,
    receiver: Facility,
    control_id: str,
    now: dt.datetime,
    found: Registry | None = None,
) -> list[Problem]:
    """Every rule the message breaks; `found` (the registry file) names the VIS documents."""
    problems = check_header(sender, receiver, control_id) + check_patient(patient, now)
    if not records:
        problems.append(Problem("RXA", "at least one immunization is required in a VXU"))
    seen: set[str] = set()
    for index, record in enumerate(records, start=1):
        problems += check_record(index, record, patient, now, found, receiver.id)
        if record.immunization_id in seen:
            problems.append(Problem("ORC-3", "(unique immunization id) is repeated", index))
        seen.add(record.immunization_id)
    return problems
