"""What the FHIR R4 builders share: code systems, codings, references, stable ids."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

Resource = dict[str, Any]

CVX = "http://hl7.org/fhir/sid/cvx"
MVX = "http://terminology.hl7.org/CodeSystem/MVX"
V2_0162 = "http://terminology.hl7.org/CodeSystem/v2-0162"  # route of administration
V2_0163 = "http://terminology.hl7.org/CodeSystem/v2-0163"  # body site
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"  # identifier type
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
IMMUNIZATION_ORIGIN = "http://terminology.hl7.org/CodeSystem/immunization-origin"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
DICOM_MODALITY = "http://dicom.nema.org/resources/ontology/DCM"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ISO_COUNTRY = "urn:iso:std:iso:3166"
# PMHA's own code systems: the shared vocabulary's codes (lab tests, outcomes, clearance).
PMHA = "https://pmha.example.org/fhir/CodeSystem"
PMHA_APPLICANT = "https://pmha.example.org/fhir/sid/applicant"
PMHA_IMMUNIZATION = "https://pmha.example.org/fhir/sid/immunization"
NIP001 = f"{PMHA}/cdc-nip001"
NIP002 = f"{PMHA}/cdc-nip002"

# Displays of the codes we send, from their code systems (a Coding leaves with its display).
ORIGIN_DISPLAY = {  # immunization-origin
    "provider": "Other Provider",
    "record": "Written Record",
    "recall": "Parent/Guardian/Patient Recall",
    "school": "School Record",
}
CLINICAL_DISPLAY = {"active": "Active"}  # condition-clinical
VERIFICATION_DISPLAY = {"confirmed": "Confirmed", "provisional": "Provisional"}
IDENTIFIER_TYPE_DISPLAY = {  # v2-0203
    "PPN": "Passport number",
    "NI": "National unique individual identifier",
    "PRC": "Permanent Resident Card Number",
}
MODALITY_DISPLAY = {  # DICOM CID 29 (DCM)
    "CR": "Computed Radiography",
    "DX": "Digital Radiography",
    "OT": "Other",
}
SOP_CLASS_DISPLAY = {  # DICOM PS3.4 storage SOP classes accepted for chest X-rays
    "1.2.840.10008.5.1.4.1.1.1": "Computed Radiography Image Storage",
    "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray Image Storage - For Presentation",
    "1.2.840.10008.5.1.4.1.1.1.1.1": "Digital X-Ray Image Storage - For Processing",
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
}
LOINC_DISPLAY = {  # the IPS section codes, by their LOINC display names
    "11369-6": "History of Immunization Narrative",
    "11450-4": "Problem list - Reported",
    "30954-2": "Relevant diagnostic tests/laboratory data Narrative",
    "8716-3": "Vital signs",
    "18776-5": "Plan of care note",
    "60591-5": "Patient summary Document",
}

_NAMESPACE = uuid.UUID("6f1b7a52-3c0e-4f4e-9d1c-2b8f0d6a9e10")


def stable_id(*parts: object) -> str:
    """A resource id derived from what it describes: the same record gives the same id."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def ref(resource: Resource) -> dict[str, str]:
    """A reference to another resource of the same Bundle, by its full URL."""
    return {"reference": full_url(resource)}


def full_url(resource: Resource) -> str:
    return f"urn:uuid:{resource['id']}"


def date_text(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat(timespec="seconds")
    return value.isoformat()
