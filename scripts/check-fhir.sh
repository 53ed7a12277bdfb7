#!/usr/bin/env bash
# Independent check of the FHIR documents PMHA sends: every traveller's summary of a seeded demo
# (chest X-rays read, labs, TB classes, vitals, clearances), plus one traveller given doses of
# every kind (administered with its VIS, historical, refused, sub-potent, evidence of immunity),
# a syphilis serology with its RPR and titre, a urinalysis and a serum creatinine with measured
# values (UCUM units, reference ranges, flags) and a second chest X-ray read with findings, goes through Medplum's validator
# (scripts/fhir-validator: base FHIR R4 with its invariants, and the IPS 2.0.0 profiles) and
# through PMHA's own check_bundle. Any error fails; warnings are counted.
#
#   scripts/check-fhir.sh            (needs node and npm; PYTHON=... to use another interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
VALIDATOR=scripts/fhir-validator

# node and npm present, the validator's packages installed as pinned (a no-op when they are)
bash "$VALIDATOR/setup.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PMHA_ENV=development PMHA_VAR_DIR="$work/var" PMHA_DATABASE_URL="sqlite:///$work/pmha.db"
unset PMHA_BROKER_URL PMHA_RESULT_BACKEND
.venv/bin/pmha db upgrade >/dev/null
.venv/bin/pmha demo seed --families 6 >/dev/null

mkdir "$work/fhir"
"$PY" - "$work/fhir" <<'PY'
"""Write every traveller's FHIR document of the demo, after giving one traveller the doses of
every kind and a syphilis serology with its details; say what the documents hold."""

import datetime as dt
import json
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from pmha.accounts import service as accounts
from pmha.accounts.models import User
from pmha.accounts.signatures import trusted_signature
from pmha.app import create_app
from pmha.cases.models import FamilyCase
from pmha.config import Config
from pmha.core.auth import Actor, Role
from pmha.core.db import database, utcnow
from pmha.core.errors import AppError
from pmha.exams import lab_service, radiology
from pmha.exams.commands import NewLabResult, XrayRead
from pmha.exams.dicom import synthetic
from pmha.exports import fhir, parts
from pmha.vaccines import records, stock
from pmha.vaccines.commands import NewLot, NewVaccination
from pmha.vaccines.models import RecordKind

out = Path(sys.argv[1])
app = create_app(Config.from_env())
ROLES = frozenset({Role.PANEL_PHYSICIAN, Role.NURSE, Role.LAB_TECHNICIAN, Role.OPERATIONS})


def enrich(s, actor, rules, applicant, storage):
    now, today = utcnow(), utcnow().date()
    lot = stock.receive_lot(
        s,
        actor,
        NewLot(cvx="115", mvx="SKB", lot="CHECKFHIR1", expiry=today + dt.timedelta(days=365),
               quantity=5, received_on=today - dt.timedelta(days=30)),
    )
    given = {"immunosuppressed": False, "pregnant": False, "cvx": "115", "lot_id": lot.id,
             "amount": Decimal("0.5"), "unit": "mL", "route": "IM", "body_site": "LD"}
    for data in (
        {**given, "kind": RecordKind.SUBPOTENT, "given_at": now - dt.timedelta(hours=2)},
        {**given, "kind": RecordKind.ADMINISTERED, "given_at": now - dt.timedelta(hours=1),
         "vis_published": dt.date(2021, 8, 6), "vis_given_on": today},
        {"kind": RecordKind.HISTORICAL, "cvx": "03", "date": applicant.dob + dt.timedelta(days=400),
         "information_source": "03"},
        {"kind": RecordKind.REFUSED, "cvx": "88", "date": today, "refusal_reason": "03"},
        {"kind": RecordKind.EVIDENCE_OF_IMMUNITY, "date": applicant.dob + dt.timedelta(days=2000),
         "immunity_evidence": "physician_diagnosis", "immunity_disease": "38907003"},
    ):
        records.record_vaccination(s, actor, applicant.id, NewVaccination(**data))
    # a second chest X-ray, read with findings (DS-3030) by the demo radiologist
    user = s.scalar(select(User).where(User.username == "radiologist"))
    if user is not None:
        reader = accounts.actor_for(user, ip=None, request_id=None, via="cli")
        name = f"{applicant.family_name.upper()}^{applicant.given_names.upper()}"
        image = synthetic.chest_xray(name, applicant.sex.value, today, seed=7)
        study = radiology.upload(s, reader, applicant.id, image, storage)
        findings = XrayRead(findings=["infiltrate_or_consolidation", "cavitary_lesion"])
        radiology.read(s, reader, rules, study.id, findings, trusted_signature(user, "radiology:write"))


EXTRA = {  # results given to the first traveller whose plan orders the test
    "syphilis_serology": {"value": None, "details": {"treponemal": "reactive",
                          "non_treponemal": "reactive", "titre": "1:8"}},
    "urinalysis": {"value": None, "performing_lab": "Demo reference laboratory",
                   "measurements": {"protein": 30, "glucose": 0, "blood": 2, "ph": 6,
                                    "specific_gravity": 1.02}},
    "serum_creatinine": {"value": None, "measurements": {"creatinine": 80}},
}


def extra(s, actor, rules, applicant, code):
    """One of EXTRA's results, when the traveller's plan has the test to order (else False)."""
    try:
        with s.begin_nested():
            order = lab_service.order_tests(s, actor, rules, applicant.id, [code])[0]
            result = {"specimen_number": order.accession, "date": utcnow().date(), **EXTRA[code]}
            lab_service.record_result(s, actor, rules, order.id, NewLabResult(**result))
            return True
    except AppError:  # not in this traveller's plan, or already resulted
        return False


with app.app_context():
    db = database(app)
    rules = app.extensions["pmha.rules"]
    storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
    cases = []
    with db.transaction() as s:
        for case in s.scalars(select(FamilyCase).order_by(FamilyCase.case_number)):
            actor = Actor(None, "check-fhir", ROLES, frozenset({case.site_id}), via="cli")
            read = [a for a in case.applicants
                    if any(r for _, r in radiology.studies(s, actor, a.id))]
            cases.append((case.id, case.site_id))
            if read and not any(k == "enriched" for k, _ in cases):
                enrich(s, actor, rules, read[0], storage)
                cases.append(("enriched", read[0].id))
            for a in case.applicants:
                for code in EXTRA:
                    if not any(k == code for k, _ in cases) and extra(s, actor, rules, a, code):
                        cases.append((code, a.id))
    seen, problems, n = Counter(), [], 0
    with db.transaction() as s:
        for case_id, site_id in cases:
            if case_id == "enriched" or case_id in EXTRA:
                continue
            actor = Actor(None, "check-fhir", ROLES, frozenset({site_id}), via="cli")
            ex = parts.Export(s, actor, rules, storage, s.get(FamilyCase, case_id))
            for part in parts.clinical_summary(ex):
                if not part.name.startswith("fhir/"):
                    continue
                n += 1
                (out / f"document-{n:03d}.json").write_bytes(part.data)
                doc = json.loads(part.data)
                problems += [f"document-{n:03d}: {p}" for p in fhir.check_bundle(doc)]
                for e in doc["entry"]:
                    r = e["resource"]
                    key = r["resourceType"]
                    if key == "Observation":
                        key += ":" + r["category"][0]["coding"][0]["code"]
                    elif key == "Immunization":
                        key += ":" + r["status"] + (":VIS" if r.get("education") else "")
                    elif key == "Condition":
                        key += ":" + r["code"]["coding"][-1]["system"].rsplit("/", 1)[-1]
                    seen[key] += 1
                    components = r.get("component", [])
                    if key == "Observation:laboratory" and components:
                        seen["lab with components"] += 1
                    if key == "Observation:laboratory" and any(
                        "valueQuantity" in x for x in [r, *components]
                    ):
                        seen["lab with a Quantity"] += 1
                    if key == "Observation:laboratory" and r.get("performer", [{}])[0].get(
                        "reference"
                    ) != doc["entry"][0]["resource"]["custodian"]["reference"]:
                        seen["lab by a named laboratory"] += 1
                    codes = r["code"]["coding"] if key == "Observation:laboratory" else []
                    for c in codes:
                        if c.get("system") == "http://loinc.org":
                            seen[f"LOINC {c['code']}"] += 1
        s.rollback()  # reading the record audits it; nothing of it is kept
    print(f"check-fhir: {n} documents;", ", ".join(f"{k} {v}" for k, v in sorted(seen.items())))
    wanted = ["Immunization:completed:VIS", "Immunization:not-done", "DiagnosticReport",
              "ImagingStudy", "Observation:imaging", "Observation:laboratory", "LOINC 22587-0",
              "lab with components", "lab with a Quantity", "lab by a named laboratory",
              "Observation:vital-signs", "Observation:exam", "Condition:tb-class", "Condition:syphilis",
              "PractitionerRole", "Organization"]
    missing = [k for k in wanted if not seen[k]]
    if missing:
        problems.append(f"the demo documents lack {', '.join(missing)}: not a rich enough check")
    for p in problems:
        print(f"check-fhir: {p}")
    sys.exit(1 if problems else 0)
PY

# The validator must see what it is here for: a copy of the document with the VIS, broken on
# purpose (R4 imm-1: the education entry loses its documentType; IPS: no Medications section).
mkdir "$work/broken"
"$PY" - "$work/fhir" "$work/broken/broken.json" <<'PY'
import json
import sys
from pathlib import Path

for path in sorted(Path(sys.argv[1]).glob("*.json")):
    doc = json.loads(path.read_text())
    resources = [e["resource"] for e in doc["entry"]]
    taught = [r for r in resources if r["resourceType"] == "Immunization" and r.get("education")]
    if taught:
        del taught[0]["education"][0]["documentType"]
        sections = resources[0]["section"]
        sections[:] = [x for x in sections if x["code"]["coding"][0]["code"] != "10160-0"]
        Path(sys.argv[2]).write_text(json.dumps(doc))
        break
else:
    sys.exit("check-fhir: no document with a VIS to break")
PY
status=0
caught=$(node "$VALIDATOR/validate.mjs" --ips "$VALIDATOR/ips" "$work/broken/broken.json") || status=$?
if [ "$status" -ne 1 ] || ! grep -q "imm-1" <<<"$caught" || ! grep -q "sectionMedications" <<<"$caught"; then
  echo "check-fhir: the validator let a broken document through (exit $status):" >&2
  echo "$caught" >&2
  exit 1
fi
echo "check-fhir: the validator catches a broken copy (imm-1, missing IPS Medications section)"

echo "check-fhir: Medplum's validator (FHIR R4 + IPS 2.0.0 profiles) over every document"
node "$VALIDATOR/validate.mjs" --ips "$VALIDATOR/ips" "$work"/fhir/*.json
echo "check-fhir: FHIR documents valid (0 errors)"
