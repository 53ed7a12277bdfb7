"""Reading an imported FHIR summary for people: each resource as a line of words, grouped.

Generic by resource type (FHIR R4 element names, https://hl7.org/fhir/R4/resourcelist.html), so
that it keeps working as the sending side adds sections and resources: the Composition's sections
give the order and titles (an IPS section with `emptyReason` reads "no information"); a resource
of a type this module does not know still shows its type and the text of its `code`. The
narrative (`text.div`, foreign XHTML) is never read: everything shown comes from coded elements,
escaped by the page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

Resource = dict[str, Any]

# Resources that describe who and where, not the traveller's health: not listed as items.
ADMINISTRATIVE = frozenset(
    {"Composition", "Patient", "Practitioner", "PractitionerRole", "Organization", "Device"}
)
GROUPS = {  # resource type -> the group an analyst looks for it in
    "Immunization": "vaccination",
    "Condition": "classification",
    "DiagnosticReport": "result",
    "ImagingStudy": "image",
    "Media": "image",
    "CarePlan": "plan",
    "MedicationStatement": "medication",
    "MedicationRequest": "medication",
    "AllergyIntolerance": "allergy",
}
UNITS = {  # UCUM codes as people write them (https://ucum.org/ucum)
    "Cel": "°C",
    "[degF]": "°F",
    "mm[Hg]": "mmHg",
    "kg/m2": "kg/m²",
    "/min": "per minute",
    "[in_i]": "in",
    "[lb_av]": "lb",
    "10*3/uL": "thousand/µL",
    "10*6/uL": "million/µL",
    "%": "%",
}
FILE = re.compile(r"\b(?:dicom|pdf)/[\w.-]+")  # a bundle file a resource names
OBSERVATION_GROUPS = {  # observation-category code -> group
    "laboratory": "result",
    "imaging": "result",
    "vital-signs": "vital_sign",
    "exam": "screening",
    "survey": "result",
    "social-history": "other",
}


@dataclass
class Item:
    """One resource as a line: what it is, its value in words, when, and its state."""

    resource_type: str
    group: str
    name: str
    value: str = ""
    date: str = ""
    status: str = ""
    details: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # "system|code" of its main code
    files: list[str] = field(default_factory=list)  # bundle files it names (e.g. its image)


@dataclass
class Section:
    title: str
    items: list[Item]
    empty_reason: str = ""


@dataclass
class Summary:
    family_name: str
    given_names: str
    original_name: str
    birth_date: str
    sex: str
    identifiers: list[str]
    sections: list[Section]
    author: str = ""
    date: str = ""

    def items(self, group: str | None = None) -> list[Item]:
        return [i for s in self.sections for i in s.items if group in (None, i.group)]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def concept_text(value: Any) -> str:
    """A CodeableConcept (or Coding) in words: its text, else a coding's display, else a code."""
    if not isinstance(value, dict):
        return ""
    if isinstance(value.get("text"), str) and value["text"]:
        return str(value["text"])
    codings = value.get("coding") if "coding" in value else [value]
    for c in codings or []:
        if isinstance(c, dict) and c.get("display"):
            return str(c["display"])
    for c in codings or []:
        if isinstance(c, dict) and c.get("code"):
            return str(c["code"])
    return ""


def _codes(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return []
    return [
        f"{c.get('system', '')}|{c.get('code', '')}"
        for c in value.get("coding", [])
        if isinstance(c, dict) and c.get("code")
    ]


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quantity(q: Any) -> str:
    if not isinstance(q, dict) or q.get("value") is None:
        return ""
    unit = str(q.get("unit") or q.get("code") or "")
    unit = UNITS.get(unit, unit)
    comparator = q.get("comparator", "")
    return f"{comparator}{_number(q['value'])} {unit}".strip()


def value_text(holder: Resource) -> str:
    """The value[x] of an Observation or a component, in words (R4 Observation.value[x])."""
    for key, read in (
        ("valueQuantity", _quantity),
        ("valueCodeableConcept", concept_text),
        ("valueString", str),
        ("valueInteger", _number),
        ("valueDateTime", str),
    ):
        if key in holder:
            return read(holder[key])
    if "valueBoolean" in holder:
        return "yes" if holder["valueBoolean"] else "no"
    if isinstance(holder.get("valueRange"), dict):
        low, high = (_quantity(holder["valueRange"].get(k)) for k in ("low", "high"))
        return f"{low} to {high}".strip(" to")
    if isinstance(holder.get("valueRatio"), dict):
        ratio = holder["valueRatio"]
        return f"{_quantity(ratio.get('numerator'))} / {_quantity(ratio.get('denominator'))}"
    if isinstance(holder.get("dataAbsentReason"), dict):
        return f"no value ({concept_text(holder['dataAbsentReason'])})"
    return ""


def when(value: str) -> str:
    """A FHIR date or dateTime as the pages write times: `YYYY-MM-DD HH:MM UTC` (a date alone
    stays a date; a partial date stays as given)."""
    if "T" not in value:
        return value
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value[:16].replace("T", " ")
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _date(resource: Resource, *keys: str) -> str:
    for key in keys:
        value = resource.get(key)
        if isinstance(value, str) and value:
            return when(value)
        if isinstance(value, dict):  # a Period
            start = value.get("start")
            if isinstance(start, str):
                return when(start)
    return ""


def _notes(resource: Resource) -> list[str]:
    return [
        str(n["text"]) for n in resource.get("note", []) if isinstance(n, dict) and n.get("text")
    ]


def _observation(r: Resource) -> Item:
    categories = [c for cat in r.get("category", []) for c in _codes(cat)]
    group = next(
        (OBSERVATION_GROUPS[c.rsplit("|", 1)[1]] for c in categories
         if c.rsplit("|", 1)[1] in OBSERVATION_GROUPS),
        "result",
    )  # fmt: skip
    components = [c for c in r.get("component", []) if isinstance(c, dict)]
    details = [f"{concept_text(c.get('code'))}: {value_text(c)}" for c in components]
    value = value_text(r)
    if not value and components:  # a panel (e.g. blood pressure): its values in order
        units = {str((c.get("valueQuantity") or {}).get("unit", "")) for c in components}
        numbers = [_number((c.get("valueQuantity") or {}).get("value", "")) for c in components]
        if len(units) == 1 and all(numbers):
            unit = units.pop()
            value = f"{' / '.join(numbers)} {UNITS.get(unit, unit)}".strip()
    details += [
        f"Interpretation: {concept_text(i)}" for i in r.get("interpretation", []) if concept_text(i)
    ]
    for rng in r.get("referenceRange", []):
        if isinstance(rng, dict):
            text = rng.get("text") or (
                f"{_quantity(rng.get('low'))} to {_quantity(rng.get('high'))}".strip(" to")
            )
            if text:
                details.append(f"Reference range: {text}")
    if isinstance(r.get("specimen"), dict) and r["specimen"].get("display"):
        details.append(str(r["specimen"]["display"]))
    return Item(
        "Observation",
        group,
        concept_text(r.get("code")) or "Observation",
        value,
        _date(r, "effectiveDateTime", "effectivePeriod", "issued"),
        str(r.get("status", "")),
        details + _notes(r),
        _codes(r.get("code")),
    )


def _immunization(r: Resource) -> Item:
    details = []
    if r.get("statusReason"):
        details.append(f"Not given: {concept_text(r['statusReason'])}")
    if r.get("reportOrigin"):
        details.append(f"Source: {concept_text(r['reportOrigin'])}")
    elif r.get("primarySource") is True:
        details.append("Given and recorded at the centre")
    if isinstance(r.get("manufacturer"), dict) and r["manufacturer"].get("display"):
        details.append(f"Manufacturer: {r['manufacturer']['display']}")
    if r.get("lotNumber"):
        details.append(f"Lot {r['lotNumber']}")
    if r.get("doseQuantity"):
        details.append(f"Dose {_quantity(r['doseQuantity'])}")
    for key, label in (("route", "Route"), ("site", "Site")):
        if r.get(key):
            details.append(f"{label}: {concept_text(r[key])}")
    for reason in r.get("reasonCode", []):
        details.append(f"Immune to: {concept_text(reason)}")
    for dose in r.get("protocolApplied", []):
        if isinstance(dose, dict) and dose.get("doseNumberPositiveInt"):
            details.append(f"Dose number {dose['doseNumberPositiveInt']}")
    value = {"completed": "given", "not-done": "not given", "entered-in-error": "entered in error"}
    status = str(r.get("status", ""))
    if r.get("isSubpotent"):
        status = "subpotent"
    return Item(
        "Immunization",
        "vaccination",
        concept_text(r.get("vaccineCode")) or "Vaccination",
        value.get(status, status),
        _date(r, "occurrenceDateTime", "occurrenceString"),
        status,
        details + _notes(r),
        _codes(r.get("vaccineCode")),
    )


def _generic(r: Resource) -> Item:
    kind = str(r.get("resourceType", "Resource"))
    group = GROUPS.get(kind, "other")
    name = (
        concept_text(r.get("code"))
        or str(r.get("title") or r.get("description") or "")
        or concept_text(r.get("medicationCodeableConcept"))
        or kind
    )
    value, details = "", _notes(r)
    status = concept_text(r.get("clinicalStatus")) or str(r.get("status", ""))
    if kind == "Condition":
        value = concept_text(r.get("verificationStatus"))
        if concept_text(r.get("severity")):
            details.append(f"Severity: {concept_text(r['severity'])}")
    elif kind == "DiagnosticReport":
        value = "; ".join(filter(None, (concept_text(c) for c in r.get("conclusionCode", []))))
        if r.get("conclusion"):
            details.append(f"Findings: {r['conclusion']}")
    elif kind == "ImagingStudy":
        name = str(r.get("description") or "Imaging study").split(";")[0]
        modalities = [concept_text(m) for m in r.get("modality", [])]
        images = r.get("numberOfInstances")
        value = f"{images} image{'s' if images != 1 else ''}" if images else ""
        details += [m for m in modalities if m]
    elif kind == "CarePlan":
        details += [
            str(a["detail"]["description"])
            for a in r.get("activity", [])
            if isinstance(a, dict)
            and isinstance(a.get("detail"), dict)
            and a["detail"].get("description")
        ]
    elif kind == "AllergyIntolerance":
        value = concept_text(r.get("verificationStatus"))
        for reaction in r.get("reaction", []):
            for m in reaction.get("manifestation", []) if isinstance(reaction, dict) else []:
                details.append(f"Reaction: {concept_text(m)}")
    elif kind.startswith("Medication"):
        dosage = [d.get("text") for d in r.get("dosage", []) if isinstance(d, dict)]
        details += [str(d) for d in dosage if d]
    return Item(
        kind,
        group,
        name,
        value,
        _date(
            r,
            "effectiveDateTime",
            "recordedDate",
            "onsetDateTime",
            "issued",
            "started",
            "period",
            "effectivePeriod",
            "authoredOn",
        ),
        status,
        details,
        _codes(r.get("code")),
    )


def item(resource: Resource) -> Item:
    """One resource as a line of words, by its type."""
    kind = resource.get("resourceType")
    if kind == "Observation":
        found = _observation(resource)
    elif kind == "Immunization":
        found = _immunization(resource)
    else:
        found = _generic(resource)
    found.files = sorted(set(FILE.findall(str(resource.get("description", "")))))
    return found


# Elements by which a listed resource points at the resources it stands on: those are shown
# inside it (a report's readings), not again as "other entries".
PARTS = ("result", "hasMember")


def _person(resource: Resource, by_ref: dict[str, Resource]) -> str:
    """A Practitioner's, Organization's or PractitionerRole's name."""
    kind = resource.get("resourceType")
    if kind == "PractitionerRole":
        names = [
            _person(by_ref.get(str((resource.get(k) or {}).get("reference", "")), {}), by_ref)
            for k in ("practitioner", "organization")
        ]
        return ", ".join(n for n in names if n)
    if kind == "Organization":
        return str(resource.get("name", ""))
    for name in resource.get("name", []):
        if isinstance(name, dict):
            return str(
                name.get("text")
                or " ".join([*name.get("given", []), name.get("family", "")]).strip()
            )
    return ""


def _patient(resources: list[Resource]) -> Resource:
    return next((r for r in resources if r.get("resourceType") == "Patient"), {})


def read(document: Resource) -> Summary:
    """A FHIR document Bundle as sections of items (see the module docstring)."""
    entries = [e for e in document.get("entry", []) if isinstance(e, dict)]
    resources = [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]
    by_ref: dict[str, Resource] = {}
    for e in entries:
        r = e.get("resource")
        if not isinstance(r, dict):
            continue
        if e.get("fullUrl"):
            by_ref[str(e["fullUrl"])] = r
        by_ref[f"{r.get('resourceType')}/{r.get('id')}"] = r
    composition: Resource = next(
        (r for r in resources if r.get("resourceType") == "Composition"), {}
    )
    sections: list[Section] = []
    shown: set[int] = set()
    for s in composition.get("section", []):
        if not isinstance(s, dict):
            continue
        found = []
        for reference in s.get("entry", []):
            target = by_ref.get(str(reference.get("reference", "")))
            if target is not None and target.get("resourceType") not in ADMINISTRATIVE:
                line = item(target)
                for part in (p for key in PARTS for p in target.get(key, [])):
                    inner = (
                        by_ref.get(str(part.get("reference", "")))
                        if isinstance(part, dict)
                        else None
                    )
                    if inner is not None and id(inner) != id(target):
                        shown.add(id(inner))
                        read = item(inner)
                        line.details.append(
                            f"{read.name}: {read.value}" if read.value else read.name
                        )
                found.append(line)
                shown.add(id(target))
        empty = concept_text(s.get("emptyReason")) if s.get("emptyReason") else ""
        title = str(s.get("title") or concept_text(s.get("code")) or "Section")
        sections.append(Section(title, found, empty or ("" if found else "No entries")))
    rest = [
        item(r)
        for r in resources
        if id(r) not in shown and r.get("resourceType") not in ADMINISTRATIVE
    ]
    if rest:
        sections.append(Section("Other entries", rest))
    patient = _patient(resources)
    names = [n for n in patient.get("name", []) if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    usual = next((str(n["text"]) for n in names if n.get("use") == "usual" and n.get("text")), "")
    identifiers = [  # documents (a passport); the sender's own record ids are secondary
        f"{concept_text(i.get('type')) or 'Identifier'}: {i.get('value', '')}"
        for i in patient.get("identifier", [])
        if isinstance(i, dict) and i.get("type") and i.get("use") != "secondary"
    ]
    authors = [
        str(a.get("display") or _person(by_ref.get(str(a.get("reference", "")), {}), by_ref))
        for a in composition.get("author", [])
        if isinstance(a, dict)
    ]
    return Summary(
        family_name=str(name.get("family", "")),
        given_names=" ".join(str(g) for g in name.get("given", [])),
        original_name=usual,
        birth_date=str(patient.get("birthDate", "")),
        sex=str(patient.get("gender", "")),
        identifiers=identifiers,
        sections=sections,
        author=", ".join(a for a in authors if a),
        date=_date(composition, "date"),
    )
