"""Structural checks of a FHIR R4 document Bundle: what the receiving side runs on import.

Required elements (R4 cardinalities of the resources we send), value sets of the status codes,
well-formed dates and codings, unique ids, and every reference resolving inside the Bundle.
Not a full profile validator: a receiving system's own validator may check IPS conformance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

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
        problems.extend(_check_values(resource, f"{where}.resource"))
    first = entries[0].get("resource", {}) if isinstance(entries[0], dict) else {}
    if first.get("resourceType") != "Composition":
        problems.append("Bundle.entry[0]: a document starts with its Composition")
    for reference in _references(bundle):
        if reference.startswith("urn:uuid:") and reference not in urls:
            problems.append(f"reference {reference}: not in the Bundle")
    return problems
