"""FHIR R4 resources for a traveller's summary, as the International Patient Summary (IPS IG
2.0.0) profiles them: Patient, the centre's Organization, its Practitioners and their roles, lab
and imaging results, vital signs, classifications and the clearance.

The builders take our own plain values (no ORM objects) and return dicts; `document.bundle`
wraps them in a document Bundle whose first entry is the Composition, as IPS does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pycountry

from pmha.exports.fhir import terms
from pmha.exports.fhir.common import (
    CLINICAL_DISPLAY,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DIAGNOSTIC_SERVICE,
    DICOM_MODALITY,
    IDENTIFIER_TYPE_DISPLAY,
    INTERPRETATION,
    IPS,
    ISO_COUNTRY,
    LOINC,
    MODALITY_DISPLAY,
    OBSERVATION_CATEGORY,
    SNOMED,
    SOP_CLASS_DISPLAY,
    UCUM,
    V2_0203,
    VERIFICATION_DISPLAY,
    Resource,
    coding,
    concept,
    date_text,
    esc,
    local,
    local_id,
    narrative,
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
class Centre:
    """The assessment centre (a site): the summary's custodian and its authors' organization."""

    code: str
    name: str
    country: str = ""


@dataclass(frozen=True)
class Clinician:
    """Someone who signed or read part of the assessment, as the record names them then."""

    name: str
    registration: str = ""  # professional registration number, when the record has it
    role: str = "panel_physician"  # panel_physician or radiologist


@dataclass(frozen=True)
class Measure:
    """One measured analyte of a quantitative result, with the reference range that applied."""

    analyte: str
    name: str
    value: float
    unit: str  # UCUM code
    low: float | None = None
    high: float | None = None
    flag: str = ""  # H, L, N ("" without a range)
    shown: str = ""  # the unit as people write it


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
    details: tuple[tuple[str, str], ...] = ()  # (name, value) the result was recorded with
    measured: tuple[Measure, ...] = ()  # the measured values (serum creatinine, urinalysis)
    laboratory: str = ""  # the performing laboratory, when the result names it


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
    finding_names: tuple[str, ...] = ()  # the findings in words, in the same order


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


def _alpha3(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code)
    return "" if found is None else str(found.alpha_3)


def _document_identifier(kind: str, number: str, country: str) -> dict[str, Any]:
    """A travel or identity document as an identifier: a passport under the FHIR identifier
    registry's passport system for its issuing country (http://hl7.org/fhir/sid/passport-XXX,
    ISO 3166 alpha-3) with the v2-0203 type PPN; other documents under PMHA's own system."""
    code = _DOCUMENT_TYPE.get(kind, "PPN")
    alpha3 = _alpha3(country)
    if kind == "passport" and alpha3:
        system = f"http://hl7.org/fhir/sid/passport-{alpha3}"
    else:
        system = local_id(f"document/{kind}/{country or 'unknown'}")
    out: dict[str, Any] = {
        "use": "official",
        "type": concept(V2_0203, code, IDENTIFIER_TYPE_DISPLAY[code], text=kind.replace("_", " ")),
        "system": system,
        "value": number,
    }
    if country:
        out["assigner"] = {"display": country_name(country) or country}
    return out


def patient(t: Traveller) -> Resource:
    """The traveller (Patient (IPS)): the internal applicant id and every travel document."""
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": stable_id("Patient", t.id),
        "meta": {"profile": [f"{IPS}/Patient-uv-ips"]},
        "identifier": [
            {
                "use": "secondary",
                "type": concept(V2_0203, "MR", "Medical record number"),
                "system": local_id("applicant"),
                "value": t.id,
            }
        ],
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
    res["identifier"] += [_document_identifier(*d) for d in t.documents]
    documents = "".join(
        f"<li>{esc(k.replace('_', ' '))} {esc(n)} ({esc(c)})</li>" for k, n, c in t.documents
    )
    res["text"] = narrative(
        f"<p>{esc(t.family_name.upper())}, {esc(t.given_names)}; born {esc(res['birthDate'])};"
        f" {esc(res['gender'])}; nationality {esc(country_name(t.nationality) or t.nationality)}"
        f"</p>{f'<ul>{documents}</ul>' if documents else ''}"
    )
    return res


def organization(c: Centre) -> Resource:
    """The assessment centre (Organization (IPS))."""
    res: dict[str, Any] = {
        "resourceType": "Organization",
        "id": stable_id("Organization", c.code),
        "meta": {"profile": [f"{IPS}/Organization-uv-ips"]},
        "identifier": [{"system": local_id("site"), "value": c.code}],
        "active": True,
        "name": c.name or c.code,
        "text": narrative(f"<p>{esc(c.name or c.code)} ({esc(c.code)})</p>"),
    }
    if c.country:
        res["address"] = [{"country": c.country}]
    return res


def practitioner(c: Clinician) -> Resource:
    """A clinician (Practitioner (IPS)), with the registration number when the record has it."""
    res: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": stable_id("Practitioner", c.registration or c.name),
        "meta": {"profile": [f"{IPS}/Practitioner-uv-ips"]},
        "name": [{"text": c.name}],
        "text": narrative(
            f"<p>{esc(c.name)}{f' ({esc(c.registration)})' if c.registration else ''}</p>"
        ),
    }
    if c.registration:
        res["identifier"] = [
            {
                "type": concept(
                    "http://terminology.hl7.org/CodeSystem/v2-0203", "MD", "Medical License number"
                ),
                "system": local_id("registration"),
                "value": c.registration,
            }
        ]
    return res


def practitioner_role(c: Clinician, person: Resource, centre: Resource) -> Resource:
    """The clinician's role at the centre (PractitionerRole (IPS)): who authored what, where."""
    role = terms.ROLE_SNOMED.get(c.role, terms.ROLE_SNOMED["panel_physician"])
    return {
        "resourceType": "PractitionerRole",
        "id": stable_id("PractitionerRole", person["id"], centre["id"], c.role),
        "meta": {"profile": [f"{IPS}/PractitionerRole-uv-ips"]},
        "active": True,
        "practitioner": ref(person),
        "organization": ref(centre),
        "code": [concept(SNOMED, role.code, role.display)],
        "text": narrative(f"<p>{esc(c.name)}, {esc(role.display)}</p>"),
    }


def _value_concept(value: str, words: str) -> dict[str, Any]:
    """A coded result value: SNOMED CT where one exists, and PMHA's own code."""
    out: dict[str, Any] = {"coding": [], "text": words or value}
    if value in terms.RESULT_SNOMED:
        t = terms.RESULT_SNOMED[value]
        out["coding"].append(coding(SNOMED, t.code, t.display))
    out["coding"].append(coding(local("lab-result"), value, words))
    return out


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def lab_observation(
    result: LabResult, subject: Resource, performer: Resource | None = None
) -> Resource:
    """One lab result (Observation Results: laboratory/pathology (IPS)): LOINC where the test
    has a code, a Quantity with its UCUM unit where the value is a number, else a coded value."""
    code: dict[str, Any] = {"coding": [], "text": result.name}
    if result.code in terms.LAB_LOINC:
        t = terms.LAB_LOINC[result.code]
        code["coding"].append(coding(LOINC, t.code, t.display))
    code["coding"].append(coding(local("lab-test"), result.code, result.name))
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": stable_id("Observation", result.id),
        "meta": {"profile": [f"{IPS}/Observation-results-laboratory-pathology-uv-ips"]},
        "status": result.status,
        "category": [concept(OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
        "code": code,
        "subject": ref(subject),
        "effectiveDateTime": result.date.isoformat(),
    }
    number, unit = _number(result.value), terms.LAB_UNITS.get(result.code)
    single = result.measured[0] if len(result.measured) == 1 else None
    if single is not None:  # one analyte (serum creatinine): the value is the measurement
        res.update(_measured(single))
        shown = f"{single.value:g} {single.shown or single.unit}"
    elif number is not None and unit:
        res["valueQuantity"] = _quantity(number, unit)
        shown = f"{result.value} {unit}"
    else:
        res["valueCodeableConcept"] = _value_concept(result.value, result.value_name)
        shown = result.value_name or result.value
    if performer is not None:
        res["performer"] = [ref(performer)]
    if result.specimen > 1:
        res["note"] = [{"text": f"specimen {result.specimen}"}]
    details = dict(result.details)
    components: list[dict[str, Any]] = []
    if result.code == "syphilis_serology" and details.get("non_treponemal"):
        value = details["non_treponemal"]
        components.append(
            {
                "code": concept(LOINC, terms.RPR.code, terms.RPR.display),
                "valueCodeableConcept": _value_concept(value, value.replace("_", " ")),
            }
        )
    if result.code == "syphilis_serology" and details.get("titre"):
        components.append(
            {
                "code": concept(LOINC, terms.RPR_TITRE.code, terms.RPR_TITRE.display),
                "valueString": str(details["titre"]),
            }
        )
    if len(result.measured) > 1:  # a panel (urinalysis): one component per analyte
        components += [{"code": _analyte_code(m), **_measured(m)} for m in result.measured]
    if components:
        res["component"] = components
    res["text"] = narrative(
        f"<p>{esc(result.name)}: {esc(shown)} ({esc(res['effectiveDateTime'])},"
        f" {esc(result.status)})</p>"
    )
    return res


def _quantity(value: Any, unit: str, shown: str = "") -> dict[str, Any]:
    return {"value": float(value), "unit": shown or unit, "system": UCUM, "code": unit}


def _measured(m: Measure) -> dict[str, Any]:
    """A measured value as an Observation or component's value, range and interpretation."""
    out: dict[str, Any] = {"valueQuantity": _quantity(m.value, m.unit, m.shown)}
    if m.low is not None and m.high is not None:
        out["referenceRange"] = [
            {"low": _quantity(m.low, m.unit, m.shown), "high": _quantity(m.high, m.unit, m.shown)}
        ]
    if m.flag in terms.FLAG_INTERPRETATION:
        t = terms.FLAG_INTERPRETATION[m.flag]
        out["interpretation"] = [concept(INTERPRETATION, t.code, t.display)]
    return out


def _analyte_code(m: Measure) -> dict[str, Any]:
    codings = []
    if m.analyte in terms.ANALYTE_LOINC:
        t = terms.ANALYTE_LOINC[m.analyte]
        codings.append(coding(LOINC, t.code, t.display))
    codings.append(coding(local("lab-analyte"), m.analyte, m.name))
    return {"coding": codings, "text": m.name}


def laboratory(name: str) -> Resource:
    """The performing laboratory, as the result names it (Organization (IPS))."""
    return {
        "resourceType": "Organization",
        "id": stable_id("Organization", "laboratory", name),
        "meta": {"profile": [f"{IPS}/Organization-uv-ips"]},
        "name": name,
        "text": narrative(f"<p>{esc(name)} (laboratory)</p>"),
    }


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
    """A classification (Condition (IPS)): SNOMED CT where the class names a disorder, and the
    class itself under PMHA's code system."""
    verification = "confirmed" if c.status == "final" else "provisional"
    code: dict[str, Any] = {"coding": [], "text": f"{c.kind_name}: {c.value_name}"}
    if (c.kind, c.value) in terms.CLASS_SNOMED:
        t = terms.CLASS_SNOMED[(c.kind, c.value)]
        code["coding"].append(coding(SNOMED, t.code, t.display))
    code["coding"].append(coding(local(c.kind.replace("_", "-")), c.value, c.value_name))
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": stable_id("Condition", subject["id"], c.kind),
        "meta": {"profile": [f"{IPS}/Condition-uv-ips"]},
        "clinicalStatus": concept(CONDITION_CLINICAL, "active", CLINICAL_DISPLAY["active"]),
        "verificationStatus": concept(
            CONDITION_VERIFICATION, verification, VERIFICATION_DISPLAY[verification]
        ),
        "category": [concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
        "code": code,
        "subject": ref(subject),
        "text": narrative(f"<p>{esc(code['text'])} ({esc(verification)})</p>"),
    }
    if c.date is not None:
        res["recordedDate"] = c.date.isoformat()
    return res


def imaging(x: ChestXray, subject: Resource, interpreter: Resource | None = None) -> list[Resource]:
    """The ImagingStudy for the DICOM file (ImagingStudy (IPS)) and, once it was read, the
    DiagnosticReport (IPS) with the reading's Observation and one Observation per finding
    (Observation Results: radiology (IPS))."""
    modality = coding(DICOM_MODALITY, x.modality, MODALITY_DISPLAY.get(x.modality, ""))
    study: dict[str, Any] = {
        "resourceType": "ImagingStudy",
        "id": stable_id("ImagingStudy", x.study_uid),
        "meta": {"profile": [f"{IPS}/ImagingStudy-uv-ips"]},
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
                "bodySite": coding(SNOMED, terms.CHEST.code, terms.CHEST.display),
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
    study["text"] = narrative(f"<p>{esc(study['description'])}</p>")
    if not x.decision:
        return [study]
    when = date_text(x.read_at) if x.read_at is not None else None
    by = {"performer": [ref(interpreter)]} if interpreter is not None else {}

    def observation(key: str, code: dict[str, Any], value: dict[str, Any], words: str) -> Resource:
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "id": stable_id("Observation", x.study_uid, key),
            "meta": {"profile": [f"{IPS}/Observation-results-radiology-uv-ips"]},
            "status": "final",
            "category": [concept(OBSERVATION_CATEGORY, "imaging", "Imaging")],
            "code": code,
            "subject": ref(subject),
            **({"effectiveDateTime": when} if when else {}),
            **by,
            "valueCodeableConcept": value,
            "derivedFrom": [ref(study)],
            "text": narrative(f"<p>{esc(words)}</p>"),
        }
        return obs

    names = dict(zip(x.findings, x.finding_names, strict=False))
    reading = observation(
        "reading",
        concept(
            LOINC, terms.IMAGING_READING.code, terms.IMAGING_READING.display, "Chest X-ray reading"
        ),
        concept(
            local("chest-xray-decision"), x.decision, x.decision_name, x.decision_name or x.decision
        ),
        f"Chest X-ray reading: {x.decision_name or x.decision}",
    )
    findings = [
        observation(
            f"finding:{f}",
            concept(
                local("chest-xray-finding"),
                f,
                names.get(f, ""),
                names.get(f) or f.replace("_", " "),
            ),
            concept(SNOMED, terms.PRESENT.code, terms.PRESENT.display),
            f"Finding: {names.get(f) or f.replace('_', ' ')}",
        )
        for f in x.findings
    ]
    conclusion = ", ".join(names.get(f) or f.replace("_", " ") for f in x.findings) or "no findings"
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": stable_id("DiagnosticReport", x.study_uid),
        "meta": {"profile": [f"{IPS}/DiagnosticReport-uv-ips"]},
        "status": "final",
        "category": [concept(DIAGNOSTIC_SERVICE, "RAD", "Radiology")],
        "code": concept(
            LOINC, terms.IMAGING_REPORT.code, terms.IMAGING_REPORT.display, "Chest X-ray (DS-3030)"
        ),
        "subject": ref(subject),
        **({"effectiveDateTime": when, "issued": when} if when else {}),
        **by,
        "result": [ref(reading), *(ref(f) for f in findings)],
        "imagingStudy": [ref(study)],
        "conclusionCode": [concept(local("chest-xray-decision"), x.decision, x.decision_name)],
        "conclusion": f"{x.decision_name or x.decision}: {conclusion}",
        "text": narrative(
            f"<p>Chest X-ray: {esc(x.decision_name or x.decision)}; findings: {esc(conclusion)}</p>"
        ),
    }
    return [study, report, reading, *findings]


def clearance(c: Clearance, subject: Resource, performer: Resource | None = None) -> Resource:
    """The clearance decision: an Observation of the screening, under PMHA's code system (no
    standard code names a migration medical clearance)."""
    notes = [f"rules {c.rules_version}", *c.conditions] if c.rules_version else [*c.conditions]
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": stable_id("Observation", subject["id"], "clearance"),
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "exam", "Exam")],
        "code": concept(local("observation"), "clearance", "Medical clearance for travel"),
        "subject": ref(subject),
        "effectiveDateTime": date_text(c.decided_at),
        "valueCodeableConcept": concept(local("clearance"), c.status, c.status_name),
        "text": narrative(
            f"<p>Clearance: {esc(c.status_name or c.status)}</p>"
            + "".join(f"<p>{esc(n)}</p>" for n in notes)
        ),
    }
    if notes:
        res["note"] = [{"text": t} for t in notes]
    if performer is not None:
        res["performer"] = [ref(performer)]
    return res


def follow_up(c: Clearance, subject: Resource) -> Resource | None:
    """What the receiving authority should do after arrival (none: no CarePlan)."""
    if not c.follow_up:
        return None
    items = "".join(f"<li>{esc(t)}</li>" for t in c.follow_up)
    return {
        "resourceType": "CarePlan",
        "id": stable_id("CarePlan", subject["id"], "follow_up"),
        "status": "active",
        "intent": "plan",
        "title": "Post-arrival follow-up",
        "subject": ref(subject),
        "activity": [{"detail": {"status": "not-started", "description": t}} for t in c.follow_up],
        "text": narrative(f"<p>Post-arrival follow-up</p><ul>{items}</ul>"),
    }
