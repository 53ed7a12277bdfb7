"""FHIR R4 resources, checked structurally: one test per Immunization pattern (BRIEF §8.3, the
CDC guide's administered / historical / refused / sub-potent / evidence of immunity), and the
summary document's resources and Bundle rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pmha.exports import fhir
from pmha.exports.fhir.common import ACT_REASON, CVX, IMMUNIZATION_ORIGIN, MVX, local
from pmha.exports.immunization import Facility, ImmunizationRecord, Provider, RecordKind, VisDates

TRAVELLER = fhir.Traveller(
    "a1",
    "Haddad",
    "Layla Sara",
    dt.date(1990, 6, 1),
    "female",
    "SY",
    (("passport", "N1234567", "SY"),),
    "ليلى حداد",
)
AT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def patient():
    return fhir.patient(TRAVELLER)


def document(*entries):
    return fhir.bundle(patient(), list(entries), "IST test centre", AT)


def record(kind: RecordKind, **fields) -> ImmunizationRecord:
    base = {"immunization_id": "r1", "occurred_at": dt.date(2026, 2, 1), "cvx": "03"}
    return ImmunizationRecord(kind=kind, **{**base, **fields})


def coded(concept, system):
    return [c["code"] for c in concept["coding"] if c["system"] == system]


def test_administered_is_completed_from_a_primary_source_with_lot_and_maker():
    r = record(
        RecordKind.ADMINISTERED,
        mvx="MSD",
        lot="L1",
        lot_expiry=dt.date(2027, 1, 1),
        amount=Decimal("0.5"),
        unit="mL",
        route="SC",
        site="LA",
        provider=Provider("u1"),
        location=Facility("IST", "Istanbul"),
        vis=(VisDates(dt.date(2021, 8, 6), dt.date(2026, 2, 1)),),
    )
    res = fhir.immunization(r, patient())
    assert res["status"] == "completed" and res["primarySource"] is True
    assert coded(res["vaccineCode"], CVX) == ["03"]
    assert res["manufacturer"]["identifier"] == {"system": MVX, "value": "MSD"}
    assert res["lotNumber"] == "L1" and res["expirationDate"] == "2027-01-01"
    assert res["doseQuantity"]["value"] == 0.5 and res["doseQuantity"]["code"] == "mL"
    assert res["education"][0]["publicationDate"] == "2021-08-06"
    assert "isSubpotent" not in res
    assert fhir.check_bundle(document(res)) == []


def test_historical_is_not_a_primary_source_and_names_its_source():
    res = fhir.immunization(record(RecordKind.HISTORICAL, information_source="03"), patient())
    assert res["status"] == "completed" and res["primarySource"] is False
    assert coded(res["reportOrigin"], IMMUNIZATION_ORIGIN) == ["record"]  # parent's written record
    assert fhir.check_bundle(document(res)) == []


def test_refused_is_not_done_with_a_status_reason():
    res = fhir.immunization(record(RecordKind.REFUSED, cvx="03", refusal_reason="03"), patient())
    assert res["status"] == "not-done"
    assert coded(res["statusReason"], ACT_REASON) == ["PATOBJ"]
    assert coded(res["statusReason"], local("cdc-nip002")) == ["03"]
    religious = fhir.immunization(record(RecordKind.REFUSED, refusal_reason="01"), patient())
    assert coded(religious["statusReason"], ACT_REASON) == ["RELIG"]
    assert fhir.check_bundle(document(res)) == []


def test_subpotent_is_completed_and_flagged():
    res = fhir.immunization(
        record(RecordKind.SUBPOTENT, amount=Decimal("0.25"), unit="mL"), patient()
    )
    assert res["status"] == "completed" and res["isSubpotent"] is True
    assert fhir.check_bundle(document(res)) == []


def test_evidence_of_immunity_is_not_done_for_immunity_with_the_disease():
    res = fhir.immunization(
        record(RecordKind.EVIDENCE_OF_IMMUNITY, cvx="998", immunity_disease="38907003"), patient()
    )
    assert res["status"] == "not-done"
    assert coded(res["statusReason"], ACT_REASON) == ["IMMUNE"]
    assert res["reasonCode"][0]["coding"][0]["code"] == "38907003"  # varicella, SNOMED CT
    assert coded(res["vaccineCode"], CVX) == ["998"]
    assert fhir.check_bundle(document(res)) == []


def test_the_same_record_gives_the_same_resource_id():
    a = fhir.immunization(record(RecordKind.ADMINISTERED), patient())
    b = fhir.immunization(record(RecordKind.ADMINISTERED), patient())
    assert a["id"] == b["id"]


def test_a_full_summary_document_is_well_formed():
    subject = patient()
    lab = fhir.lab_observation(
        fhir.LabResult("l1", "igra", "IGRA", "negative", "Negative", dt.date(2026, 2, 2)), subject
    )
    vitals = fhir.vital_observations(
        "s1",
        {"height_cm": 170, "weight_kg": 65.5, "systolic_mmhg": 120, "diastolic_mmhg": 80},
        AT,
        subject,
    )
    condition = fhir.condition(
        fhir.Classification(
            "tb_class", "TB classification", "class_b2_ltbi", "Class B2 (LTBI)", "final"
        ),
        subject,
    )
    study, *_ = xray = fhir.imaging(
        fhir.ChestXray(
            "1.2.3",
            "1.2.3.1",
            "1.2.3.1.1",
            "1.2.840.10008.5.1.4.1.1.1",
            "CR",
            dt.date(2026, 2, 2),
            "dicom/x.dcm",
            "normal",
            (),
            AT,
        ),
        subject,
    )
    clear = fhir.Clearance(
        "cleared_with_conditions",
        "Cleared with conditions",
        AT,
        "2024.1",
        ("LTBI follow-up",),
        ("TB evaluation after arrival",),
    )
    plan = fhir.follow_up(clear, subject)
    entries = [lab, *vitals, condition, *xray, fhir.clearance(clear, subject), plan]
    doc = fhir.bundle(subject, entries, "IST", AT)
    assert fhir.check_bundle(doc) == []
    composition = doc["entry"][0]["resource"]
    titles = [s["title"] for s in composition["section"]]
    assert titles == [
        "Problem list",
        "Allergies and intolerances",
        "Medication summary",
        "Results",
        "Vital signs",
        "Plan of care",
        "Migration health screening and clearance",
    ]
    assert study["resourceType"] == "ImagingStudy"
    assert [v["code"]["coding"][0]["code"] for v in vitals] == ["8302-2", "29463-7", "85354-9"]
    components = [c["code"]["coding"][0]["code"] for c in vitals[2]["component"]]
    assert components == ["8480-6", "8462-4"]  # systolic, diastolic (LOINC)


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        (lambda d: d.update(type="collection"), "Bundle.type"),
        (lambda d: d["entry"].reverse(), "starts with its Composition"),
        (lambda d: d["entry"][1]["resource"].pop("birthDate"), "birthDate: required"),
        (lambda d: d["entry"][1]["resource"].update(gender="f"), "gender: not a valid code"),
        (lambda d: d["entry"][0]["resource"].update(date="2026-03-01T09:30"), "date"),
        (
            lambda d: d["entry"][0]["resource"]["subject"].update(reference="urn:uuid:nowhere"),
            "not in the Bundle",
        ),
        (lambda d: d["entry"].append(d["entry"][1]), "used twice"),
    ],
)
def test_the_checks_find_each_structural_problem(breakage, problem):
    doc = document()
    breakage(doc)
    found = fhir.check_bundle(doc)
    assert any(problem in p for p in found), found


def test_a_lab_result_awaiting_the_physicians_decision_is_preliminary():
    """A syphilis result whose tests disagree settles nothing until a physician decides
    (BRIEF 1.4 [S12c]): it leaves as a preliminary Observation, never a final one (FHIR R4
    Observation.status)."""
    subject = patient()
    waiting = fhir.lab_observation(
        fhir.LabResult(
            "l2",
            "syphilis_serology",
            "Syphilis",
            "needs_review",
            "Needs review",
            dt.date(2026, 2, 2),
            status="preliminary",
        ),
        subject,
    )
    settled = fhir.lab_observation(
        fhir.LabResult("l3", "igra", "IGRA", "negative", "Negative", dt.date(2026, 2, 2)), subject
    )
    assert (waiting["status"], settled["status"]) == ("preliminary", "final")
