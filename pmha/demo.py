"""Synthetic demonstration data: a centre, one user per role, invented families.

Every person here is made up from lists of common given and family names; any resemblance to a
real person is chance. Never load real data as demo data.
"""

from __future__ import annotations

import os
import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha import demo_destinations, demo_records
from pmha.accounts import service as accounts
from pmha.accounts.models import User
from pmha.accounts.signatures import Signature, trusted_signature
from pmha.cases import service as cases
from pmha.cases.models import Site
from pmha.cases.schemas import ApplicantIn, CaseIn
from pmha.config import Config
from pmha.core.auth import Actor, Role
from pmha.core.db import utcnow
from pmha.exams import radiology
from pmha.exams import service as exams
from pmha.exams.commands import SectionDraft, XrayRead
from pmha.exams.dicom import synthetic
from pmha.exams.models import SectionKind
from pmha.rules import RuleBook
from pmha.rules import vocabulary as vocab
from pmha.tb_dot import demo as tb_demo
from pmha.travel import demo as travel_demo
from pmha.vaccines import demo as vaccine_demo
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.facts import NOTHING_FOUND
from pmha.workflow.models import StepState
from pmha.workflow.roles import group_of

SITES = [
    ("IST", "Istanbul Migration Health Assessment Centre", "TR"),
    ("ANK", "Ankara Migration Health Assessment Centre", "TR"),
]

# (Latin, original script) pairs by nationality:
# Syrian and Iraqi Arabic, Afghan Dari, Iranian Persian.
FAMILY = {
    "SY": [
        ("Haddad", "حداد"),
        ("Khalil", "خليل"),
        ("Nasser", "ناصر"),
        ("Darwish", "درويش"),
        ("Hamdan", "حمدان"),
        ("Saleh", "صالح"),
    ],
    "IQ": [("Othman", "عثمان"), ("Jaber", "جابر"), ("Kadhim", "كاظم"), ("Abbas", "عباس")],
    "AF": [("Rahimi", "رحیمی"), ("Ahmadi", "احمدی"), ("Sultani", "سلطانی"), ("Noori", "نوری")],
    "IR": [("Karimi", "کریمی"), ("Qasemi", "قاسمی"), ("Mohammadi", "محمدی"), ("Tehrani", "تهرانی")],
}
MALE = {
    "ar": [
        ("Omar", "عمر"),
        ("Ahmad", "أحمد"),
        ("Khaled", "خالد"),
        ("Yusuf", "يوسف"),
        ("Mustafa", "مصطفى"),
        ("Hassan", "حسن"),
        ("Bilal", "بلال"),
        ("Samir", "سمير"),
    ],
    "fa": [
        ("Reza", "رضا"),
        ("Farid", "فرید"),
        ("Jawad", "جواد"),
        ("Hamid", "حمید"),
        ("Nasir", "ناصر"),
        ("Karim", "کریم"),
    ],
}
FEMALE = {
    "ar": [
        ("Fatima", "فاطمة"),
        ("Aisha", "عائشة"),
        ("Layla", "ليلى"),
        ("Maryam", "مريم"),
        ("Huda", "هدى"),
        ("Nour", "نور"),
        ("Amina", "أمينة"),
        ("Rana", "رنا"),
    ],
    "fa": [
        ("Zahra", "زهرا"),
        ("Shirin", "شیرین"),
        ("Parisa", "پریسا"),
        ("Sara", "سارا"),
        ("Mina", "مینا"),
        ("Laleh", "لاله"),
    ],
}
LANGUAGE = {"SY": "ar", "IQ": "ar", "AF": "fa", "IR": "fa"}
DESTINATIONS = ["US", "US", "CA", "CA", "AU", "GB", "NZ"]
USERNAMES = {
    Role.PANEL_PHYSICIAN: "physician",
    Role.NURSE: "nurse",
    Role.RADIOLOGIST: "radiologist",
    Role.LAB_TECHNICIAN: "labtech",
    Role.OPERATIONS: "operations",
    Role.DOT_WORKER: "dotworker",
    Role.RECEIVING_AUTHORITY: "authority",
    Role.AUDITOR: "auditor",
    Role.ADMIN: "admin",
}


def _person(
    rng: random.Random,
    nat: str,
    family: tuple[str, str],
    sex: str,
    age: int,
    today: date,
    relationship: str,
) -> dict[str, Any]:
    names = (MALE if sex == "male" else FEMALE)[LANGUAGE[nat]]
    given = rng.choice(names)
    estimated = rng.random() < 0.08
    dob = (
        date(today.year - age, 1, 1)
        if estimated
        else (today - timedelta(days=age * 365 + rng.randint(0, 364)))
    )
    return {
        "family_name": family[0],
        "given_names": given[0],
        "family_name_original": family[1],
        "given_names_original": given[1],
        "dob": dob,
        "dob_estimated": estimated,
        "sex": sex,
        "nationality": nat,
        "relationship": relationship,
        "documents": [],
        "acknowledge_duplicates": True,
    }


def synthetic_family(
    rng: random.Random, today: date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A made-up case (with its principal) and its other members, as service inputs."""
    nat = rng.choice(list(FAMILY))
    family = rng.choice(FAMILY[nat])
    sex = rng.choice(["male", "female"])
    age = rng.randint(24, 58)
    principal = _person(rng, nat, family, sex, age, today, "principal")
    members = []
    if rng.random() < 0.8:
        other = "female" if sex == "male" else "male"
        members.append(
            _person(rng, nat, family, other, max(18, age + rng.randint(-6, 4)), today, "spouse")
        )
    for _ in range(rng.choice([0, 1, 2, 2, 3, 4])):
        members.append(
            _person(
                rng, nat, family, rng.choice(["male", "female"]), rng.randint(0, 17), today, "child"
            )
        )
    programme = "refugee" if rng.random() < 0.75 else "immigrant"
    case = {
        "destination": rng.choice(DESTINATIONS),
        "programme": programme,
        "planned_departure": today + timedelta(days=rng.randint(20, 180)),
        "external_ref": None,
        "principal": principal,
    }
    return case, members


# Who records each group's results in the demo (roles.py decides who may).
RECORDERS = {
    "physician": Role.PANEL_PHYSICIAN,
    "nurse": Role.NURSE,
    "radiology": Role.RADIOLOGIST,
    "lab": Role.LAB_TECHNICIAN,
}
# How far each family has got, by its place in the seed: most cleared, some pending, one with a
# chest X-ray suggestive of TB awaiting sputum, one with Class A TB holding the whole family.
UNTOUCHED, EXAMINED, CLEARED, SUGGESTIVE, CLASS_A = (
    "untouched", "examined", "cleared", "suggestive", "class_a"
)  # fmt: skip
STORY = {4: SUGGESTIVE, 5: CLASS_A}
CYCLE = (UNTOUCHED, EXAMINED, CLEARED, CLEARED)


@dataclass
class Showcase:
    """What the exam pages show off: signed sections for a few examined adults, and one chest
    X-ray uploaded and awaiting the radiologist's reading."""

    physician: Actor
    radiologist: Actor
    storage: Path
    signature: Signature  # the demo physician's, as the seed signs without a password
    reading_signature: Signature  # the demo radiologist's
    signed: int = 2
    xrays: int = 1


def _history(applicant: Any) -> dict[str, Any]:
    return {
        "tb_history": False,
        "tb_contact_past_year": False,
        "tb_symptoms": {
            k: False
            for k in ("cough_3_weeks", "haemoptysis", "fever", "night_sweats", "weight_loss")
        },
        "known_hiv": False,
        "extrapulmonary_tb": False,
        "pregnant": False if applicant.sex.value == "female" else None,
        "medications": "None",
        "allergies": "None known",
    }


PHYSICAL = {
    "vitals": {"temperature_c": 36.7, "pulse_bpm": 74, "respiratory_rate": 14,
               "systolic_mmhg": 122, "diastolic_mmhg": 78, "spo2_percent": 98,
               "height_cm": 171, "weight_kg": 68},
    "systems": {s: {"status": "normal"} for s in ("general", "heart", "lungs", "abdomen",
                                                  "lymph_nodes", "skin")},
    "overall": "normal",
}  # fmt: skip


def _sign_sections(
    session: Session, show: Showcase, rules: RuleBook, applicant: Any, today: date
) -> None:
    """History and physical signed by the demo physician (feeding the plan, as on the page);
    then, for the first of them, a synthetic chest X-ray uploaded and not yet read."""
    for kind, data in ((SectionKind.MEDICAL_HISTORY, _history(applicant)),
                       (SectionKind.PHYSICAL_EXAM, PHYSICAL)):  # fmt: skip
        draft = exams.save_draft(
            session,
            show.physician,
            applicant.id,
            SectionDraft(kind=kind, content=data, version=None),
        )
        exams.sign(
            session, show.physician, rules, applicant.id, kind, draft.version, show.signature
        )
    show.signed -= 1
    if show.xrays > 0:
        name = f"{applicant.family_name.upper()}^{applicant.given_names.upper()}"
        image = synthetic.chest_xray(name, applicant.sex.value, today, seed=show.xrays)
        radiology.upload(session, show.radiologist, applicant.id, image, show.storage)
        show.xrays -= 1


MENTAL = {"screening_tool": "PHQ-9", "screening_score": 4, "disorder": False,
          "harmful_behaviour": False, "classification": "none"}  # fmt: skip
# What a chest X-ray reading finds for each result the demo's stories need (DS-3030) [S8].
READ_AS = {"normal": [], "suggestive_of_tb": ["infiltrate_or_consolidation"],
           "other_abnormality": ["cardiac"]}  # fmt: skip


def _through_record(
    session: Session, show: Showcase, rules: RuleBook, applicant: Any, code: str, value: str
) -> workflow.Workflow | None:
    """One record per fact: sign the exam section or read a chest X-ray taken today, and let
    that record settle the step (None: the demo has no record to make for this result)."""
    if code in ("medical_history", "physical_exam", "mental_health") and value in {
        "normal", "completed"
    }:  # fmt: skip
        kind = SectionKind(code)
        data = {"medical_history": _history(applicant), "physical_exam": PHYSICAL,
                "mental_health": MENTAL}[code]  # fmt: skip
        draft = exams.save_draft(
            session,
            show.physician,
            applicant.id,
            SectionDraft(kind=kind, content=data, version=None),
        )
        exams.sign(
            session, show.physician, rules, applicant.id, kind, draft.version, show.signature
        )
    elif code == "chest_xray" and value in READ_AS:
        name = f"{applicant.family_name.upper()}^{applicant.given_names.upper()}"
        today = utcnow().date()
        image = synthetic.chest_xray(name, applicant.sex.value, today, seed=applicant.dob.day)
        study = radiology.upload(session, show.radiologist, applicant.id, image, show.storage)
        reading = XrayRead(findings=READ_AS[value])
        radiology.read(session, show.radiologist, rules, study.id, reading, show.reading_signature)
    else:
        return None
    return workflow.current(session, show.physician, rules, applicant.id)


def _progress(
    session: Session,
    actors: dict[Role, Actor],
    rules: RuleBook,
    applicant: Any,
    story: str,
    today: date,
    show: Showcase | None = None,
) -> None:
    """Plan an applicant and record facts and results as far as the family's story goes."""
    physician = actors[Role.PANEL_PHYSICIAN]
    found = workflow.current(session, physician, rules, applicant.id)
    if story == UNTOUCHED:
        return
    facts: dict[str, Any] = {"exam_date": today, **NOTHING_FOUND}
    if applicant.sex.value == "female":
        facts["pregnant"] = False
    found = workflow.set_facts(session, physician, rules, applicant.id, FactsUpdate(**facts))

    # The demo's physician and radiologist work at IST: they sign, upload and read there.
    at_ist = applicant.case.site.code == "IST"

    def record(code: str, value: str, day: date = today) -> workflow.Workflow:
        # A chest X-ray dated in the past (the Class A story) has no reading to make today.
        made = None
        if show is not None and at_ist and day == utcnow().date():
            made = _through_record(session, show, rules, applicant, code, value)
        if made is not None:
            return made
        return demo_records.settle(session, actors, rules, applicant.id, code, value, day)

    adult = any(s.code == "chest_xray" for s in found.steps)
    if story == EXAMINED and show is not None and show.signed > 0 and adult and at_ist:
        _sign_sections(session, show, rules, applicant, today)
        return
    if story == EXAMINED:
        for code in ("medical_history", "physical_exam", "mental_health"):
            if any(s.code == code and s.state == StepState.PENDING for s in found.steps):
                found = record(code, "normal")
        return
    if story in {SUGGESTIVE, CLASS_A} and adult:
        # Class A: diagnosed before the six months of treatment that pmha.tb_dot.demo generates.
        seen = tb_demo.timeline(today)[0] if story == CLASS_A else today
        found = record("chest_xray", "suggestive_of_tb", seen)
        if story == CLASS_A:
            found = record("sputum_smear", "positive", seen)
            found = record("sputum_culture", "positive", seen)
    held = {"sputum_smear", "sputum_culture", "tb_naat", "dst", "tb_treatment_dot"}
    for _ in range(40):  # follow-ups appear as results arrive; each pass records one
        todo = [
            s
            for s in found.steps
            if s.state == StepState.PENDING
            and s.planned_status == "required"
            and group_of(s.code) != "travel"
            and not (story in {SUGGESTIVE, CLASS_A} and adult and s.code in held)
        ]
        if not todo:
            return
        found = record(todo[0].code, vocab.reassuring(todo[0].code))


# Synthetic full names: what a signed record shows (issue 18: a name, not a username); Turkish
# names keep their dotless i (hence the noqa).
DEMO_NAMES = {
    Role.PANEL_PHYSICIAN: "Selin Aydın",  # noqa: RUF001
    Role.NURSE: "Elif Şahin",
    Role.RADIOLOGIST: "Murat Koç",
    Role.LAB_TECHNICIAN: "Hasan Yıldız",  # noqa: RUF001
    Role.OPERATIONS: "Zeynep Arslan",
    Role.DOT_WORKER: "Emre Doğan",
    Role.RECEIVING_AUTHORITY: "Jordan Miller",
    Role.AUDITOR: "Deniz Kaya",
    Role.ADMIN: "Can Öztürk",
}
# Synthetic professional registration numbers (shown on what the demo staff sign).
DEMO_REGISTRATION = {
    Role.PANEL_PHYSICIAN: "DEMO-MD-0001",
    Role.RADIOLOGIST: "DEMO-RAD-0002",
    Role.NURSE: "DEMO-RN-0003",
}


def _credentials_file() -> Path:
    return Path(Config.from_env().VAR_DIR) / "demo-users.txt"


def _as_user(user: User) -> Actor:
    return accounts.actor_for(user, ip=None, request_id=None, via="cli")


def seed(
    session: Session,
    families: int = 12,
    seed_value: int = 2016,
    rules: RuleBook | None = None,
    storage: Path | None = None,
) -> list[tuple[str, str, str]] | None:
    """Seed into an empty database; returns (username, role, password) rows, or None if seeded.

    Every applicant is planned, and most families carry facts and results (see STORY)."""
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    system = Actor.system("demo-seed")
    sites = [Site(code=c, name=n, country=k) for c, n, k in SITES]
    session.add_all(sites)
    session.flush()
    created: list[tuple[str, str, str]] = []
    users: dict[Role, User] = {}
    for role in Role:
        username = USERNAMES[role]
        password = "-".join(secrets.token_urlsafe(4) for _ in range(3))
        users[role] = accounts.create_user(
            session,
            system,
            username=username,
            full_name=DEMO_NAMES[role],
            password=password,
            roles=[role],
            site_codes=[]
            if role in {Role.RECEIVING_AUTHORITY, Role.ADMIN, Role.AUDITOR}
            else ["IST"],
            destination="US" if role == Role.RECEIVING_AUTHORITY else None,
            registration_number=DEMO_REGISTRATION.get(role),
        )
        created.append((username, role.value, password))
    ops = Actor(
        None, "demo-seed", frozenset({Role.OPERATIONS}), frozenset(s.id for s in sites), via="cli"
    )
    if rules is None:
        from pmha.rules import load_rules

        rules = load_rules(Path(Config.from_env().RULES_DIR))
    site_ids = frozenset(s.id for s in sites)
    clinic = {role: Actor(None, "demo-seed", frozenset({role}), site_ids, via="cli")
              for role in RECORDERS.values()}  # fmt: skip
    show = Showcase(
        physician=_as_user(users[Role.PANEL_PHYSICIAN]),
        radiologist=_as_user(users[Role.RADIOLOGIST]),
        storage=Path(Config.from_env().STORAGE_DIR if storage is None else storage),
        signature=trusted_signature(users[Role.PANEL_PHYSICIAN], "exams:sign"),
        reading_signature=trusted_signature(users[Role.RADIOLOGIST], "radiology:write"),
    )
    rng = random.Random(seed_value)  # noqa: S311 (synthetic data, not secrets)
    today = utcnow().date()
    for i in range(families):
        case_data, members = synthetic_family(rng, today)
        case_data["site_code"] = "IST" if i % 4 else "ANK"
        story = STORY.get(i, CYCLE[i % len(CYCLE)])
        if story in {SUGGESTIVE, CLASS_A}:
            case_data["destination"] = "US"  # the CDC TB algorithm, as the brief sets it out
        case = cases.register_case(session, ops, CaseIn().load(case_data))
        for member in members:
            cases.add_applicant(session, ops, case.id, ApplicantIn().load(member))
        session.flush()
        session.expire_all()  # the inputs were plain strings: read the enums back
        for n, applicant in enumerate(case.applicants):
            if LANGUAGE.get(applicant.nationality) == "ar":  # their documents print in Arabic
                applicant.preferred_language = "ar"
            # Only the principal carries the TB finding; the rest of the family is well.
            told = story if n == 0 or story not in {SUGGESTIVE, CLASS_A} else CLEARED
            _progress(session, clinic, rules, applicant, told, today, show)
    vaccine_demo.seed(session, clinic[Role.NURSE], ops, rules, rng, today, synthetic_family)
    demo_destinations.seed(session, clinic, ops, rules, today, _person, FAMILY)
    __import__("pmha.exports.demo").exports.demo.seed(session, system, sites)
    tb_demo.seed(session, clinic, rules, today)

    def through_record(
        applicant_id: Any, code: str, value: str, day: date
    ) -> workflow.Workflow | None:
        if day != utcnow().date():  # a record made today cannot be dated in the past
            return None
        applicant = cases.load_applicant(session, show.physician, applicant_id)
        return _through_record(session, show, rules, applicant, code, value)

    travel_demo.seed(
        session,
        clinic,
        ops,
        rules,
        rng,
        today,
        synthetic_family,
        make=through_record,
        # a clearance certificate names a registered physician as its signatory [issue 17]
        issuer=trusted_signature(users[Role.PANEL_PHYSICIAN], "travel:write"),
    )
    path = _credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# Demo users of this synthetic centre (username role password)\n")
        fh.writelines(f"{u} {r} {p}\n" for u, r, p in created)
    return created
