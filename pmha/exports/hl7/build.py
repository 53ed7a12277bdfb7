"""Write a VXU^V04 as ER7 text, segment by segment, escaping every value we did not write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from pmha.codes import (
    CVX,
    ELIGIBILITY_PER_IMMUNIZATION,
    FUNDING_SOURCE,
    HL70064,
    HL70162,
    HL70163,
    MVX,
    NIP001,
    NIP002,
    UNKNOWN_AMOUNT,
)
from pmha.exports.hl7.er7 import SEGMENT_SEPARATOR, escape, format_date, format_ts
from pmha.exports.hl7.registry import Registry
from pmha.exports.immunization import Facility, ImmunizationRecord, Patient, RecordKind

PROFILE = "Z22^CDCPHINVS"
MESSAGE_TYPE = "VXU^V04^VXU_V04"
VERSION = "2.5.1"
# MSH-18: names arrive in any script; the message is UTF-8 and says so (HL70211).
CHARACTER_SET = "UNICODE UTF-8"

COMPLETION_STATUS = {
    RecordKind.ADMINISTERED: "CP",
    RecordKind.HISTORICAL: "CP",
    RecordKind.REFUSED: "RE",
    RecordKind.SUBPOTENT: "PA",
    RecordKind.EVIDENCE_OF_IMMUNITY: "NA",
}
VIS_PUBLISHED = "29768-9^Date vaccine information statement published^LN"
VIS_PRESENTED = "29769-7^Date vaccine information statement presented^LN"
VIS_DOCUMENT = "69764-9^Document type^LN"
VACCINE_TYPE = "30956-7^Vaccine type^LN"
ELIGIBILITY = "64994-7^Vaccine funding program eligibility category^LN"
FUNDING = "30963-3^Vaccine funding source^LN"
DOSE_NUMBER = "30973-2^Dose number in series^LN"
IMMUNITY = "59784-9^Disease with presumed immunity^LN"


def _hd(facility: Facility) -> tuple[str, str]:
    return escape(facility.application), escape(facility.id)


def _amount(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def msh(sender: Facility, receiver: Facility, control_id: str, now: dt.datetime) -> str:
    app, fac = _hd(sender)
    r_app, r_fac = _hd(receiver)
    return (
        f"MSH|^~\\&|{app}|{fac}|{r_app}|{r_fac}|{format_ts(now, seconds=True)}||{MESSAGE_TYPE}|"
        f"{escape(control_id)}|P|{VERSION}|||ER|AL||{CHARACTER_SET}|||{PROFILE}"
    )


def pid(patient: Patient) -> str:
    # XPN: family ^ given ^ middle ^ suffix ^ prefix ^ degree ^ name type (L = legal)
    name = (
        f"{escape(patient.family_name)}^{escape(patient.given_name)}"
        f"^{escape(patient.middle_name)}^^^^L"
    )
    # CX: id ^ check digit ^ scheme ^ assigning authority ^ identifier type (HL70203)
    ids = [f"{escape(patient.identifier)}^^^{escape(patient.assigning_authority)}^MR"]
    ids += [
        f"{escape(i.value)}^^^{escape(i.assigning_authority)}^{escape(i.type_code)}"
        for i in patient.identifiers
    ]
    return f"PID|1||{'~'.join(ids)}||{name}||{format_date(patient.birth_date)}|{patient.sex}"


def _observations(record: ImmunizationRecord, documents: Registry | None) -> list[str]:
    """OBX-2 ^ OBX-3 ^ OBX-5 ^ OBX-14 ^ OBX-17 per observation, grouped by OBX-4 sub-id, before
    numbering: funding source and eligibility, then each VIS, dose number, presumed immunity."""
    day = format_date(record.occurred_at if not isinstance(record.occurred_at, dt.datetime)
                      else record.occurred_at.date())  # fmt: skip
    groups: list[list[tuple[str, str, str, str, str]]] = []
    if record.funding_source:
        name = escape(FUNDING_SOURCE.get(record.funding_source, ""))
        value = f"{escape(record.funding_source)}^{name}^CDCPHINVS"
        groups.append([("CE", FUNDING, value, day, "")])
    if record.eligibility:
        name = escape(HL70064.get(record.eligibility, ""))
        method = "{}^{}^CDCPHINVS".format(*ELIGIBILITY_PER_IMMUNIZATION)
        value = f"{escape(record.eligibility)}^{name}^HL70064"
        groups.append([("CE", ELIGIBILITY, value, day, method)])
    for vis in record.vis:
        document = documents.documents.get(vis.document) if documents and vis.document else None
        presented = ("TS", VIS_PRESENTED, format_date(vis.presented), day, "")
        if vis.document:
            title = escape(document.name) if document else ""
            value = f"{escape(vis.document)}^{title}^cdcgs1vis"
            groups.append([("CE", VIS_DOCUMENT, value, day, ""), presented])
        else:
            vaccine = f"{record.cvx}^{escape(CVX.get(record.cvx, record.vaccine_name))}^CVX"
            groups.append(
                [
                    ("CE", VACCINE_TYPE, vaccine, day, ""),
                    ("TS", VIS_PUBLISHED, format_date(vis.published), day, ""),
                    presented,
                ]
            )
    if record.dose_number is not None:
        groups.append([("NM", DOSE_NUMBER, str(record.dose_number), "", "")])
    if record.immunity_disease:
        code = escape(record.immunity_disease)
        text = escape(record.immunity_disease_name)
        groups.append([("CE", IMMUNITY, f"{code}^{text}^SCT", "", "")])
    segments: list[str] = []
    for sub_id, group in enumerate(groups, start=1):
        for kind, code, value, when, method in group:
            fields = ["OBX", str(len(segments) + 1), kind, code, str(sub_id), value]
            fields += [""] * 5 + ["F"]  # OBX-6..10, OBX-11 result status
            if when or method:
                fields += ["", "", when]  # OBX-14 date of the observation
            if method:
                fields += ["", "", method]  # OBX-17 observation method
            segments.append("|".join(fields))
    return segments


def order_group(
    record: ImmunizationRecord, sender: Facility, documents: Registry | None = None
) -> list[str]:
    """ORC, RXA, [RXR] and the OBX observations for one record (BRIEF §8.3)."""
    kind = record.kind
    when = format_ts(record.occurred_at)
    fields = ["RXA", "0", "1", when, when]
    fields.append(f"{record.cvx}^{escape(record.vaccine_name)}^CVX")
    if record.amount is None:
        fields += [UNKNOWN_AMOUNT, ""]
    else:
        unit = escape(record.unit)
        fields += [_amount(record.amount), f"{unit}^{unit}^UCUM"]
    fields.append("")  # RXA-8 dosage form
    source = record.information_source
    fields.append(f"{source}^{NIP001[source]}^NIP001" if source in NIP001 else "")
    provider = record.provider
    if provider is None:
        fields.append("")
    else:
        fields.append(
            f"{escape(provider.id)}^{escape(provider.family_name)}^{escape(provider.given_name)}"
        )
    location = record.location
    fields.append(f"^^^{escape(location.id)}" if location is not None else "")
    fields += ["", "", ""]  # RXA-12..14
    fields.append(escape(record.lot))
    fields.append(format_date(record.lot_expiry) if record.lot_expiry else "")
    fields.append(f"{record.mvx}^{escape(MVX[record.mvx])}^MVX" if record.mvx in MVX else "")
    reason = record.refusal_reason
    fields.append(f"{reason}^{NIP002[reason]}^NIP002" if reason in NIP002 else "")
    fields += ["", COMPLETION_STATUS[kind], record.action.value]

    segments = [f"ORC|RE||{escape(record.immunization_id)}^{escape(sender.id)}", "|".join(fields)]
    if record.route or record.site:
        route = f"{record.route}^{HL70162[record.route]}^HL70162" if record.route else ""
        site = f"{record.site}^{HL70163[record.site]}^HL70163" if record.site else ""
        segments.append(f"RXR|{route}|{site}" if site else f"RXR|{route}")
    return segments + _observations(record, documents)


def vxu_text(
    patient: Patient,
    records: Sequence[ImmunizationRecord],
    sender: Facility,
    receiver: Facility,
    control_id: str,
    now: dt.datetime,
    documents: Registry | None = None,
) -> str:
    segments = [msh(sender, receiver, control_id, now), pid(patient)]
    for record in records:
        segments += order_group(record, sender, documents)
    return SEGMENT_SEPARATOR.join(segments) + SEGMENT_SEPARATOR
