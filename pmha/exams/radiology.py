"""Chest X-ray studies and the radiologist's reading (DS-3030 findings).

Uploads go through the DICOM adapter (pmha.exams.dicom): the original is stored by its SHA-256,
a windowed PNG preview and thumbnail beside it, and a de-identified copy for research and QA
exports. The reading's findings decide whether the X-ray suggests TB; that feeds the plan.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pmha.cases import service as cases
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import Base, UUIDPk, utcnow
from pmha.core.errors import NotFound, ValidationFailed
from pmha.exams import dicom
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


class XrayReading(UUIDPk, Base):
    __tablename__ = "xray_readings"

    study_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("xray_studies.id"), index=True)
    findings: Mapped[list[str]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(24))
    comments: Mapped[str | None] = mapped_column(String(2000))
    read_by: Mapped[uuid.UUID | None]
    read_by_name: Mapped[str] = mapped_column(String(120))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


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
        details={"sha256": digest},
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
    session: Session, actor: Actor, rules: RuleBook, study_id: uuid.UUID, data: dict[str, Any]
) -> XrayReading:
    """The radiologist's reading: DS-3030 findings; what they mean is recorded in the plan."""
    actor.check("radiology:write")
    study = load_study(session, actor, study_id)
    findings = list(dict.fromkeys(data["findings"]))
    unknown = [f for f in findings if f not in FINDINGS]
    if unknown:
        raise ValidationFailed(errors={"findings": [f"Unknown finding: {', '.join(unknown)}."]})
    reading = XrayReading(
        study_id=study.id,
        findings=findings,
        decision=decision_for(findings),
        comments=data.get("comments"),
        read_by=actor.user_id,
        read_by_name=actor.username,
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
    )
    return reading
