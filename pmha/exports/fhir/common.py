"""What the FHIR R4 builders share: code systems, codings, references, stable ids."""

from __future__ import annotations

import datetime as dt
import html
import os
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app, has_app_context

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
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LIST_EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
XHTML = "http://www.w3.org/1999/xhtml"
IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition"  # IPS IG 2.0.0 profiles
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


def code_system_base() -> str:
    """Where PMHA's own code systems and identifier systems live: CODE_SYSTEM_BASE (env
    PMHA_CODE_SYSTEM_BASE) when set, else the centre's own PUBLIC_URL followed by /fhir. One
    place, so that a centre names them under a domain it owns."""
    base = os.environ.get("PMHA_CODE_SYSTEM_BASE", "")
    public = os.environ.get("PMHA_PUBLIC_URL", "") or DEFAULT_PUBLIC_URL
    if has_app_context():
        config = current_app.extensions.get("pmha.config")
        base = str(getattr(config, "CODE_SYSTEM_BASE", "") or base)
        public = str(getattr(config, "PUBLIC_URL", "") or public)
    return (base or f"{public.rstrip('/')}/fhir").rstrip("/")


def local(name: str) -> str:
    """One of PMHA's own code systems (the shared vocabulary's codes: outcomes, clearance...)."""
    return f"{code_system_base()}/CodeSystem/{name}"


def local_id(name: str) -> str:
    """One of PMHA's own identifier systems (applicants, immunization records, sites)."""
    return f"{code_system_base()}/sid/{name}"


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


def narrative(div: str) -> dict[str, str]:
    """A generated Narrative: `div` is XHTML content (already escaped) for one <div>."""
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{div}</div>'}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """An XHTML table (escaped) for a section's or a resource's narrative."""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def display_of(value: dict[str, Any]) -> str:
    """A CodeableConcept in words: its text, else its first coding's display or code."""
    if value.get("text"):
        return str(value["text"])
    for c in value.get("coding", []):
        return str(c.get("display") or c.get("code") or "")
    return ""
