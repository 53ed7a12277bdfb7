"""Chest X-ray studies and the radiologist's reading (DS-3030 findings).

Uploads go through the DICOM adapter (pmha.exams.dicom): the original is stored by its SHA-256,
a windowed PNG preview and thumbnail beside it, and a de-identified copy for research and QA
exports. The reading's findings decide whether the X-ray suggests TB; that feeds the plan.
"""

from __future__ import annotations

import enum
import hmac
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pmha.accounts.signatures import Signature
from pmha.cases import service as cases
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import Base, UUIDPk, utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.exams import dicom, xray_identity
from pmha.exams.lab_service import has_consent
from pmha.exams.labs import ConsentKind
from pmha.rules import RuleBook
from pmha.workflow import service as workflow

# DS-3030 chest X-ray findings [S8], by what they mean for the applicant.
SUGGESTS_TB = (
    "infiltrate_or_consolidation", "reticular_markings_fibrosis", "cavitary_lesion",
    "nodule_or_mass_poorly_defined", "pleural_effusion", "hilar_or_mediastinal_adenopathy",
    "miliary_findings", "discrete_linear_opacity", "discrete_nodule_without_calcification",
    "volume_loss_or_retraction", "irregular_thick_pleural_reaction",
)  # fmt: skip
OTHER_ABNORMALITY = ("cardiac", "musculoskeletal", "other_abnormality")  # Class B other
NO_FOLLOW_UP = (
    "smooth_pleural_thickening", "diaphragmatic_tenting", "calcified_nodules_or_nodes",
    "minor_musculoskeletal",
)  # fmt: skip
FINDINGS = (*SUGGESTS_TB, *OTHER_ABNORMALITY, *NO_FOLLOW_UP)
# The form's "No abnormal finding" box: a reading with it has no other finding [S8].
NO_ABNORMAL_FINDING = "no_abnormal_finding"
# Findings that exclude each other: one musculoskeletal abnormality is either minor (no
# follow-up) or one needing follow-up (Class B other), not both.
EXCLUSIVE = (("musculoskeletal", "minor_musculoskeletal"),)
FINDING_WORDS = {
    "infiltrate_or_consolidation": "Infiltrate or consolidation",
    "reticular_markings_fibrosis": "Reticular markings suggesting fibrosis",
    "cavitary_lesion": "Cavitary lesion",
    "nodule_or_mass_poorly_defined": "Nodule or mass with poorly defined margins",
    "pleural_effusion": "Pleural effusion",
    "hilar_or_mediastinal_adenopathy": "Hilar or mediastinal adenopathy",
    "miliary_findings": "Miliary findings",
    "discrete_linear_opacity": "Discrete linear opacity",
    "discrete_nodule_without_calcification": "Discrete nodule without calcification",
    "volume_loss_or_retraction": "Volume loss or retraction",
    "irregular_thick_pleural_reaction": "Irregular thick pleural reaction",
    "cardiac": "Cardiac abnormality",
    "musculoskeletal": "Musculoskeletal abnormality",
    "other_abnormality": "Other abnormality",
    "smooth_pleural_thickening": "Smooth pleural thickening",
    "diaphragmatic_tenting": "Diaphragmatic tenting",
    "calcified_nodules_or_nodes": "Calcified nodules or lymph nodes",
    "minor_musculoskeletal": "Minor musculoskeletal findings",
    NO_ABNORMAL_FINDING: "No abnormal finding",
}


class IdentityStatus(enum.StrEnum):
    """Whether the image's header identity is the applicant's (checked on upload)."""

    MATCHED = "matched"
    HELD = "held"  # another person in the header: not readable, cannot feed the plan
    CONFIRMED = "confirmed"  # held, then attached by a radiologist with a reason
    NOT_CHECKED = "not_checked"  # uploaded before the check existed


class XrayStudy(UUIDPk, Base):
    __tablename__ = "xray_studies"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    deidentified_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    study_uid: Mapped[str] = mapped_column(String(64))
    series_uid: Mapped[str] = mapped_column(String(64))
    instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str] = mapped_column(String(4))
    body_part: Mapped[str | None] = mapped_column(String(16))
    view_position: Mapped[str | None] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    acquired_on: Mapped[date | None]
    uploaded_by: Mapped[uuid.UUID | None]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who the DICOM header says the image is of, compared with the applicant on upload.
    header_family: Mapped[str | None] = mapped_column(String(100))
    header_given: Mapped[str | None] = mapped_column(String(100))
    header_middle: Mapped[str | None] = mapped_column(String(100))
    header_other_names: Mapped[str | None] = mapped_column(String(300))
    header_sex: Mapped[str | None] = mapped_column(String(4))
    header_birth_date: Mapped[date | None]
    header_patient_id: Mapped[str | None] = mapped_column(String(64))
    # IdentityStatus; images uploaded before the check existed are NOT_CHECKED.
    identity_status: Mapped[str] = mapped_column(
        String(16), default="matched", server_default="not_checked"
    )
    identity_differs: Mapped[list[str] | None] = mapped_column(JSON)
    identity_reason: Mapped[str | None] = mapped_column(String(500))
    identity_confirmed_by: Mapped[uuid.UUID | None]
    identity_confirmed_by_name: Mapped[str | None] = mapped_column(String(120))
    identity_confirmed_at: Mapped[datetime | None]

    @property
    def held(self) -> bool:
        """Held: the header names someone else and no radiologist has confirmed it."""
        return self.identity_status == IdentityStatus.HELD


class XrayReading(UUIDPk, Base):
    __tablename__ = "xray_readings"

    study_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("xray_studies.id"), index=True)
    findings: Mapped[list[str]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(24))
    comments: Mapped[str | None] = mapped_column(String(2000))
    read_by: Mapped[uuid.UUID | None]
    read_by_name: Mapped[str] = mapped_column(String(120))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


def check_findings(findings: list[str]) -> None:
    """Refuse findings that cannot be true together (DS-3030: normal or abnormal, not both)."""
    for first, second in contradictions(findings):
        raise ValidationFailed(
            f"“{FINDING_WORDS[first]}” and “{FINDING_WORDS[second]}” cannot both be true.",
            errors={
                "findings": [
                    f"“{FINDING_WORDS[first]}” and “{FINDING_WORDS[second]}” cannot both be "
                    "ticked: untick one of them."
                ]
            },
            code="exams.xray_findings_contradict",
        )


def contradictions(findings: list[str]) -> list[tuple[str, str]]:
    """The pairs of mutually exclusive findings among these, in the form's order."""
    chosen = set(findings)
    pairs: list[tuple[str, str]] = []
    if NO_ABNORMAL_FINDING in chosen:
        pairs += [(NO_ABNORMAL_FINDING, f) for f in FINDINGS if f in chosen]
    pairs += [(a, b) for a, b in EXCLUSIVE if a in chosen and b in chosen]
    return pairs


def decision_for(findings: list[str]) -> str:
    """The plan's chest_xray result that the findings give (DS-3030 categories)."""
    if any(f in SUGGESTS_TB for f in findings):
        return "suggestive_of_tb"
    if any(f in OTHER_ABNORMALITY for f in findings):
        return "other_abnormality"
    return "normal"


def _uid_secret(session: Session) -> bytes:
    # One secret per centre for UID remapping, derived from the audit key (never stored).
    key: bytes = session.info["pmha_audit_key"]
    return hmac.new(key, b"pmha dicom uid mapping", "sha256").digest()


def upload(
    session: Session, actor: Actor, applicant_id: uuid.UUID, data: bytes, storage: Path
) -> XrayStudy:
    """Validate and keep a chest X-ray: original, previews and a de-identified copy."""
    actor.check("radiology:write")
    applicant = cases.load_applicant(session, actor, applicant_id)
    facts = workflow.clinical_facts(session, applicant.id)
    if (
        facts is not None
        and facts.pregnant
        and not has_consent(session, applicant.id, ConsentKind.CHEST_XRAY_IN_PREGNANCY)
    ):
        # US TI: a pregnant applicant may be X-rayed with consent and shielding [S24]
        raise ValidationFailed(
            errors={
                "consent": ["The applicant is pregnant: record her consent to a chest X-ray first."]
            }
        )
    info = dicom.inspect(data)
    check = xray_identity.compare(info.identity, applicant_identity(applicant))
    if session.scalar(select(XrayStudy.id).where(XrayStudy.instance_uid == info.sop_instance_uid)):
        raise ValidationFailed("This image was uploaded already.", code="exams.dicom.duplicate")
    previews = dicom.render_previews(data)
    deidentified = dicom.deidentify(data, dicom.UidMapper(_uid_secret(session)))
    original = dicom.store(data, storage / "dicom")
    digest = original.stem
    dicom.store(deidentified, storage / "deidentified")
    for suffix, png in ((".png", previews.preview), (".thumb.png", previews.thumbnail)):
        _write_once(dicom.path_for(digest, storage / "previews", suffix), png)
    study = XrayStudy(
        applicant_id=applicant.id,
        sha256=digest,
        deidentified_sha256=dicom.sha256_of(deidentified),
        size_bytes=len(data),
        study_uid=info.study_instance_uid,
        series_uid=info.series_instance_uid,
        instance_uid=info.sop_instance_uid,
        sop_class_uid=info.sop_class_uid,
        modality=info.modality,
        body_part=info.body_part,
        view_position=info.view_position,
        rows=info.rows,
        columns=info.columns,
        acquired_on=info.acquisition_date or info.study_date,
        uploaded_by=actor.user_id,
        **_header_columns(info.identity),
        identity_status=IdentityStatus.MATCHED if check.matched else IdentityStatus.HELD,
        identity_differs=check.differs or None,
    )
    session.add(study)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "xray_study",
        study.id,
        site_id=applicant.case.site_id,
        # Which fields differ, never their values (the audit log is not a copy of the header).
        details={
            "sha256": digest,
            "identity": study.identity_status,
            "differs": check.differs,
            "missing": check.missing,
        },
    )
    return study


def applicant_identity(applicant: Any) -> xray_identity.ApplicantIdentity:
    """What the header is compared with: the applicant's names, sex, birth date and numbers."""
    return xray_identity.ApplicantIdentity(
        family_name=applicant.family_name,
        given_names=applicant.given_names,
        family_name_original=applicant.family_name_original,
        given_names_original=applicant.given_names_original,
        sex=str(applicant.sex.value),
        dob=applicant.dob,
        dob_estimated=bool(applicant.dob_estimated),
        case_number=applicant.case.case_number,
        document_numbers=tuple(d.number for d in applicant.documents),
    )


def _header_columns(identity: dicom.HeaderIdentity) -> dict[str, Any]:
    name = identity.name or dicom.HeaderName()
    others = " = ".join(n.shown() for n in identity.other_names)
    return {
        "header_family": (name.family or "")[:100] or None,
        "header_given": (name.given or "")[:100] or None,
        "header_middle": (name.middle or "")[:100] or None,
        "header_other_names": others[:300] or None,
        "header_sex": (identity.sex or "")[:4] or None,
        "header_birth_date": identity.birth_date,
        "header_patient_id": (identity.patient_id or "")[:64] or None,
    }


def header_identity(study: XrayStudy) -> dicom.HeaderIdentity:
    """The header identity kept with the study (for the viewer, beside the image)."""
    name = dicom.HeaderName(study.header_family, study.header_given, study.header_middle)
    others = tuple(
        dicom.HeaderName(family=part.strip())
        for part in (study.header_other_names or "").split(" = ")
        if part.strip()
    )
    return dicom.HeaderIdentity(
        name=name if name.words() else None,
        other_names=others,
        sex=study.header_sex,
        birth_date=study.header_birth_date,
        patient_id=study.header_patient_id,
    )


def identity_check(
    session: Session, actor: Actor, study: XrayStudy
) -> xray_identity.IdentityCheck | None:
    """The header compared with the applicant as recorded now; None if never checked."""
    if study.identity_status == IdentityStatus.NOT_CHECKED:
        return None
    applicant = cases.load_applicant(session, actor, study.applicant_id)
    return xray_identity.compare(header_identity(study), applicant_identity(applicant))


REASON_MAX = 500


def confirm_identity(session: Session, actor: Actor, study_id: uuid.UUID, reason: str) -> XrayStudy:
    """A radiologist attaches a held image anyway: it is the applicant's, for the reason given."""
    actor.check("radiology:write")
    study = load_study(session, actor, study_id)
    reason = " ".join((reason or "").split())
    if study.identity_status != IdentityStatus.HELD:
        raise Conflict(
            "This X-ray is not held: its header identity needs no confirmation.",
            code="exams.xray_identity_not_held",
        )
    if len(reason) < 10:
        raise ValidationFailed(
            errors={
                "reason": [
                    "Say why this image is the applicant's although its header names someone "
                    "else (for example: the X-ray unit's worklist had the spouse's name; the "
                    "label on the film was checked)."
                ]
            },
            code="exams.xray_identity_reason_missing",
        )
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            errors={"reason": [f"Keep the reason under {REASON_MAX} characters."]},
            code="exams.xray_identity_reason_too_long",
        )
    before = {"identity": study.identity_status}
    study.identity_status = IdentityStatus.CONFIRMED
    study.identity_reason = reason
    study.identity_confirmed_by = actor.user_id
    study.identity_confirmed_by_name = actor.username
    study.identity_confirmed_at = utcnow()
    session.flush()
    applicant = cases.load_applicant(session, actor, study.applicant_id)
    audit.record(
        session,
        actor,
        "confirm_identity",
        "xray_study",
        study.id,
        site_id=applicant.case.site_id,
        before=before,
        after={
            "identity": study.identity_status,
            "reason": reason,
            "differs": list(study.identity_differs or []),
        },
    )
    return study


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    temporary.replace(path)


def studies(
    session: Session, actor: Actor, applicant_id: uuid.UUID
) -> list[tuple[XrayStudy, XrayReading | None]]:
    """The applicant's X-rays with their latest reading (audited read)."""
    actor.check("radiology:read")
    applicant = cases.load_applicant(session, actor, applicant_id)
    rows = list(
        session.scalars(
            select(XrayStudy)
            .where(XrayStudy.applicant_id == applicant.id)
            .order_by(XrayStudy.uploaded_at)
        )
    )
    readings: dict[uuid.UUID, XrayReading] = {}
    for reading in session.scalars(
        select(XrayReading)
        .where(XrayReading.study_id.in_([s.id for s in rows]))
        .order_by(XrayReading.read_at)
    ):
        readings[reading.study_id] = reading
    audit.record(
        session, actor, "read", "xray_studies", applicant.id, site_id=applicant.case.site_id
    )
    return [(s, readings.get(s.id)) for s in rows]


def load_study(session: Session, actor: Actor, study_id: uuid.UUID) -> XrayStudy:
    study = session.get(XrayStudy, study_id)
    if study is None:
        raise NotFound("No such X-ray.", code="exams.xray_not_found")
    try:
        cases.load_applicant(session, actor, study.applicant_id)
    except NotFound:
        raise NotFound("No such X-ray.", code="exams.xray_not_found") from None
    return study


def preview(
    session: Session, actor: Actor, study_id: uuid.UUID, storage: Path, thumbnail: bool = False
) -> bytes:
    """The study's PNG preview or thumbnail (the view is audited)."""
    actor.check("radiology:read")
    study = load_study(session, actor, study_id)
    suffix = ".thumb.png" if thumbnail else ".png"
    path = dicom.path_for(study.sha256, storage / "previews", suffix)
    if not path.exists():  # made again from the original, e.g. after a storage restore
        original = dicom.path_for(study.sha256, storage / "dicom").read_bytes()
        made = dicom.render_previews(original)
        _write_once(path, made.thumbnail if thumbnail else made.preview)
    audit.record(session, actor, "read", "xray_image", study.id)
    return path.read_bytes()


def read(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    study_id: uuid.UUID,
    data: dict[str, Any],
    signature: Signature | None = None,
) -> XrayReading:
    """The radiologist's reading: DS-3030 findings; what they mean is recorded in the plan.

    Every HTTP edge passes the reader's confirmed signature (accounts.signatures: password
    again), and the reading names them with role and registration number; None is for the seeded
    demo and tests only."""
    actor.check("radiology:write")
    study = load_study(session, actor, study_id)
    if study.held:
        raise Conflict(
            "This X-ray is held: its header names someone other than the applicant. A "
            "radiologist must confirm it is the applicant's, with a reason, before it is read.",
            code="exams.xray_identity_held",
        )
    findings = list(dict.fromkeys(data["findings"]))
    unknown = [f for f in findings if f not in FINDINGS and f != NO_ABNORMAL_FINDING]
    if unknown:
        raise ValidationFailed(errors={"findings": [f"Unknown finding: {', '.join(unknown)}."]})
    check_findings(findings)
    # "No abnormal finding" is the absence of findings: the reading keeps the findings only.
    findings = [f for f in findings if f != NO_ABNORMAL_FINDING]
    reading = XrayReading(
        study_id=study.id,
        findings=findings,
        decision=decision_for(findings),
        comments=data.get("comments"),
        read_by=actor.user_id,
        read_by_name=(signature.line if signature else actor.username)[:120],
    )
    session.add(reading)
    session.flush()
    audit.record(session, actor, "create", "xray_reading", reading.id, after={"findings": findings})
    workflow.record_result(
        session,
        actor,
        rules,
        study.applicant_id,
        {"code": "chest_xray", "value": reading.decision, "date": utcnow().date()},
        owner=True,
        source=("xray_reading", reading.id),
    )
    return reading
