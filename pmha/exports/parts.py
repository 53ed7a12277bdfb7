"""What goes into a case's bundle: a list of parts, each a file with its media type.

Each contributor is a function from the case being exported to parts; other domains (travel's
clearance certificate, TB follow-up) plug theirs in by adding to `CONTRIBUTORS`. A part marked
`stable=False` (a PDF with its own creation date) is left out of the content key, so that the
same case content gives the same bundle id.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pmha.cases.models import Applicant, FamilyCase
from pmha.core.auth import Actor
from pmha.core.errors import AppError
from pmha.exams import dicom, lab_ranges, lab_service, lab_values, radiology
from pmha.exams import service as exams
from pmha.exams.models import SectionKind, SectionStatus
from pmha.exports import fhir, hl7, updates
from pmha.exports.immunization import Facility, ImmunizationRecord
from pmha.rules import RuleBook
from pmha.tb_dot.summary import tb_summary
from pmha.travel import certificates, handover
from pmha.vaccines import records as vaccinations
from pmha.vaccines.export import patient_of, to_immunization_records
from pmha.vaccines.record_pdf import render_record
from pmha.workflow import service as workflow
from pmha.workflow.labels import CLEARANCE, OUTCOMES, label, value_label


@dataclass(frozen=True)
class Part:
    name: str  # path inside the zip: ids only, never names
    media_type: str
    data: bytes
    stable: bool = True


@dataclass
class Export:
    """The case being exported, and what contributors learn about it along the way."""

    session: Session
    actor: Actor
    rules: RuleBook
    storage: Path
    case: FamilyCase
    as_of: dt.datetime = field(default_factory=lambda: dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    rule_versions: set[str] = field(default_factory=set)
    travellers: list[dict[str, Any]] = field(default_factory=list)
    # The VXUs: what they send (written down once the bundle exists), and the same parts as the
    # last bundle that sent had them, so that an unchanged case finds that bundle again.
    sends: list[updates.Send] = field(default_factory=list)
    last_bundle: uuid.UUID | None = None
    as_last_sent: dict[str, bytes | None] = field(default_factory=dict)


Contributor = Callable[[Export], list[Part]]

# TB classes that call for an evaluation after arrival (US: B1, B2, B3 and a Class A waiver).
FOLLOW_UP_CLASSES = frozenset(
    {
        "class_a_waiver",
        "class_b1_pulmonary",
        "class_b1_extrapulmonary",
        "class_b2_ltbi",
        "class_b3_contact",
    }
)
CLASSIFIED = ("tb_class", "syphilis", "gonorrhea")


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1).encode()


def _traveller(a: Applicant) -> fhir.Traveller:
    original = " ".join(x for x in (a.given_names_original, a.family_name_original) if x)
    return fhir.Traveller(
        id=str(a.id),
        family_name=a.family_name,
        given_names=a.given_names,
        birth_date=a.dob,
        sex=a.sex.value,
        nationality=a.nationality,
        documents=tuple((d.doc_type.value, d.number, d.issuing_country) for d in a.documents),
        original_name=original,
    )


def _classifications(plan: dict[str, Any] | None, mental: str | None) -> list[fhir.Classification]:
    out = []
    for found in (plan or {}).get("outcomes", []):
        value = (found.get("values") or ["none"])[0]
        if found["kind"] in CLASSIFIED and value != "none":
            out.append(
                fhir.Classification(
                    kind=found["kind"],
                    kind_name=OUTCOMES.get(found["kind"], found["kind"]),
                    value=value,
                    value_name=value_label(value),
                    status=found["status"],
                    date=dt.date.fromisoformat(found["date"]) if found.get("date") else None,
                )
            )
    if mental and mental != "none":
        out.append(
            fhir.Classification(
                "mental_health", "Mental health", mental, value_label(mental), "final"
            )
        )
    return out


def _follow_up(plan: dict[str, Any] | None) -> list[str]:
    """What the destination is asked to do after arrival, from the plan's outcomes."""
    out = []
    for found in (plan or {}).get("outcomes", []):
        value = (found.get("values") or [None])[0]
        if found["kind"] == "tb_class" and value in FOLLOW_UP_CLASSES:
            out.append(f"TB evaluation after arrival ({value_label(value)})")
        elif found["kind"] == "medical_surveillance" and value not in (None, "none"):
            days = found.get("report_within_days")
            within = f" within {days} days" if days else ""
            out.append(f"Report for medical surveillance{within}")
        elif found["kind"] == "tb_undertaking" and value not in (None, "none"):
            out.append(f"Health undertaking ({value_label(value)})")
    return out


def _signed(sections: dict[SectionKind, list[Any]], kind: SectionKind) -> Any:
    signed = [s for s in sections.get(kind, []) if s.status == SectionStatus.SIGNED]
    return signed[-1] if signed else None


@dataclass(frozen=True)
class _Vaccinations:
    applicant: Applicant
    records: list[ImmunizationRecord]
    ids: dict[str, uuid.UUID]
    now: dt.datetime


def _vxu(ex: Export, v: _Vaccinations, records: list[ImmunizationRecord]) -> bytes | None:
    if not records:
        return None
    site = ex.case.site
    text = hl7.build_vxu(
        patient_of(v.applicant, site.code),
        records,
        Facility(site.code, site.name, "PMHA"),
        Facility(ex.case.destination.value, "", "PHA"),
        updates.control_id(str(v.applicant.id), records),
        v.now,
    )
    return text.encode()


def vxu_parts(ex: Export, found: list[_Vaccinations]) -> list[Part]:
    """Per traveller, a VXU of what changed since the last bundle that sent (A, U, D), none
    when nothing did; and, for `ex.as_last_sent`, the VXUs as that bundle had them."""
    rows = updates.history(ex.session, [i for v in found for i in v.ids.values()])
    ex.last_bundle = updates.last_bundle(rows)
    now_sent, before_last = updates.latest(rows), updates.latest(rows, without=ex.last_bundle)
    parts = []
    for v in found:
        name = f"hl7/{v.applicant.id}.hl7"
        records = updates.outgoing(v.records, now_sent)
        data = _vxu(ex, v, records)
        if data is not None:
            parts.append(Part(name, "application/hl7-v2", data))
            control = updates.control_id(str(v.applicant.id), records)
            ex.sends += updates.sends(records, v.ids, control)
        if ex.last_bundle is not None:
            ex.as_last_sent[name] = _vxu(ex, v, updates.outgoing(v.records, before_last))
    return parts


def _clinician(section: Any) -> fhir.Clinician | None:
    """Who signed an exam section, as the section recorded them when it was signed."""
    if section is None or not section.signed_by_name:
        return None
    return fhir.Clinician(
        section.signed_by_name,
        section.signed_by_registration or "",
        "panel_physician",
    )


@dataclass
class _Parties:
    """The centre and the clinicians of one traveller's summary, each once."""

    centre: dict[str, Any]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    authors: list[dict[str, Any]] = field(default_factory=list)

    def role(self, who: fhir.Clinician | None, author: bool = False) -> dict[str, Any] | None:
        if who is None:
            return None
        person = fhir.practitioner(who)
        role = fhir.practitioner_role(who, person, self.centre)
        self.resources.setdefault(person["id"], person)
        role = self.resources.setdefault(role["id"], role)
        if author and role not in self.authors:
            self.authors.append(role)
        return role


def _lab_entries(
    ex: Export, a: Applicant, subject: dict[str, Any], parties: _Parties
) -> list[dict[str, Any]]:
    """The lab results with their measured values, each reported by the laboratory it names,
    else by the centre."""
    found = [(o, r) for o, r in lab_service.labs(ex.session, ex.actor, a.id) if r is not None]
    measured = lab_service.measurements(ex.session, [r for _, r in found if r is not None])
    entries = []
    for order, result in found:
        assert result is not None
        details = tuple(
            (str(k), str(v)) for k, v in sorted((result.details or {}).items()) if v is not None
        )
        values = tuple(
            fhir.Measure(
                m.analyte,
                _analyte_words(order.code, m.analyte),
                m.value,
                m.unit,
                m.reference_low,
                m.reference_high,
                m.flag or "",
                _analyte_shown(order.code, m.analyte),
            )
            for m in measured.get(result.id, [])
        )
        performer = parties.centre
        if result.performing_lab:
            lab = fhir.laboratory(result.performing_lab)
            performer = parties.resources.setdefault(lab["id"], lab)
        entries.append(
            fhir.lab_observation(
                fhir.LabResult(
                    str(result.id),
                    order.code,
                    label(order.code),
                    result.value,
                    value_label(result.value),
                    result.result_date,
                    order.specimen,
                    "preliminary" if result.value == lab_values.NEEDS_REVIEW else "final",
                    details,
                    values,
                    result.performing_lab or "",
                ),
                subject,
                performer,
            )
        )
    return entries


def _analyte(code: str, analyte: str) -> Any:
    panel = lab_ranges.PANELS.get(code)
    return next((x for x in panel.analytes if x.code == analyte), None) if panel else None


def _analyte_words(code: str, analyte: str) -> str:
    found = _analyte(code, analyte)
    return str(found.words) if found is not None else analyte.replace("_", " ")


def _analyte_shown(code: str, analyte: str) -> str:
    found = _analyte(code, analyte)
    return str(found.shown) if found is not None else ""


def _xray_entries(
    ex: Export, a: Applicant, subject: dict[str, Any], parties: _Parties, parts: list[Part]
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for study, reading in radiology.studies(ex.session, ex.actor, a.id):
        if study.held:  # its header names someone else: not this applicant's evidence
            continue
        name = f"dicom/{study.sha256}.dcm"
        findings = tuple(reading.findings) if reading else ()
        xray = fhir.ChestXray(
            study.study_uid,
            study.series_uid,
            study.instance_uid,
            study.sop_class_uid,
            study.modality,
            study.acquired_on,
            name,
            reading.decision if reading else "",
            findings,
            reading.read_at if reading else None,
            value_label(reading.decision) if reading else "",
            tuple(radiology.FINDING_WORDS.get(f, f.replace("_", " ")) for f in findings),
        )
        reader = None
        if reading is not None and reading.read_by_name:
            reader = parties.role(fhir.Clinician(reading.read_by_name, "", "radiologist"))
        entries += fhir.imaging(xray, subject, reader)
        data = dicom.load(study.sha256, ex.storage / "dicom")
        parts.append(Part(name, "application/dicom", data))
    return entries


def clinical_summary(ex: Export) -> list[Part]:
    """Per traveller: the FHIR document (an International Patient Summary), the VXU and the
    original chest X-rays."""
    parts: list[Part] = []
    vaccinated: list[_Vaccinations] = []
    site = ex.case.site
    for a in ex.case.applicants:
        flow = workflow.view(ex.session, ex.actor, ex.rules, a.id)
        ex.as_of = max(ex.as_of, flow.record.planned_at)
        if flow.record.rules_version:
            ex.rule_versions.add(f"{ex.case.destination.value} {flow.record.rules_version}")
        subject = fhir.patient(_traveller(a))
        parties = _Parties(fhir.organization(fhir.Centre(site.code, site.name, site.country)))
        entries: list[dict[str, Any]] = []
        records = vaccinations.records(ex.session, ex.actor, a.id)
        immunizations = to_immunization_records(a, records)
        entries += [fhir.immunization(r, subject) for r in immunizations]
        entries += _lab_entries(ex, a, subject, parties)
        sections = exams.record(ex.session, ex.actor, a.id)
        physical = _signed(sections, SectionKind.PHYSICAL_EXAM)
        physician = parties.role(_clinician(physical), author=True)
        if physical is not None and physical.signed_at is not None:
            vitals = physical.data.get("vitals") or {}
            entries += fhir.vital_observations(
                str(physical.id), vitals, physical.signed_at, subject
            )
        mental = _signed(sections, SectionKind.MENTAL_HEALTH)
        parties.role(_clinician(mental), author=True)
        classes = _classifications(
            flow.record.plan, mental.data.get("classification") if mental is not None else None
        )
        entries += [fhir.condition(c, subject) for c in classes]
        entries += _xray_entries(ex, a, subject, parties, parts)
        decision = flow.decision
        follow = _follow_up(flow.record.plan)
        status_name = CLEARANCE.get(decision.status, (decision.status, ""))[0]
        clear = fhir.Clearance(
            decision.status,
            status_name,
            flow.record.planned_at,
            flow.record.rules_version or "",
            decision.conditions,
            tuple(follow),
        )
        entries.append(fhir.clearance(clear, subject, physician))
        plan_of_care = fhir.follow_up(clear, subject)
        if plan_of_care is not None:
            entries.append(plan_of_care)
        entries += list(parties.resources.values())
        document = fhir.bundle(
            subject, entries, parties.centre, flow.record.planned_at, parties.authors
        )
        parts.append(Part(f"fhir/{a.id}.json", "application/fhir+json", _json(document)))
        ids = {str(r.id): r.id for r in records}
        vaccinated.append(_Vaccinations(a, immunizations, ids, flow.record.planned_at))
        ex.travellers.append(
            {
                "id": str(a.id),
                "fhir": f"fhir/{a.id}.json",
                "clearance": decision.status,
                "classifications": [f"{c.kind}:{c.value}" for c in classes],
                "follow_up": follow,
            }
        )
    return parts + vxu_parts(ex, vaccinated)


def vaccination_records(ex: Export) -> list[Part]:
    """The vaccination record PDF of each traveller (the vaccines domain renders it)."""
    return [
        Part(
            f"pdf/vaccination-record-{a.id}.pdf",
            "application/pdf",
            render_record(ex.session, ex.actor, a.id, rules=ex.rules),
            stable=False,
        )
        for a in ex.case.applicants
    ]


def clearance_certificates(ex: Export) -> list[Part]:
    """Each traveller's clearance certificate PDF (travel), when one can be issued."""
    parts = []
    for a in ex.case.applicants:
        try:
            with ex.session.begin_nested():
                data = certificates.render_certificate(ex.session, ex.actor, a.id)
        except AppError:  # not cleared, or not booked on a departure yet: no certificate
            continue
        parts.append(Part(f"pdf/clearance-{a.id}.pdf", "application/pdf", data, stable=False))
    return parts


def handover_and_tb(ex: Export) -> list[Part]:
    """Travel's post-arrival handover and the TB programme's summary, per traveller, as JSON;
    the handover's follow-ups join the arrival list's."""
    parts = []
    by_id = {t["id"]: t for t in ex.travellers}
    for a in ex.case.applicants:
        items: Any = handover.follow_up(ex.session, ex.actor, a.id)
        parts.append(Part(f"handover/{a.id}.json", "application/json", _json(items)))
        told = by_id.get(str(a.id))
        if told is not None:
            for item in items:
                if item.get("kind") == "follow_up" and item.get("what"):
                    days = item.get("within_days")
                    text = f"{item['what']} (within {days} days)" if days else item["what"]
                    told["follow_up"].append(text)
        summary: Any = tb_summary(ex.session, ex.actor, a.id, rules=ex.rules)
        parts.append(Part(f"tb/{a.id}.json", "application/json", _json(summary)))
    return parts


CONTRIBUTORS: list[Contributor] = [
    clinical_summary,
    vaccination_records,
    clearance_certificates,
    handover_and_tb,
]
