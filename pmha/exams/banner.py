"""The patient banner: who this is and what must be in view before anything is done to them.

One function gathers it for an applicant already loaded (and so already checked against the
caller's sites) in a fixed number of queries, whatever the page: the clinical facts, the latest
medical history's allergies, the kept plan (TB class, clearance), the latest live-vaccine
screening and the photo. Only what is recorded is shown; pregnancy and allergies say "not
recorded" when nobody has asked yet (ISO/TS 18308-style safety banner; issue 18).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant, ApplicantPhoto, Sex
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.exams.models import ExamSection, SectionKind, SectionStatus
from pmha.vaccines.models import VaccinationRecord
from pmha.workflow import lists
from pmha.workflow.labels import CLEARANCE, value_label
from pmha.workflow.models import ClinicalFacts

DESTINATIONS = {
    "US": "United States",
    "CA": "Canada",
    "AU": "Australia",
    "NZ": "New Zealand",
    "GB": "United Kingdom",
}
PHOTO_INLINE_MAX = 400_000  # bytes; a larger photo is not inlined into every page


@dataclass(frozen=True)
class Alert:
    words: str
    tone: str  # "bad" (act on it), "warn" (know it), "muted" (not recorded), "ok"


@dataclass(frozen=True)
class Banner:
    family: str
    given: str
    native_name: str | None
    relationship: str
    age: str
    sex: str
    born: date
    dob_estimated: bool
    case_number: str
    destination: str
    programme: str
    photo: str | None  # a data: URL
    alerts: list[Alert] = field(default_factory=list)
    clearance: tuple[str, str] | None = None  # (words, tone)

    @property
    def name(self) -> str:
        return f"{self.family}, {self.given}"


def _age(dob: date, today: date) -> str:
    months = (today.year - dob.year) * 12 + today.month - dob.month - (today.day < dob.day)
    if months >= 24:
        return f"{months // 12} years"
    return "1 month" if months == 1 else f"{max(months, 0)} months"


def _allergies(session: Session, applicant: Applicant) -> str | None:
    """The allergies of the latest medical history not superseded (a draft counts: it is what
    the physician has heard so far)."""
    row = session.scalar(
        select(ExamSection.data)
        .where(
            ExamSection.applicant_id == applicant.id,
            ExamSection.kind == SectionKind.MEDICAL_HISTORY,
            ExamSection.status != SectionStatus.SUPERSEDED,
        )
        .order_by(ExamSection.number.desc())
        .limit(1)
    )
    text = str((row or {}).get("allergies") or "").strip()
    return text or None


def _immunosuppressed(session: Session, applicant: Applicant) -> bool | None:
    """The latest live-vaccine screening's answer (None: never screened)."""
    return session.scalar(
        select(VaccinationRecord.immunosuppressed)
        .where(
            VaccinationRecord.applicant_id == applicant.id,
            VaccinationRecord.immunosuppressed.is_not(None),
            VaccinationRecord.deleted_at.is_(None),
        )
        .order_by(VaccinationRecord.recorded_at.desc())
        .limit(1)
    )


def _photo(session: Session, applicant: Applicant) -> str | None:
    row = session.execute(
        select(ApplicantPhoto.content_type, ApplicantPhoto.data).where(
            ApplicantPhoto.applicant_id == applicant.id
        )
    ).first()
    if row is None or len(row.data) > PHOTO_INLINE_MAX:
        return None
    return f"data:{row.content_type};base64,{base64.b64encode(row.data).decode('ascii')}"


def banner(
    session: Session, actor: Actor, applicant: Applicant, today: date | None = None
) -> Banner:
    """The banner of an applicant the caller may see (audited read)."""
    today = today or utcnow().date()
    case = applicant.case
    facts = session.get(ClinicalFacts, applicant.id)
    alerts: list[Alert] = []
    live: list[str] = []
    if applicant.sex is not Sex.MALE:
        pregnant = facts.pregnant if facts is not None else None
        if pregnant:
            weeks = facts.gestation_weeks if facts is not None else None
            alerts.append(Alert(f"Pregnant{f', {weeks} weeks' if weeks else ''}", "bad"))
            live.append("pregnancy")
        elif pregnant is False:
            alerts.append(Alert("Not pregnant", "ok"))
        else:
            alerts.append(Alert("Pregnancy: not recorded", "muted"))
    allergies = _allergies(session, applicant)
    if allergies is None:
        alerts.append(Alert("Allergies: not recorded", "muted"))
    elif allergies.lower().rstrip(".") in ("none", "none known", "nkda", "no known allergies"):
        alerts.append(Alert("No known allergies", "ok"))
    else:
        alerts.append(Alert(f"Allergies: {allergies}", "bad"))
    kept = lists.kept_plans(session, [applicant.id]).get(applicant.id)
    clearance = None
    if kept is not None:
        clearance = CLEARANCE.get(kept.decision.status)
        for item in (kept.plan or {}).get("outcomes", []):
            if item.get("kind") == "tb_class" and item.get("values"):
                words = ", ".join(value_label(str(v)) for v in item["values"])
                tone = "bad" if "class_a" in item["values"] else "warn"
                alerts.append(Alert(f"TB: {words}", tone))
    if facts is not None and facts.known_hiv:
        live.append("known HIV infection")
    if _immunosuppressed(session, applicant):
        live.append("immunosuppressed")
    if live:
        alerts.append(Alert(f"No live vaccines: {', '.join(live)}", "bad"))
    native = " ".join(
        p for p in (applicant.given_names_original, applicant.family_name_original) if p
    )
    audit.record(session, actor, "read", "patient_banner", applicant.id, site_id=case.site_id)
    return Banner(
        family=applicant.family_name,
        given=applicant.given_names,
        native_name=native or None,
        relationship=applicant.relationship.value.replace("_", " ").capitalize(),
        age=_age(applicant.dob, today),
        sex=applicant.sex.value.capitalize(),
        born=applicant.dob,
        dob_estimated=applicant.dob_estimated,
        case_number=case.case_number,
        destination=DESTINATIONS.get(case.destination.value, case.destination.value),
        programme=case.programme.value.replace("_", " ").capitalize(),
        photo=_photo(session, applicant),
        alerts=alerts,
        clearance=clearance,
    )
