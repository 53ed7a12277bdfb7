"""The summary document: a Composition with the IPS sections, and the document Bundle.

IPS IG 2.0.0, Composition (IPS): the Problems, Allergies and Medications sections are required;
a required section with nothing to list carries `emptyReason` (list-empty-reason) and a
narrative saying so, as the IG's "no information" example (Bundle-bundle-no-info-required-
sections) does. Every section has a generated XHTML narrative (section.text, 1..1 in IPS). Then
the optional sections (Immunizations, Results, Vital signs, Plan of care) when they have
entries, and PMHA's own section for the screening and clearance decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pmha.exports.fhir import terms
from pmha.exports.fhir.common import (
    IPS,
    LIST_EMPTY_REASON,
    LOINC,
    Resource,
    concept,
    date_text,
    display_of,
    esc,
    full_url,
    local,
    narrative,
    ref,
    stable_id,
    table,
)
from pmha.exports.fhir.resources import Centre, organization

# (title, section code, resource keys it lists, required by IPS, words when it lists nothing)
SECTIONS: tuple[tuple[str, terms.Term, tuple[str, ...], bool, str], ...] = (
    (
        "Problem list",
        terms.SECTION_PROBLEMS,
        ("Condition",),
        True,
        "No information about problems: no condition was classified in this assessment.",
    ),
    (
        "Allergies and intolerances",
        terms.SECTION_ALLERGIES,
        ("AllergyIntolerance",),
        True,
        "No information about allergies: the migration health assessment does not record them.",
    ),
    (
        "Medication summary",
        terms.SECTION_MEDICATIONS,
        ("MedicationStatement",),
        True,
        "No information about medications: the migration health assessment does not record them.",
    ),
    ("Immunizations", terms.SECTION_IMMUNIZATIONS, ("Immunization",), False, ""),
    (
        "Results",
        terms.SECTION_RESULTS,
        ("Observation:laboratory", "DiagnosticReport", "ImagingStudy"),
        False,
        "",
    ),
    ("Vital signs", terms.SECTION_VITALS, ("Observation:vital-signs",), False, ""),
    ("Plan of care", terms.SECTION_PLAN, ("CarePlan",), False, ""),
)
CLEARANCE_SECTION = terms.Term(
    "screening-and-clearance", "Migration health screening and clearance"
)
_UNAVAILABLE = concept(LIST_EMPTY_REASON, "unavailable", "Unavailable", "No information available")


def _key(resource: Resource) -> str:
    kind = str(resource["resourceType"])
    if kind == "Observation":
        return f"{kind}:{resource['category'][0]['coding'][0]['code']}"
    return kind


def _what(r: Resource) -> str:
    for name in ("vaccineCode", "code"):
        if isinstance(r.get(name), dict):
            return display_of(r[name])
    return str(r.get("title") or r.get("description") or r["resourceType"])


def _value(r: Resource) -> str:
    if "valueQuantity" in r:
        q = r["valueQuantity"]
        return f"{q['value']:g} {q.get('unit', '')}".strip()
    if "valueCodeableConcept" in r:
        return display_of(r["valueCodeableConcept"])
    if "component" in r:
        return "; ".join(
            f"{display_of(c['code'])} {c['valueQuantity']['value']:g} {c['valueQuantity']['unit']}"
            for c in r["component"]
            if "valueQuantity" in c
        )
    if "conclusion" in r:
        return str(r["conclusion"])
    if r["resourceType"] == "CarePlan":
        return "; ".join(a["detail"]["description"] for a in r.get("activity", []))
    if r["resourceType"] == "Condition":
        return display_of(r.get("verificationStatus", {}))
    return str(r.get("status", ""))


def _when(r: Resource) -> str:
    for name in ("effectiveDateTime", "occurrenceDateTime", "recordedDate", "started"):
        if name in r:
            return str(r[name])
    return ""


def _section(title: str, code: dict[str, Any], listed: Sequence[Resource]) -> dict[str, Any]:
    rows = [(_what(r), _value(r), _when(r)) for r in listed]
    return {
        "title": title,
        "code": code,
        "text": narrative(table(("Item", "Value", "Date"), rows)),
        "entry": [ref(r) for r in listed],
    }


def composition(
    subject: Resource,
    entries: Sequence[Resource],
    custodian: Resource,
    at: dt.datetime,
    authors: Sequence[Resource] = (),
) -> Resource:
    """The Composition (IPS): every IPS section that applies, the clearance section, the
    authors (PractitionerRole, else the centre) and the centre as custodian."""
    sections: list[dict[str, Any]] = []
    for title, term, keys, required, empty in SECTIONS:
        listed = [r for r in entries if _key(r) in keys]
        code = concept(LOINC, term.code, term.display)
        if listed:
            sections.append(_section(title, code, listed))
        elif required:
            sections.append(
                {
                    "title": title,
                    "code": code,
                    "text": narrative(f"<p>{esc(empty)}</p>"),
                    "emptyReason": _UNAVAILABLE,
                }
            )
    screening = [r for r in entries if _key(r) == "Observation:exam"]
    if screening:
        code = concept(local("document-section"), CLEARANCE_SECTION.code, CLEARANCE_SECTION.display)
        sections.append(_section(CLEARANCE_SECTION.display, code, screening))
    title = "Migration health assessment summary"
    return {
        "resourceType": "Composition",
        "id": stable_id("Composition", subject["id"]),
        "meta": {"profile": [f"{IPS}/Composition-uv-ips"]},
        "status": "final",
        "type": concept(LOINC, terms.PATIENT_SUMMARY.code, terms.PATIENT_SUMMARY.display),
        "subject": ref(subject),
        "date": date_text(at),
        "author": [ref(a) for a in authors] or [ref(custodian)],
        "title": title,
        "custodian": ref(custodian),
        "text": narrative(
            f"<p>{esc(title)} from {esc(custodian.get('name', ''))}, {esc(date_text(at))}</p>"
        ),
        "section": sections,
    }


def bundle(
    subject: Resource,
    entries: Sequence[Resource],
    sender: Resource | str,
    at: dt.datetime,
    authors: Sequence[Resource] = (),
) -> Resource:
    """A document Bundle (Bundle (IPS)): the Composition first, then the Patient, the centre
    and everything the Composition lists or its entries refer to. `sender` is the centre's
    Organization (a plain name makes one); `authors` are PractitionerRoles among `entries`."""
    custodian = organization(Centre(sender, sender)) if isinstance(sender, str) else sender
    others = [r for r in entries if r is not custodian and r.get("id") != custodian["id"]]
    comp = composition(subject, others, custodian, at, authors)
    resources = [comp, subject, custodian, *others]
    return {
        "resourceType": "Bundle",
        "id": stable_id("Bundle", subject["id"], at.isoformat()),
        "meta": {"profile": [f"{IPS}/Bundle-uv-ips"]},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{comp['id']}"},
        "type": "document",
        "timestamp": date_text(at),
        "entry": [{"fullUrl": full_url(r), "resource": r} for r in resources],
    }
