"""Chest X-ray studies and the radiologist's reading (DS-3030 findings).

Uploads go through the DICOM adapter (pmha.exams.dicom): the request validates the file, checks
whose it is, and stores the original by its SHA-256; a job after the commit (`prepare`, run by
pmha.exams.tasks) makes the windowed PNG preview and thumbnail beside it and a de-identified copy
for research and QA (issue 20: the request path no longer renders). The reading's findings
decide whether the X-ray suggests TB; that feeds the plan.
"""

from __future__ import annotations

import enum
import hmac
import logging
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pmha.accounts.service import display_name
from pmha.accounts.signatures import Signature
from pmha.cases import service as cases
from pmha.core import audit, file_crypto
from pmha.core.auth import Actor
from pmha.core.db import Base, Database, UUIDPk, utcnow
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.core.tasks import enqueue_after_commit
from pmha.exams import dicom, xray_identity, xray_pixels
from pmha.exams.commands import XrayRead
from pmha.exams.lab_service import has_consent
from pmha.exams.labs import ConsentKind
from pmha.rules import RuleBook
from pmha.workflow import service as workflow
from pmha.workflow.commands import NewResult

log = logging.getLogger("pmha.exams")
# The job that makes an upload's previews and de-identified copy (pmha.exams.tasks runs it).
PREPARE_JOB = "pmha.exams.prepare_xray"

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


class ImagesStatus(enum.StrEnum):
    """Whether the previews and the de-identified copy are made (by the job after upload)."""

    PREPARING = "preparing"
    READY = "ready"
    FAILED = "failed"  # the file could not be rendered or de-identified: the original is kept


# A study still preparing after this long lost its job (a broker that lost the message, a
# worker that died twice): the preview endpoint then prepares it itself.
PREPARE_GRACE = timedelta(minutes=2)


class ImagePreparing(Conflict):
    """The preview is not made yet: ask again shortly (409 with retry_after)."""

    code = "exams.xray_preparing"
    title = "Image being prepared"

    def __init__(self) -> None:
        super().__init__(
            "The image is being prepared: its preview is ready within a few seconds.",
            extra={"retry_after": 2},
        )
        self.retry_after = 2


class XrayStudy(UUIDPk, Base):
    __tablename__ = "xray_studies"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    deidentified_sha256: Mapped[str | None] = mapped_column(String(64))  # None until made
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
    # ImagesStatus: previews and de-identified copy (made by the job after upload).
    images_status: Mapped[str] = mapped_column(
        String(16), default=ImagesStatus.PREPARING, server_default="ready"
    )

    @property
    def images_ready(self) -> bool:
        return self.images_status == ImagesStatus.READY

    @property
    def preparing(self) -> bool:
        return self.images_status == ImagesStatus.PREPARING

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
    """Validate, check and keep a chest X-ray's original; its previews and de-identified copy
    are made by a job once this transaction commits (`prepare`)."""
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
    # Refused now, as when the copy was made in the request: the job cannot refuse an upload.
    dicom.check_releasable(info)
    check = xray_identity.compare(info.identity, applicant_identity(applicant))
    if session.scalar(select(XrayStudy.id).where(XrayStudy.instance_uid == info.sop_instance_uid)):
        raise ValidationFailed("This image was uploaded already.", code="exams.dicom.duplicate")
    digest = dicom.store(data, storage / "dicom").stem
    study = XrayStudy(
        applicant_id=applicant.id,
        sha256=digest,
        deidentified_sha256=None,
        images_status=ImagesStatus.PREPARING,
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
    enqueue_after_commit(session, PREPARE_JOB, str(study.id))
    return study


def prepare(session: Session, study_id: uuid.UUID, storage: Path) -> str:
    """Make a study's previews and de-identified copy from its stored original and mark it
    ready (failed when the file cannot be rendered or de-identified), in this session: the
    preview's fallback. The job uses `prepare_outside` (no transaction open while rendering).
    Idempotent: the files are content-addressed and written atomically, so a second run (a
    redelivered job, the fallback racing the job) writes the same bytes."""
    study = session.get(XrayStudy, study_id)
    if study is None:
        return "gone"  # deleted before its job ran
    if study.images_status == ImagesStatus.READY and _previews_exist(study.sha256, storage):
        return str(study.images_status)
    made = _make_images(study.id, study.sha256, storage, _uid_secret(session))
    return _mark_prepared(session, study, made)


def prepare_outside(db: Database, study_id: uuid.UUID, storage: Path) -> str:
    """The job's verb: `prepare` with the rendering outside any transaction (on SQLite a
    transaction holds the database's one write lock; on PostgreSQL the row would stay locked),
    then one short transaction that marks the study."""
    with db.transaction() as session:
        study = session.get(XrayStudy, study_id)
        if study is None:
            return "gone"
        if study.images_status == ImagesStatus.READY and _previews_exist(study.sha256, storage):
            return str(study.images_status)
        digest, secret = study.sha256, _uid_secret(session)
    made = _make_images(study_id, digest, storage, secret)
    with db.transaction() as session:
        study = session.get(XrayStudy, study_id, with_for_update=True)
        if study is None:
            return "gone"
        return _mark_prepared(session, study, made)


def _make_images(
    study_id: uuid.UUID, digest: str, storage: Path, secret: bytes
) -> tuple[ImagesStatus, str | None] | None:
    """Write the previews and the de-identified copy; (status, the copy's digest), or None
    when the original is missing from storage (nothing to make it from)."""
    try:
        data = dicom.load(digest, storage / "dicom")
    except FileNotFoundError:
        log.warning("X-ray %s: original missing from storage, nothing to prepare", study_id)
        return None
    try:
        made = dicom.render_previews(data)
        for suffix, png in ((".png", made.preview), (".thumb.png", made.thumbnail)):
            _write_once(dicom.path_for(digest, storage / "previews", suffix), png)
        copy = dicom.deidentify(data, dicom.UidMapper(secret))
        return ImagesStatus.READY, dicom.store(copy, storage / "deidentified").stem
    except dicom.DicomRejected as exc:
        log.warning("X-ray %s: previews or copy not made (%s)", study_id, exc.code)
        return ImagesStatus.FAILED, None


def _mark_prepared(
    session: Session, study: XrayStudy, made: tuple[ImagesStatus, str | None] | None
) -> str:
    if made is None:
        return str(study.images_status)
    status, copy = made
    before = study.images_status
    study.images_status = status
    study.deidentified_sha256 = copy or study.deidentified_sha256
    session.flush()
    if before != status:
        audit.record(
            session,
            Actor.system("exams.prepare_xray"),
            "prepare",
            "xray_study",
            study.id,
            details={"images": str(status)},
        )
    return str(status)


def _previews_exist(digest: str, storage: Path) -> bool:
    return all(
        dicom.path_for(digest, storage / "previews", suffix).exists()
        for suffix in (".png", ".thumb.png")
    )


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
    study.identity_confirmed_by_name = display_name(actor)[:120]
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
    if not path.exists():
        file_crypto.write(path, data)


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
    """The study's PNG preview or thumbnail (the view is audited); ImagePreparing (409) while
    its job has not made it yet."""
    actor.check("radiology:read")
    study = load_study(session, actor, study_id)
    if study.preparing:
        if utcnow() - study.uploaded_at < PREPARE_GRACE:
            raise ImagePreparing()
        # Its job is lost: prepare it here (the job, if it still comes, finds it done).
        _original(study, storage)  # a named 404 when the file is gone
        prepare(session, study.id, storage)
    suffix = ".thumb.png" if thumbnail else ".png"
    path = dicom.path_for(study.sha256, storage / "previews", suffix)
    if not path.exists():  # made again from the original, e.g. after a storage restore
        original = _original(study, storage)
        made = dicom.render_previews(original)
        _write_once(path, made.thumbnail if thumbnail else made.preview)
    audit.record(session, actor, "read", "xray_image", study.id)
    return file_crypto.read(path)


def _original(study: XrayStudy, storage: Path) -> bytes:
    """The stored DICOM file; a named 404 when storage lost it (a restore without the files)."""
    try:
        return dicom.load(study.sha256, storage / "dicom")
    except FileNotFoundError:
        raise NotFound(
            "The image's file is missing from storage: restore the storage backup or upload "
            "the X-ray again.",
            code="exams.xray_file_missing",
        ) from None


def full_resolution(
    session: Session, actor: Actor, study_id: uuid.UUID, storage: Path
) -> xray_pixels.FullImage:
    """The study's stored pixel values at full resolution for the viewer (the view is audited)."""
    actor.check("radiology:read")
    study = load_study(session, actor, study_id)
    image = xray_pixels.full_image(_original(study, storage))
    audit.record(session, actor, "read", "xray_image", study.id, details={"resolution": "full"})
    return image


def read(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    study_id: uuid.UUID,
    data: XrayRead,
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
    findings = list(dict.fromkeys(data.findings))
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
        comments=data.comments,
        read_by=actor.user_id,
        read_by_name=(signature.line if signature else display_name(actor))[:120],
    )
    session.add(reading)
    session.flush()
    audit.record(session, actor, "create", "xray_reading", reading.id, after={"findings": findings})
    workflow.record_result(
        session,
        actor,
        rules,
        study.applicant_id,
        NewResult(code="chest_xray", value=reading.decision, date=utcnow().date()),
        owner=True,
        source=("xray_reading", reading.id),
    )
    return reading
