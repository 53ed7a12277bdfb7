"""Applicant photos: checked, re-encoded without metadata, stored with the record, reads audited.

Re-encoding drops EXIF (camera, time and GPS position) and anything hidden after the image data,
and bounds the size, so that what we keep is only the face the clinic needs to recognise.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from pmha.cases.models import ApplicantPhoto
from pmha.cases.service import load_applicant
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, UnsupportedMediaType, ValidationFailed

ACCEPTED = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAX_UPLOAD = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 64
STORED_BOX = (600, 800)


def _normalise(raw: bytes, content_type: str) -> tuple[bytes, int, int]:
    if content_type not in ACCEPTED:
        raise UnsupportedMediaType("Send the photo as image/jpeg or image/png.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format != ACCEPTED[content_type]:
                raise ValidationFailed(
                    f"The file is not a {ACCEPTED[content_type]} image.",
                    code="applicants.photo_invalid",
                )
            if image.width * image.height > MAX_PIXELS:
                raise ValidationFailed("The image is too large.", code="applicants.photo_invalid")
            image.load()
    except (
        UnidentifiedImageError,
        OSError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
        SyntaxError,
        ValueError,
    ):
        raise ValidationFailed(
            "The file is not a readable JPEG or PNG image.", code="applicants.photo_invalid"
        ) from None
    if min(image.size) < MIN_SIDE:
        raise ValidationFailed(
            f"The photo is too small: at least {MIN_SIDE} pixels a side.",
            code="applicants.photo_invalid",
        )
    rgb = image.convert("RGB")
    rgb.thumbnail(STORED_BOX)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85)
    return out.getvalue(), rgb.width, rgb.height


def set_photo(
    session: Session, actor: Actor, applicant_id: uuid.UUID, raw: bytes, content_type: str
) -> ApplicantPhoto:
    """Store (or replace) an applicant's photo, re-encoded as a JPEG without metadata."""
    applicant = load_applicant(session, actor, applicant_id)
    data, width, height = _normalise(raw, content_type)
    digest = hashlib.sha256(data).hexdigest()
    photo = session.get(ApplicantPhoto, applicant.id)
    before = {"photo": photo.sha256} if photo else None
    if photo is None:
        photo = ApplicantPhoto(applicant_id=applicant.id)
        session.add(photo)
    photo.content_type, photo.sha256, photo.data = "image/jpeg", digest, data
    photo.width, photo.height, photo.uploaded_at = width, height, utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "update" if before else "create",
        "applicant_photo",
        applicant.id,
        site_id=applicant.case.site_id,
        before=before,
        after={"photo": digest},
    )
    return photo


def get_photo(session: Session, actor: Actor, applicant_id: uuid.UUID) -> ApplicantPhoto:
    """An applicant's photo (the read is audited)."""
    applicant = load_applicant(session, actor, applicant_id)
    photo = session.get(ApplicantPhoto, applicant.id)
    if photo is None:
        raise NotFound("This applicant has no photo.", code="applicants.no_photo")
    audit.record(
        session, actor, "read", "applicant_photo", applicant.id, site_id=applicant.case.site_id
    )
    return photo


def delete_photo(session: Session, actor: Actor, applicant_id: uuid.UUID) -> None:
    """Remove an applicant's photo."""
    applicant = load_applicant(session, actor, applicant_id)
    photo = session.get(ApplicantPhoto, applicant.id)
    if photo is None:
        raise NotFound("This applicant has no photo.", code="applicants.no_photo")
    session.delete(photo)
    audit.record(
        session,
        actor,
        "delete",
        "applicant_photo",
        applicant.id,
        site_id=applicant.case.site_id,
        before={"photo": photo.sha256},
    )
