"""The arrival summary reader (pmha.exports.summary), without a database: FHIR R4 resources in
words, by type (element names from https://hl7.org/fhir/R4/observation.html, immunization.html,
diagnosticreport.html, composition.html: `section.emptyReason` as IPS uses it for "no
information"), the narrative never read, and an unknown resource type still shown."""

from __future__ import annotations

from pmha.exports import summary

LOINC = "http://loinc.org"


def doc(*resources, sections=None):
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    comp = {
        "resourceType": "Composition",
        "id": "c",
        "text": {"status": "generated", "div": "<div><script>x()</script></div>"},
        "author": [{"reference": "urn:uuid:dr"}],
        "date": "2026-05-01T12:30:00+03:00",
        "section": sections or [],
    }
    people = [
        {"resourceType": "Practitioner", "id": "dr",
         "name": [{"family": "Demir", "given": ["Ay"]}]},
        {
            "resourceType": "Patient",
            "id": "p",
            "name": [{"use": "official", "family": "Haddad", "given": ["Omar", "Ali"]}],
            "birthDate": "1985-03-14",
            "identifier": [
                {"use": "secondary", "type": {"text": "MR"}, "value": "internal"},
                {"type": {"coding": [{"code": "PPN", "display": "Passport number"}]},
                 "value": "N1234567"},
            ],
        },
    ]  # fmt: skip
    return {
        "resourceType": "Bundle",
        "entry": [{"fullUrl": "urn:uuid:c", "resource": comp}, *entries]
        + [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in people],
    }


def ref(r):
    return {"reference": f"urn:uuid:{r['id']}"}


HB = {
    "resourceType": "Observation",
    "id": "hb",
    "status": "final",
    "category": [{"coding": [{"code": "laboratory"}]}],
    "code": {"coding": [{"system": LOINC, "code": "718-7", "display": "Hemoglobin"}]},
    "valueQuantity": {"value": 13.5, "unit": "g/dL"},
    "referenceRange": [
        {"low": {"value": 12, "unit": "g/dL"}, "high": {"value": 16, "unit": "g/dL"}}
    ],
    "interpretation": [{"coding": [{"code": "N", "display": "Normal"}]}],
    "effectiveDateTime": "2026-05-01T09:05:00+03:00",
    "text": {"status": "generated", "div": "<div>NARRATIVE-ONLY</div>"},
}
MMR = {
    "resourceType": "Immunization",
    "id": "mmr",
    "status": "not-done",
    "statusReason": {"coding": [{"code": "IMMUNE", "display": "immunity"}]},
    "vaccineCode": {"coding": [{"code": "03", "display": "MMR"}]},
    "occurrenceDateTime": "2020-01-01",
}


def test_a_lab_result_reads_with_its_value_unit_range_and_time_in_utc():
    read = summary.read(doc(HB, sections=[{"title": "Results", "entry": [ref(HB)]}]))
    (line,) = read.items("result")
    assert (line.name, line.value) == ("Hemoglobin", "13.5 g/dL")
    assert "Reference range: 12 g/dL to 16 g/dL" in line.details
    assert "Interpretation: Normal" in line.details
    assert line.date == "2026-05-01 06:05 UTC"
    assert line.codes == [f"{LOINC}|718-7"]
    assert "NARRATIVE-ONLY" not in str(read.as_dict())


def test_a_vaccination_not_given_says_why():
    (line,) = summary.read(
        doc(MMR, sections=[{"title": "Immunizations", "entry": [ref(MMR)]}])
    ).items("vaccination")
    assert (line.name, line.value, line.date) == ("MMR", "not given", "2020-01-01")
    assert "Not given: immunity" in line.details


def test_an_empty_section_says_why_and_an_unknown_type_is_still_shown():
    odd = {"resourceType": "FamilyMemberHistory", "id": "f", "code": {"text": "Father: TB"}}
    read = summary.read(
        doc(odd, sections=[{"title": "Allergies", "emptyReason": {"text": "No information"}}])
    )
    assert [(s.title, s.empty_reason) for s in read.sections] == [
        ("Allergies", "No information"),
        ("Other entries", ""),
    ]
    (line,) = read.sections[1].items
    assert (line.resource_type, line.group, line.name) == (
        "FamilyMemberHistory",
        "other",
        "Father: TB",
    )


def test_a_report_shows_its_readings_inside_it_and_the_author_by_name():
    reading = {
        **HB,
        "id": "r1",
        "category": [{"coding": [{"code": "imaging"}]}],
        "code": {"text": "Chest X-ray reading"},
        "valueCodeableConcept": {"text": "Normal"},
    }
    reading.pop("valueQuantity")
    report = {"resourceType": "DiagnosticReport", "id": "dr1", "status": "final",
              "code": {"text": "Chest X-ray"}, "conclusion": "no findings",
              "conclusionCode": [{"text": "Normal"}], "result": [ref(reading)]}  # fmt: skip
    read = summary.read(
        doc(report, reading, sections=[{"title": "Results", "entry": [ref(report)]}])
    )
    assert [s.title for s in read.sections] == ["Results"]  # the reading is not listed twice
    (line,) = read.items()
    assert line.value == "Normal"
    assert "Findings: no findings" in line.details and "Chest X-ray reading: Normal" in line.details
    assert read.author == "Ay Demir"
    assert read.identifiers == ["Passport number: N1234567"]  # not the sender's record id
    assert (read.family_name, read.given_names) == ("Haddad", "Omar Ali")


def test_a_panel_reads_as_its_values_in_order():
    bp = {"resourceType": "Observation", "id": "bp", "status": "final",
          "category": [{"coding": [{"code": "vital-signs"}]}], "code": {"text": "Blood pressure"},
          "component": [
              {"code": {"text": "Systolic"}, "valueQuantity": {"value": 120.0, "unit": "mm[Hg]"}},
              {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 80.0, "unit": "mm[Hg]"}},
          ]}  # fmt: skip
    (line,) = summary.read(doc(bp)).items("vital_sign")
    assert line.value == "120 / 80 mmHg"
    assert line.details == ["Systolic: 120 mmHg", "Diastolic: 80 mmHg"]
