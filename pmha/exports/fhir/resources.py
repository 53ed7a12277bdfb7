"""FHIR R4 resources for a traveller's summary, in the International Patient Summary style.

The builders take our own plain values (no ORM objects) and return dicts; `bundle` wraps them in
a document Bundle whose first entry is the Composition, as IPS does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pycountry

from pmha.exports.fhir.common import (
    CLINICAL_DISPLAY,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DIAGNOSTIC_SERVICE,
    DICOM_MODALITY,
    IDENTIFIER_TYPE_DISPLAY,
    ISO_COUNTRY,
    LOINC,
    LOINC_DISPLAY,
    MODALITY_DISPLAY,
    OBSERVATION_CATEGORY,
    PMHA,
    PMHA_APPLICANT,
    SOP_CLASS_DISPLAY,
    UCUM,
    V2_0203,
    VERIFICATION_DISPLAY,
    Resource,
    coding,
    concept,
    date_text,
    full_url,
    ref,
    stable_id,
)

_GENDER = {"female": "female", "male": "male"}
_DOCUMENT_TYPE = {"passport": "PPN", "national_id": "NI", "refugee_id": "PRC"}

# Vital signs: LOINC codes of the FHIR vital signs profile, with their UCUM units.
VITALS: dict[str, tuple[str, str, str]] = {
    "temperature_c": ("8310-5", "Body temperature", "Cel"),
    "pulse_bpm": ("8867-4", "Heart rate", "/min"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "systolic_mmhg": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic_mmhg": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "spo2_percent": ("59408-5", "Oxygen saturation", "%"),
    "height_cm": ("8302-2", "Body height", "cm"),
    "weight_kg": ("29463-7", "Body weight", "kg"),
}


@dataclass(frozen=True)
class Traveller:
    id: str
    family_name: str
    given_names: str
    birth_date: dt.date
    sex: str
    nationality: str
    documents: tuple[tuple[str, str, str], ...] = ()  # (type, number, issuing country)
    original_name: str = ""


@dataclass(frozen=True)
class LabResult:
    id: str
    code: str
    name: str
    value: str
    value_name: str
    date: dt.date
    specimen: int = 1
    # "preliminary" while the values settle nothing and a physician has yet to decide.
    status: str = "final"


@dataclass(frozen=True)
class Classification:
    kind: str  # tb_class, syphilis, mental_health, ...
    kind_name: str
    value: str
    value_name: str
    status: str  # final or pending
    date: dt.date | None = None


@dataclass(frozen=True)
class ChestXray:
    study_uid: str
    series_uid: str
    instance_uid: str
    sop_class_uid: str
    modality: str
    acquired_on: dt.date | None
    file_name: str  # the DICOM file's name inside the bundle
    decision: str = ""  # normal, other_abnormality, suggestive_of_tb ("" if not read yet)
    findings: tuple[str, ...] = ()
    read_at: dt.datetime | None = None
    decision_name: str = ""  # the decision in words


@dataclass(frozen=True)
class Clearance:
    status: str
    status_name: str
    decided_at: dt.datetime
    rules_version: str
    conditions: tuple[str, ...] = ()
    follow_up: tuple[str, ...] = field(default=())  # what the destination should do on arrival


def country_name(code: str) -> str:
    """The ISO 3166 name of a country code ("" when the code is not one)."""
    found = pycountry.countries.get(alpha_2=code)
    return "" if found is None else str(found.name)


def patient(t: Traveller) -> Resource:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": stable_id("Patient", t.id),
        "identifier": [{"system": PMHA_APPLICANT, "value": t.id}],
        "name": [{"use": "official", "family": t.family_name, "given": t.given_names.split()}],
        "gender": _GENDER.get(t.sex, "unknown"),
        "birthDate": t.birth_date.isoformat(),
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
                "extension": [
                    {
                        "url": "code",
                        "valueCodeableConcept": concept(
                            ISO_COUNTRY, t.nationality, country_name(t.nationality)
                        ),
                    }
                ],
            }
        ],
    }
    if t.original_name:
        res["name"].append({"use": "usual", "text": t.original_name})
    for kind, number, country in t.documents:
        code = _DOCUMENT_TYPE.get(kind, "PPN")
        res["identifier"].append(
            {
                "type": concept(V2_0203, code, IDENTIFIER_TYPE_DISPLAY[code], text=kind),
                "system": f"urn:pmha:document:{kind}:{country}",
                "value": number,
            }
        )
    return res


def lab_observation(result: LabResult, subject: Resource) -> Resource:
    return {
        "resourceType": "Observation",
        "id": stable_id("Observation", result.id),
        "status": result.status,
        "category": [concept(OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
        "code": concept(f"{PMHA}/lab", result.code, result.name),
        "subject": ref(subject),
        "effectiveDateTime": result.date.isoformat(),
        "valueCodeableConcept": concept(f"{PMHA}/result", result.value, result.value_name),
        **({"specimen": {"display": f"specimen {result.specimen}"}} if result.specimen > 1 else {}),
    }


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": float(value), "unit": unit, "system": UCUM, "code": unit}


def vital_observations(
    section_id: str, vitals: dict[str, Any], taken: dt.datetime, subject: Resource
) -> list[Resource]:
    """One Observation per vital sign (FHIR vital signs profile codes); the blood pressure as
    one panel (85354-9) with its systolic and diastolic components."""

    def observation(name: str, loinc: str, display: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": stable_id("Observation", section_id, name),
            "status": "final",
            "category": [concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
            "code": concept(LOINC, loinc, display),
            "subject": ref(subject),
            "effectiveDateTime": date_text(taken),
        }

    out = []
    for name, (loinc, display, unit) in VITALS.items():
        if vitals.get(name) is None or name in ("systolic_mmhg", "diastolic_mmhg"):
            continue
        out.append(
            {**observation(name, loinc, display), "valueQuantity": _quantity(vitals[name], unit)}
        )
    pressure = [n for n in ("systolic_mmhg", "diastolic_mmhg") if vitals.get(n) is not None]
    if pressure:
        panel = observation("blood_pressure", "85354-9", "Blood pressure panel")
        panel["component"] = [
            {
                "code": concept(LOINC, VITALS[n][0], VITALS[n][1]),
                "valueQuantity": _quantity(vitals[n], VITALS[n][2]),
            }
            for n in pressure
        ]
        out.append(panel)
    return out


def condition(c: Classification, subject: Resource) -> Resource:
    verification = "confirmed" if c.status == "final" else "provisional"
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": stable_id("Condition", subject["id"], c.kind),
        "clinicalStatus": concept(CONDITION_CLINICAL, "active", CLINICAL_DISPLAY["active"]),
        "verificationStatus": concept(
            CONDITION_VERIFICATION, verification, VERIFICATION_DISPLAY[verification]
        ),
        "category": [concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
        "code": {
            "coding": [coding(f"{PMHA}/{c.kind}", c.value, c.value_name)],
            "text": f"{c.kind_name}: {c.value_name}",
        },
        "subject": ref(subject),
    }
    if c.date is not None:
        res["recordedDate"] = c.date.isoformat()
    return res


def imaging(x: ChestXray, subject: Resource) -> tuple[Resource, Resource | None]:
    """The ImagingStudy for the DICOM file, and its DiagnosticReport once it was read."""
    modality = coding(DICOM_MODALITY, x.modality, MODALITY_DISPLAY.get(x.modality, ""))
    study: dict[str, Any] = {
        "resourceType": "ImagingStudy",
        "id": stable_id("ImagingStudy", x.study_uid),
        "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:{x.study_uid}"}],
        "status": "available",
        "subject": ref(subject),
        "modality": [modality],
        "numberOfSeries": 1,
        "numberOfInstances": 1,
        "series": [
            {
                "uid": x.series_uid,
                "modality": modality,
                "bodySite": coding("http://snomed.info/sct", "51185008", "Thoracic structure"),
                "instance": [
                    {
                        "uid": x.instance_uid,
                        "sopClass": coding(
                            "urn:ietf:rfc:3986",
                            f"urn:oid:{x.sop_class_uid}",
                            SOP_CLASS_DISPLAY.get(x.sop_class_uid, ""),
                        ),
                    }
                ],
            }
        ],
        "description": f"Chest X-ray; original DICOM file {x.file_name}",
    }
    if x.acquired_on is not None:
        study["started"] = x.acquired_on.isoformat()
    if not x.decision:
        return study, None
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": stable_id("DiagnosticReport", x.study_uid),
        "status": "final",
        "category": [concept(DIAGNOSTIC_SERVICE, "RAD", "Radiology")],
        "code": concept(f"{PMHA}/report", "chest_xray_reading", "Chest X-ray reading (DS-3030)"),
        "subject": ref(subject),
        "imagingStudy": [ref(study)],
        "conclusionCode": [concept(f"{PMHA}/chest-xray-decision", x.decision, x.decision_name)],
        "conclusion": ", ".join(x.findings) or "no findings",
    }
    if x.read_at is not None:
        report["issued"] = date_text(x.read_at)
        report["effectiveDateTime"] = date_text(x.read_at)
    return study, report


def clearance(c: Clearance, subject: Resource) -> Resource:
    return {
        "resourceType": "Observation",
        "id": stable_id("Observation", subject["id"], "clearance"),
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "exam", "Exam")],
        "code": concept(f"{PMHA}/observation", "clearance", "Medical clearance for travel"),
        "subject": ref(subject),
        "effectiveDateTime": date_text(c.decided_at),
        "valueCodeableConcept": concept(f"{PMHA}/clearance", c.status, c.status_name),
        "note": [{"text": f"rules {c.rules_version}"}, *({"text": t} for t in c.conditions)],
    }


def follow_up(c: Clearance, subject: Resource) -> Resource | None:
    """What the receiving authority should do after arrival (none: no CarePlan)."""
    if not c.follow_up:
        return None
    return {
        "resourceType": "CarePlan",
        "id": stable_id("CarePlan", subject["id"], "follow_up"),
        "status": "active",
        "intent": "plan",
        "title": "Post-arrival follow-up",
        "subject": ref(subject),
        "activity": [{"detail": {"status": "not-started", "description": t}} for t in c.follow_up],
    }


# IPS sections (LOINC): which resources each lists. Imaging goes with the results, as in IPS.
SECTIONS = (
    ("Immunizations", "11369-6", ("Immunization",)),
    ("Problem list", "11450-4", ("Condition",)),
    ("Results", "30954-2", ("Observation:laboratory", "DiagnosticReport", "ImagingStudy")),
    ("Vital signs", "8716-3", ("Observation:vital-signs",)),
    ("Plan of care", "18776-5", ("Observation:exam", "CarePlan")),
)


def _section_of(resource: Resource) -> str:
    kind = str(resource["resourceType"])
    if kind == "Observation":
        return f"{kind}:{resource['category'][0]['coding'][0]['code']}"
    return kind


def composition(
    subject: Resource, entries: Sequence[Resource], sender: str, at: dt.datetime
) -> Resource:
    sections: list[dict[str, Any]] = []
    for title, loinc, keys in SECTIONS:
        refs = [ref(r) for r in entries if _section_of(r) in keys]
        if refs:
            code = concept(LOINC, loinc, LOINC_DISPLAY[loinc])
            sections.append({"title": title, "code": code, "entry": refs})
    return {
        "resourceType": "Composition",
        "id": stable_id("Composition", subject["id"]),
        "status": "final",
        "type": concept(LOINC, "60591-5", LOINC_DISPLAY["60591-5"]),
        "subject": ref(subject),
        "date": date_text(at),
        "author": [{"display": sender}],
        "title": "Migration health assessment summary",
        "section": sections,
    }


def bundle(
    subject: Resource, entries: Sequence[Resource], sender: str, at: dt.datetime
) -> Resource:
    """A document Bundle: the Composition first, then the Patient and everything it lists."""
    comp = composition(subject, entries, sender, at)
    resources = [comp, subject, *entries]
    return {
        "resourceType": "Bundle",
        "id": stable_id("Bundle", subject["id"], at.isoformat()),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{comp['id']}"},
        "type": "document",
        "timestamp": date_text(at),
        "entry": [{"fullUrl": full_url(r), "resource": r} for r in resources],
    }
