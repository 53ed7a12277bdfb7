"""Write a VXU^V04 as ER7 text, segment by segment, escaping every value we did not write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from pmha.exports.codes import HL70162, HL70163, MVX, NIP001, NIP002, UNKNOWN_AMOUNT
from pmha.exports.hl7.er7 import SEGMENT_SEPARATOR, escape, format_date, format_ts
from pmha.exports.immunization import Facility, ImmunizationRecord, Patient, RecordKind

PROFILE = "Z22^CDCPHINVS"
MESSAGE_TYPE = "VXU^V04^VXU_V04"

COMPLETION_STATUS = {
    RecordKind.ADMINISTERED: "CP",
    RecordKind.HISTORICAL: "CP",
    RecordKind.REFUSED: "RE",
    RecordKind.SUBPOTENT: "PA",
    RecordKind.EVIDENCE_OF_IMMUNITY: "NA",
}
VIS_PUBLISHED = "29768-9^Date vaccine information statement published^LN"
VIS_PRESENTED = "29769-7^Date vaccine information statement presented^LN"
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
        f"MSH|^~\\&|{app}|{fac}|{r_app}|{r_fac}|{format_ts(now)}||{MESSAGE_TYPE}|"
        f"{escape(control_id)}|P|2.5.1|||ER|AL|||||{PROFILE}"
    )


def pid(patient: Patient) -> str:
    # XPN: family ^ given ^ middle ^ suffix ^ prefix ^ degree ^ name type (L = legal)
    name = (
        f"{escape(patient.family_name)}^{escape(patient.given_name)}"
        f"^{escape(patient.middle_name)}^^^^L"
    )
    return (
        f"PID|1||{escape(patient.identifier)}^^^{escape(patient.assigning_authority)}^MR||"
        f"{name}||{format_date(patient.birth_date)}|{patient.sex}"
    )


def order_group(record: ImmunizationRecord, sender: Facility) -> list[str]:
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
    obx = 0
    sub_id = 0
    for vis in record.vis:
        sub_id += 1
        for code, day in ((VIS_PUBLISHED, vis.published), (VIS_PRESENTED, vis.presented)):
            obx += 1
            segments.append(f"OBX|{obx}|TS|{code}|{sub_id}|{format_date(day)}||||||F")
    if record.dose_number is not None:
        obx += 1
        sub_id += 1
        segments.append(f"OBX|{obx}|NM|{DOSE_NUMBER}|{sub_id}|{record.dose_number}||||||F")
    if record.immunity_disease:
        obx += 1
        sub_id += 1
        code = escape(record.immunity_disease)
        text = escape(record.immunity_disease_name)
        segments.append(f"OBX|{obx}|CE|{IMMUNITY}|{sub_id}|{code}^{text}^SCT||||||F")
    return segments


def vxu_text(
    patient: Patient,
    records: Sequence[ImmunizationRecord],
    sender: Facility,
    receiver: Facility,
    control_id: str,
    now: dt.datetime,
) -> str:
    segments = [msh(sender, receiver, control_id, now), pid(patient)]
    for record in records:
        segments += order_group(record, sender)
    return SEGMENT_SEPARATOR.join(segments) + SEGMENT_SEPARATOR
