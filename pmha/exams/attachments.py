"""Documents attached to the record (a specialist's report): checked, stored by SHA-256.

The file is kept under STORAGE_DIR/attachments by its hash, never by its uploaded name (names
can identify people). Its type is read from its first bytes, not trusted from the upload.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pmha.cases import service as cases
from pmha.core import audit, file_crypto
from pmha.core.auth import Actor
from pmha.core.db import Base, UUIDPk, utcnow
from pmha.core.errors import NotFound, ValidationFailed

MAX_BYTES = 20 * 1024 * 1024
SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg",
              b"\x89PNG\r\n\x1a\n": "image/png"}  # fmt: skip
PURPOSES = ("specialist_report",)


class Attachment(UUIDPk, Base):
    __tablename__ = "attachments"

    applicant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applicants.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(40))
    media_type: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[uuid.UUID | None]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


def media_type_of(data: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def _path(root: Path, digest: str) -> Path:
    return root / "attachments" / digest[:2] / digest[2:4] / digest


def _store(root: Path, digest: str, data: bytes) -> None:
    path = _path(root, digest)
    if not path.exists():
        file_crypto.write(path, data)


def attach(
    session: Session,
    actor: Actor,
    applicant_id: uuid.UUID,
    purpose: str,
    data: bytes,
    storage: Path,
) -> Attachment:
    """Keep a document (PDF, JPEG or PNG, up to 20 MiB) on the applicant's record."""
    actor.check("exams:write")
    applicant = cases.load_applicant(session, actor, applicant_id)
    if purpose not in PURPOSES:
        raise ValidationFailed(errors={"purpose": [f"Use one of {', '.join(PURPOSES)}."]})
    if not data:
        raise ValidationFailed(errors={"file": ["Choose the file to attach."]})
    if len(data) > MAX_BYTES:
        raise ValidationFailed(errors={"file": ["The file is larger than 20 MiB."]})
    media_type = media_type_of(data)
    if media_type is None:
        raise ValidationFailed(errors={"file": ["Attach a PDF, JPEG or PNG file."]})
    digest = hashlib.sha256(data).hexdigest()
    _store(storage, digest, data)
    found = Attachment(
        applicant_id=applicant.id,
        purpose=purpose,
        media_type=media_type,
        sha256=digest,
        size_bytes=len(data),
        uploaded_by=actor.user_id,
    )
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "attachment",
        found.id,
        site_id=applicant.case.site_id,
        details={"purpose": purpose, "sha256": digest},
    )
    return found


def listed(session: Session, actor: Actor, applicant_id: uuid.UUID) -> list[Attachment]:
    """The applicant's attachments, newest first (no content is read)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.applicant_id == applicant.id)
            .order_by(Attachment.uploaded_at.desc())
        )
    )


def content(
    session: Session, actor: Actor, attachment_id: uuid.UUID, storage: Path
) -> tuple[Attachment, bytes]:
    """An attachment's bytes (the read is audited)."""
    actor.check("exams:read")
    found = session.get(Attachment, attachment_id)
    if found is None:
        raise NotFound("No such attachment.", code="exams.attachment_not_found")
    try:
        applicant = cases.load_applicant(session, actor, found.applicant_id)
    except NotFound:
        raise NotFound("No such attachment.", code="exams.attachment_not_found") from None
    audit.record(session, actor, "read", "attachment", found.id, site_id=applicant.case.site_id)
    return found, file_crypto.read(_path(storage, found.sha256))
