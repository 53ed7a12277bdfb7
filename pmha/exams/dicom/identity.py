"""Who the image says it is of: the header's patient identity, as our own dataclass.

Only the Patient module's identifying attributes that the upload is checked against are read:
Patient's Name (its components, and any other representation groups, e.g. in Arabic script),
Patient's Sex, Patient's Birth Date and Patient ID. A missing or empty attribute is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName


@dataclass(frozen=True, slots=True)
class HeaderName:
    """One representation group of a DICOM person name (PS3.5 6.2.1.1)."""

    family: str | None = None
    given: str | None = None
    middle: str | None = None

    def words(self) -> list[str]:
        return [w for part in (self.family, self.given, self.middle) if part for w in part.split()]

    def shown(self) -> str:
        rest = " ".join(p for p in (self.given, self.middle) if p)
        return ", ".join(p for p in (self.family, rest) if p)


@dataclass(frozen=True, slots=True)
class HeaderIdentity:
    """The header's patient identity; None where the file leaves an attribute out or empty."""

    name: HeaderName | None = None
    other_names: tuple[HeaderName, ...] = ()
    sex: str | None = None  # "M", "F" or "O" (PS3.3 C.7.1.1)
    birth_date: date | None = None
    patient_id: str | None = None

    def names(self) -> list[HeaderName]:
        return [n for n in (self.name, *self.other_names) if n is not None]


def _clean(value: object) -> str | None:
    text = " ".join(str(value or "").replace("^", " ").split())
    return text or None


def _group(group: str) -> HeaderName | None:
    parts = [*group.split("^"), "", "", ""]
    name = HeaderName(_clean(parts[0]), _clean(parts[1]), _clean(parts[2]))
    return name if name.words() else None


def header_identity(ds: Dataset) -> HeaderIdentity:
    """The patient identity the file's header gives (values are never logged or echoed)."""
    raw = ds.get("PatientName")
    groups: list[HeaderName] = []
    if raw:
        value = raw if isinstance(raw, PersonName) else PersonName(str(raw))
        for text in (value.alphabetic, value.ideographic, value.phonetic):
            found = _group(str(text or ""))
            if found is not None:
                groups.append(found)
    sex = str(ds.get("PatientSex", "") or "").strip().upper() or None
    return HeaderIdentity(
        name=groups[0] if groups else None,
        other_names=tuple(groups[1:]),
        sex=sex,
        birth_date=_date(str(ds.get("PatientBirthDate", "") or "").strip()),
        patient_id=_clean(ds.get("PatientID")),
    )


def _date(value: str) -> date | None:
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None
