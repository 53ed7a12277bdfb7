"""Read a VXU^V04 back into our dataclasses: ours (round trip) and registry extracts from others.

hl7apy splits the message (it knows the encoding characters of MSH-2 and the v2.5.1 segments);
we read the fields we need from its segments, tolerantly, and raise `Hl7Error` naming the
segment and field for anything we cannot read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hl7apy.consts import VALIDATION_LEVEL  # type: ignore[import-untyped]
from hl7apy.exceptions import HL7apyException  # type: ignore[import-untyped]
from hl7apy.parser import parse_message  # type: ignore[import-untyped]

from pmha.codes import NO_VACCINE_ADMINISTERED, UNKNOWN_AMOUNT
from pmha.exports.hl7.er7 import parse_date, parse_ts, unescape
from pmha.exports.hl7.errors import Hl7Error, Problem
from pmha.exports.hl7.registry import edition_of, registry
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

_MLLP = "\x0b\x1c\ufeff"


@dataclass
class _Segment:
    """One segment as components: fields[n] = repetitions, each a list of components."""

    name: str
    fields: dict[int, list[list[str]]] = field(default_factory=dict)

    def get(self, position: int, component: int = 1, repetition: int = 0) -> str:
        repetitions = self.fields.get(position, [])
        if repetition >= len(repetitions):
            return ""
        components = repetitions[repetition]
        return components[component - 1] if component <= len(components) else ""


def _segments(text: str) -> list[_Segment]:
    if not isinstance(text, str):
        raise Hl7Error.one("MSH", "is missing: the input is not text")
    text = text.strip(_MLLP + " \t\r\n").replace("\r\n", "\r").replace("\n", "\r")
    if not text.startswith("MSH") or len(text) < 8:
        raise Hl7Error.one("MSH", "is missing: this is not an HL7 v2 message")
    try:
        message: Any = parse_message(
            text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False
        )
    except (HL7apyException, ValueError) as exc:
        raise Hl7Error.one("MSH", f"cannot be read as HL7 v2: {exc}") from None
    chars = message.encoding_chars
    out = []
    for segment in message.children:
        parsed = _Segment(segment.name)
        for child in segment.children:
            position = int(child.name.rsplit("_", 1)[1])
            er7 = child.to_er7()
            components = [
                unescape(c.split(chars["SUBCOMPONENT"])[0], chars)
                for c in er7.split(chars["COMPONENT"])
            ]
            parsed.fields.setdefault(position, []).append(components)
        out.append(parsed)
    return out


def _date(segment: _Segment, position: int, label: str, record: int | None = None) -> dt.date:
    value = segment.get(position)
    try:
        return parse_date(value)
    except ValueError:
        raise Hl7Error.one(
            f"{segment.name}-{position}", f"({label}) is not a date: {value!r}", record
        ) from None


def _patient(pid: _Segment) -> Patient:
    problems = []
    if not pid.get(3):
        problems.append(Problem("PID-3", "(patient identifier) is missing"))
    if not pid.get(5):
        problems.append(Problem("PID-5", "(patient name) is missing"))
    if problems:
        raise Hl7Error(problems)
    others = tuple(
        Identifier(pid.get(3, 1, n), pid.get(3, 5, n), pid.get(3, 4, n))
        for n in range(1, len(pid.fields.get(3, [])))
        if pid.get(3, 1, n)
    )
    return Patient(
        identifier=pid.get(3),
        assigning_authority=pid.get(3, 4),
        identifiers=others,
        family_name=pid.get(5, 1),
        given_name=pid.get(5, 2),
        middle_name=pid.get(5, 3),
        birth_date=_date(pid, 7, "date of birth"),
        sex=pid.get(8) or "U",
    )


def _kind(rxa: _Segment, index: int) -> RecordKind:
    status, cvx = rxa.get(20), rxa.get(5)
    if cvx == NO_VACCINE_ADMINISTERED:
        return RecordKind.EVIDENCE_OF_IMMUNITY
    if status == "RE" or (status == "NA" and rxa.get(18)):
        return RecordKind.REFUSED
    if status == "PA":
        return RecordKind.SUBPOTENT
    if status not in ("", "CP"):
        raise Hl7Error.one("RXA-20", f"(completion status) {status!r} is not supported", index)
    source = rxa.get(9)
    return RecordKind.ADMINISTERED if source in ("", "00") else RecordKind.HISTORICAL


def _vis_document(obx: _Segment, index: int) -> tuple[str, dt.date]:
    """A cdcgs1vis code and its edition: from the registry file, else the code's own date."""
    code = obx.get(5)
    known = registry().documents.get(code)
    edition = known.edition if known is not None else edition_of(code)
    if edition is None:
        raise Hl7Error.one("OBX-5", f"(69764-9 VIS document type) {code!r} is not a cdcgs1vis "
                           "code", index)  # fmt: skip
    return code, edition


_Observed = tuple[tuple[VisDates, ...], int | None, str, str, str, str]


def _observations(rest: list[_Segment], index: int) -> _Observed:
    """The OBX of one order group; a VIS is the group of OBX sharing an OBX-4 sub-id."""
    published: dict[str, dt.date] = {}
    presented: dict[str, dt.date] = {}
    documents: dict[str, str] = {}
    dose_number, disease, disease_name, eligibility, funding = None, "", "", "", ""
    for obx in (s for s in rest if s.name == "OBX"):
        code, sub_id = obx.get(3), obx.get(4)
        if code == "29768-9":
            published[sub_id] = _date(obx, 5, "VIS published", index)
        elif code == "29769-7":
            presented[sub_id] = _date(obx, 5, "VIS presented", index)
        elif code == "69764-9":
            documents[sub_id], edition = _vis_document(obx, index)
            published.setdefault(sub_id, edition)
        elif code == "30973-2" and obx.get(5).isdigit():
            dose_number = int(obx.get(5))
        elif code == "59784-9":
            disease, disease_name = obx.get(5), obx.get(5, 2)
        elif code == "64994-7":
            eligibility = obx.get(5)
        elif code == "30963-3":
            funding = obx.get(5)
    vis = tuple(
        VisDates(day, presented[sub], documents.get(sub, ""))
        for sub, day in published.items()
        if sub in presented
    )
    return vis, dose_number, disease, disease_name, eligibility, funding


def _record(index: int, orc: _Segment, rxa: _Segment, rest: list[_Segment]) -> ImmunizationRecord:
    try:
        occurred = parse_ts(rxa.get(3))
    except ValueError:
        raise Hl7Error.one(
            "RXA-3", f"(date of administration) is not a date: {rxa.get(3)!r}", index
        ) from None
    if not rxa.get(5):
        raise Hl7Error.one("RXA-5", "(administered code) is missing", index)
    amount: Decimal | None = None
    if rxa.get(6) and rxa.get(6) != UNKNOWN_AMOUNT:
        try:
            amount = Decimal(rxa.get(6))
        except InvalidOperation:
            raise Hl7Error.one(
                "RXA-6", f"(amount) is not a number: {rxa.get(6)!r}", index
            ) from None
    action = rxa.get(21) or "A"
    if action not in {a.value for a in Action}:
        raise Hl7Error.one("RXA-21", f"(action code) {action!r} is not A, U or D", index)
    rxr = next((s for s in rest if s.name == "RXR"), None)
    vis, dose_number, disease, disease_name, eligibility, funding = _observations(rest, index)
    provider = None
    if rxa.get(10):
        provider = Provider(rxa.get(10), rxa.get(10, 2), rxa.get(10, 3))
    location = Facility(rxa.get(11, 4)) if rxa.get(11, 4) else None
    return ImmunizationRecord(
        kind=_kind(rxa, index),
        immunization_id=orc.get(3),
        occurred_at=occurred,
        cvx=rxa.get(5),
        vaccine_name=rxa.get(5, 2),
        action=Action(action),
        amount=amount,
        unit=rxa.get(7) if amount is not None else "",
        information_source=rxa.get(9),
        provider=provider,
        location=location,
        lot=rxa.get(15),
        lot_expiry=_date(rxa, 16, "lot expiry", index) if rxa.get(16) else None,
        mvx=rxa.get(17),
        refusal_reason=rxa.get(18),
        route=rxr.get(1) if rxr else "",
        site=rxr.get(2) if rxr else "",
        vis=vis,
        immunity_disease=disease,
        dose_number=dose_number,
        immunity_disease_name=disease_name,
        eligibility=eligibility,
        funding_source=funding,
    )


def parse_vxu(text: str) -> tuple[Patient, list[ImmunizationRecord]]:
    """The patient and the immunizations of one VXU^V04; `Hl7Error` names what is wrong."""
    segments = _segments(text)
    msh = segments[0]
    message_type = msh.get(9)
    if message_type != "VXU" or msh.get(9, 2) not in ("V04", ""):
        found = "^".join(c for c in (msh.get(9), msh.get(9, 2)) if c) or "nothing"
        raise Hl7Error.one("MSH-9", f"(message type) must be VXU^V04, found {found}")
    pids = [s for s in segments if s.name == "PID"]
    if not pids:
        raise Hl7Error.one("PID", "is missing: a VXU names its patient in PID")
    patient = _patient(pids[0])
    records: list[ImmunizationRecord] = []
    orc: _Segment | None = None
    for position, segment in enumerate(segments):
        if segment.name == "ORC":
            orc = segment
        elif segment.name == "RXA":
            rest = []
            for after in segments[position + 1 :]:
                if after.name in ("ORC", "RXA"):
                    break
                rest.append(after)
            records.append(_record(len(records) + 1, orc or _Segment("ORC"), segment, rest))
            orc = None
    return patient, records
