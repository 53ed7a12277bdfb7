"""Structural checks of a FHIR R4 document Bundle: what the receiving side runs on import.

Required elements (R4 cardinalities of the resources we send), value sets of the status codes,
well-formed dates and codings, unique ids, and every reference resolving inside the Bundle; the
R4 invariant imm-1 (Immunization.education: documentType or reference); and what the IPS
profiles ask that the CI's validator (Medplum's, scripts/check-fhir.sh) cannot read from their
slicing: the required IPS sections (Problems 11450-4, Allergies 48765-2, Medications 10160-0),
each section with a generated XHTML narrative and entries or an emptyReason, each section's
entries of the resource types the IPS section allows, and the author and custodian resolving to
a Practitioner(Role) or Organization of the Bundle. Not a full profile validator: CI runs one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from pmha.exports.fhir.terms import REQUIRED_SECTIONS

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

# resourceType -> (required elements, {element: allowed codes})
RULES: dict[str, tuple[tuple[str, ...], dict[str, frozenset[str]]]] = {
    "Composition": (
        ("status", "type", "date", "author", "title"),
        {"status": frozenset({"preliminary", "final", "amended", "entered-in-error"})},
    ),
    "Patient": (
        ("identifier", "name", "birthDate"),
        {"gender": frozenset({"male", "female", "other", "unknown"})},
    ),
    "Immunization": (
        ("status", "vaccineCode", "patient"),
        {"status": frozenset({"completed", "entered-in-error", "not-done"})},
    ),
    "Observation": (
        ("status", "code"),
        {
            "status": frozenset(
                {
                    "registered",
                    "preliminary",
                    "final",
                    "amended",
                    "corrected",
                    "cancelled",
                    "entered-in-error",
                    "unknown",
                }
            )
        },
    ),
    "Condition": (("subject", "code"), {}),
    "DiagnosticReport": (
        ("status", "code"),
        {
            "status": frozenset(
                {
                    "registered",
                    "partial",
                    "preliminary",
                    "final",
                    "amended",
                    "corrected",
                    "appended",
                    "cancelled",
                    "entered-in-error",
                    "unknown",
                }
            )
        },
    ),
    "ImagingStudy": (
        ("status", "subject"),
        {
            "status": frozenset(
                {"registered", "available", "cancelled", "entered-in-error", "unknown"}
            )
        },
    ),
    "Organization": (("name",), {}),
    "Practitioner": (("name",), {}),
    "PractitionerRole": (("practitioner",), {}),
    "CarePlan": (
        ("status", "intent", "subject"),
        {
            "status": frozenset(
                {
                    "draft",
                    "active",
                    "on-hold",
                    "revoked",
                    "completed",
                    "entered-in-error",
                    "unknown",
                }
            ),
            "intent": frozenset({"proposal", "plan", "order", "option"}),
        },
    ),
}
# IPS section code -> the resource types its entries may be (IPS IG 2.0.0, Composition (IPS)).
SECTION_TYPES: dict[str, frozenset[str]] = {
    "11450-4": frozenset({"Condition"}),
    "48765-2": frozenset({"AllergyIntolerance"}),
    "10160-0": frozenset({"MedicationStatement", "MedicationRequest"}),
    "11369-6": frozenset({"Immunization"}),
    "30954-2": frozenset({"Observation", "DiagnosticReport", "ImagingStudy"}),
    "8716-3": frozenset({"Observation"}),
    "18776-5": frozenset({"CarePlan"}),
}
_AUTHORS = frozenset({"Practitioner", "PractitionerRole", "Organization", "Patient", "Device"})
_XHTML_DIV = "{http://www.w3.org/1999/xhtml}div"
_DATES = {"birthDate", "expirationDate", "recordedDate", "publicationDate", "presentationDate"}
_INSTANTS = {"timestamp", "issued"}  # instant: a full time with its zone
_DATETIMES = {"date", "started", "occurrenceDateTime", "effectiveDateTime"}  # any precision


def _walk(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def _check_values(resource: dict[str, Any], where: str) -> list[str]:
    problems = []
    for path, key, value in _walk(resource, where):
        if key in _DATES and not (isinstance(value, str) and _DATE.match(value)):
            problems.append(f"{path}.{key}: not a FHIR date")
        elif key in _INSTANTS and not (isinstance(value, str) and _DATETIME.match(value)):
            problems.append(f"{path}.{key}: not a FHIR instant (a time with its zone)")
        elif key in _DATETIMES and not (
            isinstance(value, str) and (_DATE.match(value) or _DATETIME.match(value))
        ):
            problems.append(f"{path}.{key}: not a FHIR dateTime")
        elif key == "coding":
            for i, c in enumerate(value if isinstance(value, list) else [None]):
                if not (
                    isinstance(c, dict)
                    and isinstance(c.get("system"), str)
                    and isinstance(c.get("code"), str)
                    and c["code"].strip()
                ):
                    problems.append(f"{path}.coding[{i}]: needs a system and a code")
    return problems


def _references(value: Any) -> Iterator[str]:
    for _, key, item in _walk(value, ""):
        if key == "reference" and isinstance(item, str):
            yield item


def _narrative_problem(text: Any) -> str | None:
    """What is wrong with a Narrative (None: a generated, well-formed XHTML div)."""
    if not isinstance(text, dict) or text.get("status") not in {
        "generated",
        "extensions",
        "additional",
        "empty",
    }:
        return "needs a narrative (text.status and text.div)"
    div = str(text.get("div", ""))
    if "<!doctype" in div.lower() or "<!entity" in div.lower():
        return "text.div: a narrative has no DTD or entity declarations"
    try:
        # No DTD can reach the parser (refused above), so no entity expansion attack either.
        root = ET.fromstring(div)  # noqa: S314
    except ET.ParseError:
        return "text.div: not well-formed XHTML"
    if root.tag != _XHTML_DIV or not "".join(root.itertext()).strip():
        return "text.div: must be a non-empty <div> in the XHTML namespace"
    return None


def _section_code(section: dict[str, Any]) -> str:
    for c in (section.get("code") or {}).get("coding", []):
        if isinstance(c, dict) and c.get("system") == "http://loinc.org":
            return str(c.get("code", ""))
    return ""


def _check_composition(composition: dict[str, Any], by_url: dict[str, Any]) -> list[str]:
    problems = []
    where = "Composition"
    for i, a in enumerate(composition.get("author") or []):
        found = by_url.get(a.get("reference", "")) if isinstance(a, dict) else None
        if not isinstance(found, dict) or found.get("resourceType") not in _AUTHORS:
            problems.append(f"{where}.author[{i}]: must reference an author of the Bundle")
    custodian = composition.get("custodian")
    if custodian is not None:
        found = by_url.get(custodian.get("reference", "")) if isinstance(custodian, dict) else None
        if not isinstance(found, dict) or found.get("resourceType") != "Organization":
            problems.append(f"{where}.custodian: must reference an Organization of the Bundle")
    sections = composition.get("section")
    if not isinstance(sections, list):
        return [*problems, f"{where}.section: the IPS sections are missing"]
    codes = [_section_code(s) for s in sections if isinstance(s, dict)]
    for code in REQUIRED_SECTIONS:
        if codes.count(code) != 1:
            problems.append(f"{where}.section: IPS requires exactly one section {code}")
    for i, section in enumerate(sections):
        at = f"{where}.section[{i}]"
        if not isinstance(section, dict) or not section.get("title") or not section.get("code"):
            problems.append(f"{at}: needs a title and a code")
            continue
        trouble = _narrative_problem(section.get("text"))
        if trouble:
            problems.append(f"{at}: {trouble}")
        entries = section.get("entry") or []
        if bool(entries) == bool(section.get("emptyReason")):
            problems.append(f"{at}: needs entries or an emptyReason (IPS), not both")
        allowed = SECTION_TYPES.get(_section_code(section))
        for j, entry in enumerate(entries):
            found = by_url.get(entry.get("reference", "")) if isinstance(entry, dict) else None
            kind = found.get("resourceType") if isinstance(found, dict) else None
            if kind is None:
                problems.append(f"{at}.entry[{j}]: not in the Bundle")
            elif allowed is not None and kind not in allowed:
                problems.append(f"{at}.entry[{j}]: a {kind} does not belong in this section")
    return problems


def _check_immunization(resource: dict[str, Any], where: str) -> list[str]:
    """R4 imm-1 on Immunization.education: documentType.exists() or reference.exists()."""
    return [
        f"{where}.education[{i}]: imm-1: One of documentType or reference SHALL be present"
        for i, e in enumerate(resource.get("education") or [])
        if not (isinstance(e, dict) and (e.get("documentType") or e.get("reference")))
    ]


def check_bundle(bundle: Any) -> list[str]:
    """Every structural problem of a document Bundle (an empty list: it is well formed)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["not a FHIR Bundle"]
    problems = []
    if bundle.get("type") != "document":
        problems.append("Bundle.type: must be document")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        return [*problems, "Bundle.entry: empty"]
    urls: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"Bundle.entry[{i}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            problems.append(f"{where}: no resource")
            continue
        kind = resource.get("resourceType")
        if kind not in RULES:
            problems.append(f"{where}: unexpected resource type")
            continue
        rid = resource.get("id")
        if not isinstance(rid, str) or not _ID.match(rid):
            problems.append(f"{where}.resource.id: missing or malformed")
        elif entry.get("fullUrl") != f"urn:uuid:{rid}":
            problems.append(f"{where}.fullUrl: does not name the resource")
        if entry.get("fullUrl") in urls:
            problems.append(f"{where}.fullUrl: used twice")
        urls.add(str(entry.get("fullUrl")))
        required, codes = RULES[kind]
        for name in required:
            if resource.get(name) in (None, "", [], {}):
                problems.append(f"{where}.resource.{name}: required for {kind}")
        for name, allowed in codes.items():
            if name in resource and resource[name] not in allowed:
                problems.append(f"{where}.resource.{name}: not a valid code")
        if kind == "Immunization" and not any(k.startswith("occurrence") for k in resource):
            problems.append(f"{where}.resource.occurrence[x]: required for Immunization")
        if (
            kind == "Immunization"
            and resource.get("status") == "not-done"
            and ("statusReason" not in resource)
        ):
            problems.append(f"{where}.resource.statusReason: a not-done Immunization needs one")
        if kind == "Immunization":
            problems.extend(_check_immunization(resource, f"{where}.resource"))
        if "text" in resource and (trouble := _narrative_problem(resource["text"])):
            problems.append(f"{where}.resource: {trouble}")
        problems.extend(_check_values(resource, f"{where}.resource"))
    first = entries[0].get("resource", {}) if isinstance(entries[0], dict) else {}
    if first.get("resourceType") != "Composition":
        problems.append("Bundle.entry[0]: a document starts with its Composition")
    else:
        by_url: dict[str, Any] = {
            str(e.get("fullUrl")): e.get("resource") for e in entries if isinstance(e, dict)
        }
        problems.extend(_check_composition(first, by_url))
    for reference in _references(bundle):
        if reference.startswith("urn:uuid:") and reference not in urls:
            problems.append(f"reference {reference}: not in the Bundle")
    return problems
