"""The traveller's summary as an International Patient Summary, and the validator CI runs on it.

Sources: HL7 IPS IG 2.0.0 (STU2), Composition (IPS) profile (section slices, required Problems
11450-4, Allergies 48765-2 and Medications 10160-0, section.text 1..1) and its example
Bundle-bundle-no-info-required-sections (emptyReason "unavailable" with a narrative); FHIR R4
Narrative (status "generated", an XHTML <div>); FHIR R4 Immunization, invariant imm-1 ("One of
documentType or reference SHALL be present"); the FHIR identifier registry (passport numbers:
http://hl7.org/fhir/sid/passport-XXX, ISO 3166 alpha-3) with v2-0203 type PPN.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pmha.exports import fhir
from pmha.exports.fhir.common import code_system_base, local
from pmha.exports.immunization import (
    Facility,
    ImmunizationRecord,
    Provider,
    RecordKind,
    VisDates,
)

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "scripts" / "fhir-validator"
AT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
TRAVELLER = fhir.Traveller(
    "a1",
    "Haddad",
    "Layla Sara",
    dt.date(1990, 6, 1),
    "female",
    "SY",
    (("passport", "N1234567", "SY"), ("national_id", "0123", "SY")),
    "ليلى حداد",
)


def _record(kind: RecordKind, n: int, **fields: Any) -> ImmunizationRecord:
    base = {"immunization_id": f"r{n}", "occurred_at": dt.date(2026, 2, 1), "cvx": "03"}
    return ImmunizationRecord(kind=kind, **{**base, **fields})


def rich_document() -> dict[str, Any]:
    """One traveller with doses of every kind, labs (coded, numeric, syphilis with its RPR and
    titre), a chest X-ray read with findings, vitals, a TB and a syphilis class, the clearance
    and its follow-up, signed by a physician and read by a radiologist."""
    subject = fhir.patient(TRAVELLER)
    centre = fhir.organization(fhir.Centre("IST", "Istanbul assessment centre", "TR"))
    physician = fhir.Clinician("Dr Demo Physician", "DEMO-MD-0001")
    radiologist = fhir.Clinician("Dr Demo Radiologist", "", "radiologist")
    people = [fhir.practitioner(physician), fhir.practitioner(radiologist)]
    roles = [
        fhir.practitioner_role(physician, people[0], centre),
        fhir.practitioner_role(radiologist, people[1], centre),
    ]
    vis = (VisDates(dt.date(2021, 8, 6), dt.date(2026, 2, 1)),)
    doses = [
        _record(
            RecordKind.ADMINISTERED,
            1,
            mvx="MSD",
            lot="L1",
            lot_expiry=dt.date(2027, 1, 1),
            amount=Decimal("0.5"),
            unit="mL",
            route="SC",
            site="LA",
            provider=Provider("u1"),
            location=Facility("IST", "Istanbul"),
            vis=vis,
        ),
        _record(RecordKind.HISTORICAL, 2, information_source="03"),
        _record(RecordKind.REFUSED, 3, refusal_reason="01"),
        _record(RecordKind.SUBPOTENT, 4),
        _record(RecordKind.EVIDENCE_OF_IMMUNITY, 5, cvx="998", immunity_disease="38907003"),
    ]
    day = dt.date(2026, 2, 2)
    labs = [
        fhir.LabResult(
            "l1",
            "syphilis_serology",
            "Syphilis serology",
            "reactive",
            "Reactive",
            day,
            details=(("non_treponemal", "reactive"), ("titre", "1:8")),
        ),
        fhir.LabResult("l2", "tst", "Tuberculin skin test", "12", "12", day),
        fhir.LabResult("l3", "sputum_smear", "Sputum smear", "negative", "Negative", day, 2),
    ]
    xray = fhir.ChestXray(
        "1.2.3",
        "1.2.3.4",
        "1.2.3.4.5",
        "1.2.840.10008.5.1.4.1.1.1",
        "CR",
        dt.date(2026, 2, 1),
        "dicom/x.dcm",
        "suggestive_of_tb",
        ("infiltrate_or_consolidation", "cavitary_lesion"),
        AT,
        "Suggestive of TB",
        ("Infiltrate or consolidation", "Cavitary lesion"),
    )
    classes = [
        fhir.Classification("tb_class", "TB class", "class_b1_pulmonary", "B1", "final", day),
        fhir.Classification("syphilis", "Syphilis", "class_b", "Class B", "final", day),
    ]
    clear = fhir.Clearance(
        "cleared_with_conditions",
        "Cleared with conditions",
        AT,
        "2026.1",
        ("treated before travel",),
        ("TB evaluation after arrival",),
    )
    plan = fhir.follow_up(clear, subject)
    assert plan is not None
    entries = [
        *(fhir.immunization(r, subject) for r in doses),
        *(fhir.lab_observation(r, subject, centre) for r in labs),
        *fhir.imaging(xray, subject, roles[1]),
        *fhir.vital_observations(
            "s1", {"temperature_c": 36.6, "systolic_mmhg": 120, "diastolic_mmhg": 80}, AT, subject
        ),
        *(fhir.condition(c, subject) for c in classes),
        fhir.clearance(clear, subject, roles[0]),
        plan,
        *people,
        *roles,
    ]
    return fhir.bundle(subject, entries, centre, AT, [roles[0]])


def resources(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == kind]


def by_url(doc: dict[str, Any], reference: str) -> dict[str, Any]:
    return next(e["resource"] for e in doc["entry"] if e["fullUrl"] == reference)


def loinc_of(section: dict[str, Any]) -> str:
    """The section's LOINC code ("" for PMHA's own clearance section)."""
    return next((c["code"] for c in section["code"]["coding"] if c["system"] == LOINC), "")


def test_the_rich_document_passes_the_projects_own_checks():
    assert fhir.check_bundle(rich_document()) == []


def test_the_ips_sections_are_there_each_with_a_generated_xhtml_narrative():
    """IPS Composition: required sections always; every section has text (generated XHTML)
    and entries, or an emptyReason when it has nothing to list."""
    doc = rich_document()
    composition = doc["entry"][0]["resource"]
    sections = composition["section"]
    codes = [loinc_of(s) for s in sections]
    assert codes == [
        "11450-4",  # Problems
        "48765-2",  # Allergies and intolerances
        "10160-0",  # Medication summary
        "11369-6",  # Immunizations
        "30954-2",  # Results
        "8716-3",  # Vital signs
        "18776-5",  # Plan of care
        "",  # PMHA's screening and clearance section
    ]
    assert composition["type"]["coding"][0]["code"] == "60591-5"  # Patient summary Document
    for section in sections:
        assert section["text"]["status"] == "generated"
        div = ET.fromstring(section["text"]["div"])
        assert div.tag == "{http://www.w3.org/1999/xhtml}div"
        assert "".join(div.itertext()).strip()
        assert bool(section.get("entry")) != bool(section.get("emptyReason"))
    clearance = sections[-1]
    assert clearance["code"]["coding"][0]["system"] == local("document-section")
    assert by_url(doc, clearance["entry"][0]["reference"])["code"]["coding"][0]["code"] == (
        "clearance"
    )


def test_required_sections_with_nothing_to_list_say_no_information():
    """IPS example Bundle-bundle-no-info-required-sections: emptyReason 'unavailable' (HL7
    list-empty-reason) and a narrative saying so."""
    doc = rich_document()
    sections = {loinc_of(s): s for s in doc["entry"][0]["resource"]["section"]}
    for code in ("48765-2", "10160-0"):
        reason = sections[code]["emptyReason"]["coding"][0]
        assert reason["system"] == "http://terminology.hl7.org/CodeSystem/list-empty-reason"
        assert reason["code"] == "unavailable"
        assert "No information" in sections[code]["text"]["div"]
    empty = fhir.bundle(fhir.patient(TRAVELLER), [], "IST", AT)
    problems = empty["entry"][0]["resource"]["section"][0]
    assert loinc_of(problems) == "11450-4" and problems["emptyReason"]
    assert fhir.check_bundle(empty) == []


def test_the_passport_is_an_identifier_of_type_ppn_under_its_countrys_passport_system():
    patient = resources(rich_document(), "Patient")[0]
    passport = next(i for i in patient["identifier"] if i["value"] == "N1234567")
    assert passport["type"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
        "code": "PPN",
        "display": "Passport number",
    }
    assert passport["system"] == "http://hl7.org/fhir/sid/passport-SYR"
    internal = patient["identifier"][0]
    assert internal["value"] == "a1" and internal["system"] == f"{code_system_base()}/sid/applicant"
    national = next(i for i in patient["identifier"] if i["value"] == "0123")
    assert national["type"]["coding"][0]["code"] == "NI"


def test_every_vis_entry_keeps_imm_1_and_the_check_finds_one_that_does_not():
    """R4 imm-1 on Immunization.education: documentType.exists() or reference.exists()."""
    doc = rich_document()
    given = next(r for r in resources(doc, "Immunization") if r.get("education"))
    education = given["education"][0]
    assert education["documentType"] and education["publicationDate"] == "2021-08-06"
    broken = copy.deepcopy(doc)
    del next(r for r in resources(broken, "Immunization") if r.get("education"))["education"][0][
        "documentType"
    ]
    assert any("imm-1" in p for p in fhir.check_bundle(broken))


@pytest.mark.parametrize(
    ("div", "problem"),
    [
        ("<div>no namespace</div>", "XHTML namespace"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>', "not well-formed"),
        (
            '<!DOCTYPE x [<!ENTITY a "b">]><div xmlns="http://www.w3.org/1999/xhtml">&a;</div>',
            "DTD",
        ),
    ],
)
def test_a_narrative_that_is_not_an_xhtml_div_is_found(div: str, problem: str):
    """R4 Narrative.div: XHTML in a <div> of the XHTML namespace (txt-1, txt-2)."""
    doc = rich_document()
    resources(doc, "Patient")[0]["text"]["div"] = div
    assert any(problem in p for p in fhir.check_bundle(doc))


def test_the_authors_and_the_custodian_resolve_inside_the_document():
    doc = rich_document()
    composition = doc["entry"][0]["resource"]
    role = by_url(doc, composition["author"][0]["reference"])
    assert role["resourceType"] == "PractitionerRole"
    person = by_url(doc, role["practitioner"]["reference"])
    assert person["resourceType"] == "Practitioner"
    assert person["identifier"][0]["value"] == "DEMO-MD-0001"
    assert by_url(doc, role["organization"]["reference"])["resourceType"] == "Organization"
    assert by_url(doc, composition["custodian"]["reference"])["name"] == (
        "Istanbul assessment centre"
    )
    broken = copy.deepcopy(doc)
    broken["entry"][0]["resource"]["author"] = [{"reference": "urn:uuid:elsewhere"}]
    assert any("author" in p for p in fhir.check_bundle(broken))


def test_results_carry_loinc_snomed_and_quantities():
    doc = rich_document()
    labs = {
        r["id"]: r
        for r in resources(doc, "Observation")
        if r["category"][0]["coding"][0]["code"] == "laboratory"
    }
    syphilis, tst, smear = (
        labs[fhir.lab_observation(r, {"id": "x"})["id"]]
        for r in (
            fhir.LabResult("l1", "syphilis_serology", "", "", "", AT.date()),
            fhir.LabResult("l2", "tst", "", "", "", AT.date()),
            fhir.LabResult("l3", "sputum_smear", "", "", "", AT.date()),
        )
    )
    assert syphilis["code"]["coding"][0] == {
        "system": LOINC,
        "code": "22587-0",
        "display": "Treponema pallidum Ab [Presence] in Serum",
    }
    assert syphilis["valueCodeableConcept"]["coding"][0]["code"] == "11214006"  # Reactive
    assert [c["code"]["coding"][0]["code"] for c in syphilis["component"]] == ["20507-0", "31147-2"]
    assert syphilis["component"][1]["valueString"] == "1:8"
    assert tst["valueQuantity"] == {
        "value": 12.0,
        "unit": "mm",
        "system": "http://unitsofmeasure.org",
        "code": "mm",
    }
    assert smear["code"]["coding"][0]["code"] == "11545-1"
    conditions = {r["code"]["coding"][-1]["system"]: r for r in resources(doc, "Condition")}
    syphilis_class = conditions[local("syphilis")]
    assert syphilis_class["code"]["coding"][0] == {
        "system": SNOMED,
        "code": "76272004",
        "display": "Syphilis",
    }
    # TB class B1 is a programme class, not a diagnosis: PMHA's code only.
    assert [c["system"] for c in conditions[local("tb-class")]["code"]["coding"]] == [
        local("tb-class")
    ]


def test_the_chest_x_ray_reading_and_each_finding_are_observations_of_the_report():
    doc = rich_document()
    report = resources(doc, "DiagnosticReport")[0]
    assert report["code"]["coding"][0]["code"] == "18748-4"
    results = [by_url(doc, r["reference"]) for r in report["result"]]
    assert results[0]["code"]["coding"][0]["code"] == "18782-3"
    assert results[0]["valueCodeableConcept"]["coding"][0]["code"] == "suggestive_of_tb"
    assert [r["code"]["coding"][0]["code"] for r in results[1:]] == [
        "infiltrate_or_consolidation",
        "cavitary_lesion",
    ]
    assert all(r["valueCodeableConcept"]["coding"][0]["code"] == "52101004" for r in results[1:])
    reader = by_url(doc, report["performer"][0]["reference"])
    assert reader["code"][0]["coding"][0]["code"] == "66862007"  # Radiologist


def test_local_codes_live_under_the_configured_base(monkeypatch: pytest.MonkeyPatch):
    """No placeholder domain: PMHA's own systems follow PMHA_CODE_SYSTEM_BASE, else the
    centre's PUBLIC_URL."""
    monkeypatch.setenv("PMHA_CODE_SYSTEM_BASE", "https://health.centre.test/fhir")
    text = json.dumps(rich_document())
    assert "pmha.example.org" not in text
    assert "https://health.centre.test/fhir/CodeSystem/clearance" in text
    monkeypatch.delenv("PMHA_CODE_SYSTEM_BASE")
    monkeypatch.setenv("PMHA_PUBLIC_URL", "https://pmha.centre.test/")
    assert local("clearance") == "https://pmha.centre.test/fhir/CodeSystem/clearance"


def _validate(tmp_path: Path, doc: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "document.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return subprocess.run(
        ["node", str(VALIDATOR / "validate.mjs"), "--ips", str(VALIDATOR / "ips"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_built_bundles_summaries_are_ips_documents_of_the_centre(session, world, export_case):
    """Through the real export job: each traveller's document is an IPS document (required
    sections, the centre as custodian, the internal id), and the lab result carries LOINC."""
    from tests.exports.test_bundles import export, opened

    job = export(session, world, export_case)
    files = opened(export_case.storage, job.bundle_id)
    documents = [json.loads(v) for k, v in files.items() if k.startswith("fhir/")]
    assert len(documents) == 2
    for doc in documents:
        assert fhir.check_bundle(doc) == []
        composition = doc["entry"][0]["resource"]
        codes = {loinc_of(s) for s in composition["section"]}
        assert {"11450-4", "48765-2", "10160-0"} <= codes
        custodian = by_url(doc, composition["custodian"]["reference"])
        assert custodian["identifier"][0]["value"] == "IST"
        patient = resources(doc, "Patient")[0]
        internal = patient["identifier"][0]  # the factory's travellers carry no documents
        assert internal["type"]["coding"][0]["code"] == "MR"
    principal = json.loads(files[f"fhir/{export_case.case.principal.id}.json"])
    syphilis = next(r for r in resources(principal, "Observation") if r["code"].get("text"))
    assert any(c["system"] == LOINC for c in syphilis["code"]["coding"])


@pytest.mark.skipif(
    shutil.which("node") is None,
    reason="node is not installed: the FHIR "
    "validator (Medplum's, npm) needs it; CI's scripts/check-fhir.sh does not skip",
)
def test_medplums_validator_passes_the_document_and_catches_imm_1(tmp_path: Path):
    """The independent validator (base R4 with its FHIRPath invariants, and IPS 2.0.0 profiles)
    gives 0 errors on the rich document and catches imm-1 on a broken copy."""
    subprocess.run(["bash", str(VALIDATOR / "setup.sh")], check=True, timeout=600)
    doc = rich_document()
    ok = _validate(tmp_path, doc)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert " 0 errors" in ok.stdout
    broken = copy.deepcopy(doc)
    del next(r for r in resources(broken, "Immunization") if r.get("education"))["education"][0][
        "documentType"
    ]
    caught = _validate(tmp_path, broken)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "Constraint imm-1 not met" in caught.stdout


def test_measured_values_leave_as_quantities_with_their_range_flag_and_laboratory():
    """Issue 18's measured values: UCUM Quantity, referenceRange and a v3
    ObservationInterpretation flag (FHIR R4 Observation.referenceRange, .interpretation), the
    urinalysis as LOINC 24356-8 with one component per analyte, performed by the laboratory the
    result names (IPS lab profile: performer 1..*)."""
    subject = fhir.patient(TRAVELLER)
    lab = fhir.laboratory("Demo reference laboratory")
    day = dt.date(2026, 2, 2)
    urine = fhir.lab_observation(
        fhir.LabResult(
            "u1",
            "urinalysis",
            "Urinalysis",
            "abnormal",
            "Abnormal",
            day,
            measured=(
                fhir.Measure("protein", "Protein", 30, "mg/dL", 0, 14.9, "H", "mg/dL"),
                fhir.Measure("ph", "pH", 6, "[pH]", 4.5, 8, "N"),
            ),
        ),
        subject,
        lab,
    )
    assert urine["code"]["coding"][0]["code"] == "24356-8"
    assert urine["valueCodeableConcept"]["coding"][0]["code"] == "263654008"  # Abnormal
    protein, ph = urine["component"]
    assert protein["code"]["coding"][0]["code"] == "5804-0"
    assert protein["valueQuantity"]["code"] == "mg/dL" and protein["valueQuantity"]["value"] == 30
    assert protein["referenceRange"][0]["high"]["value"] == 14.9
    assert protein["interpretation"][0]["coding"][0]["code"] == "H"
    assert ph["code"]["coding"][0]["code"] == "5803-2" and ph["valueQuantity"]["code"] == "[pH]"
    creatinine = fhir.lab_observation(
        fhir.LabResult(
            "c1",
            "serum_creatinine",
            "Serum creatinine",
            "normal",
            "Normal",
            day,
            measured=(
                fhir.Measure("creatinine", "Creatinine", 80, "umol/L", 65, 119, "N", "µmol/L"),
            ),
        ),
        subject,
        lab,
    )
    assert creatinine["code"]["coding"][0]["code"] == "14682-9"  # [Moles/volume], as measured
    assert creatinine["valueQuantity"] == {
        "value": 80.0,
        "unit": "µmol/L",
        "system": "http://unitsofmeasure.org",
        "code": "umol/L",
    }
    doc = fhir.bundle(subject, [urine, creatinine, lab], "IST", AT)
    assert fhir.check_bundle(doc) == []
    assert by_url(doc, urine["performer"][0]["reference"])["name"] == "Demo reference laboratory"
