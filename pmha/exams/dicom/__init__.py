"""The DICOM adapter: the only code that imports pydicom. Bytes in; bytes, paths and our own
dataclasses out. No Flask, no database.

    info = inspect(data)                 # validate an uploaded chest X-ray -> DicomInfo
    info.identity                        # the header's patient: name, sex, birth date, ID
    path = store(data, root)             # root/ab/cd/<sha256>.dcm, atomically
    check_releasable(info)               # refuse what deidentify would (burned-in text)
    previews = render_previews(data)     # windowed PNG preview and thumbnail
    copy = deidentify(data, UidMapper(secret))   # PS3.15 Basic Profile copy

Every refusal is a DicomRejected with a stable code and a message without patient data.
"""

from pmha.exams.dicom.deidentify import UidMapper, check_releasable, deidentify
from pmha.exams.dicom.errors import DicomRejected
from pmha.exams.dicom.identity import HeaderIdentity, HeaderName
from pmha.exams.dicom.preview import (
    PREVIEW_SIZE,
    THUMBNAIL_SIZE,
    Previews,
    render_preview,
    render_previews,
)
from pmha.exams.dicom.storage import load, path_for, sha256_of, store, sweep_temporary
from pmha.exams.dicom.validate import MAX_BYTES, DicomInfo, inspect

__all__ = [
    "MAX_BYTES",
    "PREVIEW_SIZE",
    "THUMBNAIL_SIZE",
    "DicomInfo",
    "DicomRejected",
    "HeaderIdentity",
    "HeaderName",
    "Previews",
    "UidMapper",
    "check_releasable",
    "deidentify",
    "inspect",
    "load",
    "path_for",
    "render_preview",
    "render_previews",
    "sha256_of",
    "store",
    "sweep_temporary",
]
