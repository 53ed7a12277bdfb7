"""FHIR R4 Immunization from `pmha.exports.immunization` records (the same ones the VXU carries).

Administered: status completed, primarySource true. Historical: primarySource false and
reportOrigin from the NIP001 source. Refused: status not-done with statusReason (PATOBJ, RELIG
for a religious exemption). Sub-potent: completed with isSubpotent. Evidence of immunity:
not-done with statusReason IMMUNE and the disease (SNOMED CT) as reasonCode (CVX 998). A record
marked deleted (sent in HL7 as RXA-21 D) is entered-in-error.

Each vaccine information statement given is an `education` entry. FHIR R4 invariant imm-1 on
Immunization.education ("One of documentType or reference SHALL be present",
`documentType.exists() or reference.exists()`, R4 Immunization, Constraints) holds: documentType is
the VIS bar code (GDTI) when the record has it, else the statement named by vaccine and edition;
its publicationDate and presentationDate follow.
"""

from __future__ import annotations

from typing import Any

from pmha.codes import CVX as CVX_NAMES
from pmha.codes import HL70162, HL70163
from pmha.codes import MVX as MVX_NAMES
from pmha.codes import NIP001 as NIP001_NAMES
from pmha.codes import NIP002 as NIP002_NAMES
from pmha.exports.fhir.common import (
    ACT_REASON,
    CVX,
    IMMUNIZATION_ORIGIN,
    IPS,
    MVX,
    ORIGIN_DISPLAY,
    SNOMED,
    UCUM,
    V2_0162,
    V2_0163,
    Resource,
    coding,
    concept,
    date_text,
    esc,
    local,
    local_id,
    narrative,
    stable_id,
)
from pmha.exports.immunization import Action, ImmunizationRecord, RecordKind

# NIP001 historical source -> immunization-origin (provider, record, recall, school).
_ORIGIN = {
    "02": "provider",
    "03": "record",
    "04": "recall",
    "05": "record",
    "06": "record",
    "07": "school",
    "08": "record",
}
# NIP002 refusal reason -> v3 ActReason: a religious exemption is RELIG, the others objections.
_REFUSAL = {"01": ("RELIG", "religious objection")}
_OBJECTION = ("PATOBJ", "patient objection")


def immunization(record: ImmunizationRecord, patient: Resource) -> Resource:
    """One Immunization resource for `record`, about `patient` (a Patient resource)."""
    vaccine = CVX_NAMES.get(record.cvx, record.vaccine_name)
    res: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": stable_id("Immunization", record.immunization_id),
        "meta": {"profile": [f"{IPS}/Immunization-uv-ips"]},
        "identifier": [{"system": local_id("immunization"), "value": record.immunization_id}],
        "status": "completed",
        "vaccineCode": concept(CVX, record.cvx, vaccine),
        "patient": {"reference": f"urn:uuid:{patient['id']}"},
        "occurrenceDateTime": date_text(record.occurred_at),
        "primarySource": record.kind in (RecordKind.ADMINISTERED, RecordKind.SUBPOTENT),
    }
    if record.kind == RecordKind.REFUSED:
        code, display = _REFUSAL.get(record.refusal_reason, _OBJECTION)
        reason = concept(ACT_REASON, code, display)
        if record.refusal_reason:
            reason["coding"].append(
                coding(
                    local("cdc-nip002"),
                    record.refusal_reason,
                    NIP002_NAMES.get(record.refusal_reason, ""),
                )
            )
        res.update(status="not-done", statusReason=reason)
    elif record.kind == RecordKind.EVIDENCE_OF_IMMUNITY:
        res.update(status="not-done", statusReason=concept(ACT_REASON, "IMMUNE", "immunity"))
        if record.immunity_disease:
            name = record.immunity_disease_name
            res["reasonCode"] = [concept(SNOMED, record.immunity_disease, name)]
    elif record.kind == RecordKind.SUBPOTENT:
        res["isSubpotent"] = True
    if record.action is Action.DELETE:  # marked deleted: kept, but never read as a dose
        res["status"] = "entered-in-error"
    if record.kind == RecordKind.HISTORICAL:
        source = record.information_source
        origin: dict[str, Any] = {
            "coding": [coding(local("cdc-nip001"), source, NIP001_NAMES.get(source, ""))]
        }
        if source in _ORIGIN:
            origin_code = _ORIGIN[source]
            origin["coding"].insert(
                0, coding(IMMUNIZATION_ORIGIN, origin_code, ORIGIN_DISPLAY[origin_code])
            )
        res["reportOrigin"] = origin
    if record.mvx:
        res["manufacturer"] = {
            "identifier": {"system": MVX, "value": record.mvx},
            "display": MVX_NAMES.get(record.mvx, record.mvx),
        }
    if record.lot:
        res["lotNumber"] = record.lot
    if record.lot_expiry is not None:
        res["expirationDate"] = record.lot_expiry.isoformat()
    if record.route:
        res["route"] = concept(V2_0162, record.route, HL70162.get(record.route, ""))
    if record.site:
        res["site"] = concept(V2_0163, record.site, HL70163.get(record.site, ""))
    if record.amount is not None and record.unit:
        res["doseQuantity"] = {
            "value": float(record.amount),
            "unit": record.unit,
            "system": UCUM,
            "code": record.unit,
        }
    if record.provider is not None:
        res["performer"] = [
            {"actor": {"identifier": {"system": local_id("user"), "value": record.provider.id}}}
        ]
    if record.location is not None:
        res["location"] = {"display": record.location.name or record.location.id}
    if record.vis:
        res["education"] = [
            {
                "documentType": getattr(v, "document", "")
                or f"Vaccine Information Statement, {vaccine}, edition {v.published.isoformat()}",
                "publicationDate": v.published.isoformat(),
                "presentationDate": v.presented.isoformat(),
            }
            for v in record.vis
        ]
    if record.dose_number is not None:
        res["protocolApplied"] = [{"doseNumberPositiveInt": record.dose_number}]
    when = date_text(record.occurred_at)
    res["text"] = narrative(
        f"<p>{esc(vaccine)} (CVX {esc(record.cvx)}), {esc(when)}: {esc(res['status'])}</p>"
    )
    return res
