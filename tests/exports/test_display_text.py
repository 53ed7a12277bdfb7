"""Every coded value that leaves the system carries its display text: in HL7 v2 the CE/CWE text
and coding system components (2 and 3: RXA-5 CVX, RXA-7 UCUM, RXA-9 NIP001, RXA-17 MVX, RXA-18
NIP002, RXR-1/2 HL70162/HL70163, OBX-3 LOINC, OBX-5 SNOMED CT evidence of immunity; BRIEF 8.2-8.3
[S37a, S37b]), and in FHIR every Coding's display (CVX and MVX names, BRIEF 7.1-7.2 [S36]; the
evidence-of-immunity SNOMED CT terms, BRIEF 8.3 and CDSi [S34]; TB class, lab results, X-ray
decision, country, document type, DICOM modality and SOP class). Synthetic patients only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha import demo as seed_demo
from pmha.cases.models import Applicant
from pmha.codes import CVX, HL70162, HL70163, MVX, NIP001, NIP002, SNOMED_IMMUNITY
from pmha.core.auth import Actor, Role
from pmha.exams.radiology import XrayReading, XrayStudy
from pmha.exports import fhir, hl7, parts
from pmha.exports.hl7 import Hl7Error
from pmha.exports.immunization import (
    Facility,
    ImmunizationRecord,
    Patient,
    Provider,
    RecordKind,
    VisDates,
)
from pmha.tb_dot.models import TbEpisode
from pmha.vaccines.models import RecordKind as StoredKind
from pmha.vaccines.models import VaccinationRecord

# CE/CWE fields of our VXU, by segment (BRIEF 8.2).
CODED = {"RXA": (5, 7, 9, 17, 18), "RXR": (1, 2), "OBX": (3, 5)}
NOW = dt.datetime(2026, 3, 10, 12, 0)
SENDER, RECEIVER = Facility("IST", "Istanbul", "PMHA"), Facility("US", "", "PHA")
PATIENT = Patient("TST-1", "IST", "Testperson", "Ada", dt.date(1990, 1, 2), "F")
DAY = dt.date(2026, 3, 10)


def hl7_without_text(text: str) -> list[str]:
    """Every coded HL7 component lacking its text or coding system, as 'SEG-n code'."""
    missing = []
    for segment in text.replace("\n", "\r").split("\r"):
        fields = segment.split("|")
        for n in CODED.get(fields[0], ()):
            if n >= len(fields) or (
                fields[0] == "OBX" and n == 5 and fields[2] not in ("CE", "CWE")
            ):
                continue
            for value in fields[n].split("~"):
                code, text_, system = ([*value.split("^"), "", ""])[:3]
                if code and not (text_ and system):
                    missing.append(f"{fields[0]}-{n} {code}")
    return missing


def fhir_without_display(value: Any, path: str = "") -> list[str]:
    """Every FHIR Coding (a system and a code, not a Quantity) lacking its display."""
    missing = []
    if isinstance(value, dict):
        coding = "system" in value and "code" in value and "value" not in value
        if coding and not value.get("display"):
            missing.append(f"{path} {value['system']}#{value['code']}")
        for key, inner in value.items():
            missing += fhir_without_display(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            missing += fhir_without_display(inner, f"{path}[{n}]")
    return missing


def _every_code() -> list[ImmunizationRecord]:
    """One record per code of each table we send: CVX, MVX, NIP001, NIP002, routes, sites,
    evidence-of-immunity SNOMED CT codes."""
    given = ImmunizationRecord(
        RecordKind.ADMINISTERED, "given", NOW, "03", amount=Decimal("0.5"), unit="mL",
        provider=Provider("N1"), location=Facility("IST"), lot="L1",
        lot_expiry=dt.date(2027, 1, 1), mvx="MSD", route="SC", site="LA",
        vis=(VisDates(dt.date(2021, 8, 6), DAY),), dose_number=1,
    )  # fmt: skip
    out = [given]
    out += [dataclasses.replace(given, immunization_id=f"cvx-{c}", cvx=c, vaccine_name="")
            for c in CVX if c not in ("998", "999")]  # fmt: skip
    out += [dataclasses.replace(given, immunization_id=f"mvx-{m}", mvx=m) for m in MVX]
    out += [dataclasses.replace(given, immunization_id=f"route-{r}", route=r) for r in HL70162]
    out += [dataclasses.replace(given, immunization_id=f"site-{s}", site=s) for s in HL70163]
    out += [ImmunizationRecord(RecordKind.HISTORICAL, f"src-{s}", dt.date(2000, 1, 1), "20",
                               information_source=s)
            for s in NIP001 if s != "00"]  # fmt: skip
    out += [ImmunizationRecord(RecordKind.REFUSED, f"refused-{r}", DAY, "88", refusal_reason=r)
            for r in NIP002]  # fmt: skip
    out += [ImmunizationRecord(RecordKind.EVIDENCE_OF_IMMUNITY, f"immune-{d}", DAY, "998",
                               immunity_disease=d)
            for d in SNOMED_IMMUNITY]  # fmt: skip
    return out


def test_every_code_we_send_goes_out_with_its_text_in_hl7_and_fhir() -> None:
    """Each code of each table, in a VXU (components 2 and 3) and as FHIR Immunizations."""
    records = _every_code()
    text = hl7.build_vxu(PATIENT, records, SENDER, RECEIVER, "C1", NOW)
    assert hl7_without_text(text) == []
    assert f"38907003^{SNOMED_IMMUNITY['38907003']}^SCT" in text  # BRIEF 8.3 [S37b]
    subject = fhir.patient(
        fhir.Traveller("p1", "Testperson", "Ada", dt.date(1990, 1, 2), "female", "AF",
                       (("passport", "P1", "AF"), ("national_id", "N1", "AF"),
                        ("refugee_id", "R1", "AF")))
    )  # fmt: skip
    resources = [subject, *(fhir.immunization(r, subject) for r in records)]
    assert fhir_without_display(resources) == []
    immune = fhir.immunization(records[-1], subject)
    assert immune["reasonCode"][0]["coding"][0]["display"] == "Herpes zoster"


def test_an_immunity_code_without_a_name_does_not_leave() -> None:
    """A SNOMED CT code outside the evidence-of-immunity value set has no name to send: the
    message is refused with the field named, rather than sent without its text."""
    unknown = ImmunizationRecord(RecordKind.EVIDENCE_OF_IMMUNITY, "x", DAY, "998",
                                 immunity_disease="123456789")  # fmt: skip
    try:
        hl7.build_vxu(PATIENT, [unknown], SENDER, RECEIVER, "C1", NOW)
    except Hl7Error as caught:
        assert any(p.field == "OBX-5" for p in caught.problems)
    else:
        raise AssertionError("a code without its name was sent")


def _add_every_kind(session: Session, applicant_id: Any) -> None:
    given = {"mvx": "SKB", "lot": "T1", "amount": Decimal("0.5"), "unit": "mL", "route": "IM",
             "information_source": "00"}  # fmt: skip
    for kind, extra in (
        (StoredKind.ADMINISTERED, {**given, "cvx": "115", "body_site": "LD",
                                   "vis_published": dt.date(2021, 8, 6), "vis_given_on": DAY}),
        (StoredKind.REFUSED, {"cvx": "88", "refusal_reason": "03"}),
        (StoredKind.SUBPOTENT, {**given, "cvx": "10", "body_site": "RD"}),
        (StoredKind.EVIDENCE_OF_IMMUNITY, {"cvx": "998", "immunity_disease": "38907003"}),
    ):  # fmt: skip
        session.add(VaccinationRecord(applicant_id=applicant_id, kind=kind, occurred_on=DAY,
                                      **extra))  # fmt: skip
    session.flush()


def test_demo_applicants_full_exports_have_text_for_every_code(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    """The demo's Class A applicant (TB class, labs, history) and a demo applicant whose X-ray
    was read, each with a dose given, a refusal, a sub-potent dose and evidence of immunity
    added: their FHIR documents and VXUs, as the bundle carries them, have no coded value
    without its text."""
    rules = app.extensions["pmha.rules"]
    with app.app_context():
        assert seed_demo.seed(session, families=6, rules=rules, storage=tmp_path) is not None
    episode = session.scalars(select(TbEpisode)).first()
    read = session.scalars(
        select(XrayStudy.applicant_id).join(XrayReading, XrayReading.study_id == XrayStudy.id)
    ).first()
    assert episode is not None and read is not None
    kinds: set[str] = set()
    for applicant_id in dict.fromkeys((episode.applicant_id, read)):
        _add_every_kind(session, applicant_id)
        applicant = session.get(Applicant, applicant_id)
        assert applicant is not None
        case = applicant.case
        actor = Actor(None, "test", frozenset({Role.PANEL_PHYSICIAN}),
                      frozenset({case.site_id}), via="cli")  # fmt: skip
        with app.app_context():
            found = parts.clinical_summary(parts.Export(session, actor, rules, tmp_path, case))
        by_name = {p.name: p.data for p in found}
        document = json.loads(by_name[f"fhir/{applicant_id}.json"])
        kinds |= {e["resource"]["resourceType"] for e in document["entry"]}
        assert fhir_without_display(document) == []
        vxu = by_name[f"hl7/{applicant_id}.hl7"].decode()
        assert "|59784-9^" in vxu and "|RE|" in vxu
        assert hl7_without_text(vxu) == []
    assert {"Immunization", "Condition", "ImagingStudy", "DiagnosticReport"} <= kinds
