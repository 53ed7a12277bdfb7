"""The one error the DICOM adapter raises. Messages name the problem, never patient data."""

from __future__ import annotations

import re

from pmha.core.errors import AppError

_CODE = re.compile(r"[A-Z0-9 _.-]{1,16}")


class DicomRejected(AppError):
    """An uploaded or stored file that is not an acceptable chest X-ray DICOM.

    `code` is stable (`exams.dicom.not_dicom`, ...); `detail` is a sentence for the uploader.
    """

    status = 422
    code = "exams.dicom.rejected"
    title = "DICOM file rejected"

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message, code=f"exams.dicom.{code}")
        if status is not None:
            self.status = status


def shown(value: object) -> str:
    """A coded value (modality, body part, view, code) fit to quote in a message, or a phrase.

    These attributes hold short codes, not identities, but a broken or hostile file can put
    anything in them, a name typed into the wrong field included: quote only what has the shape
    of a code (CS: capitals, digits, space, underscore; at most 16 characters).
    """
    text = str(value).strip().upper()
    return text if _CODE.fullmatch(text) else "an unrecognised value"
