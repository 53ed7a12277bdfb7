"""What the CDC guide leaves to the sender, read from country_rules/hl7/vxu.toml: the funding
program eligibility and funding source of a dose given here, per destination (and centre), and
the VIS documents (cdcgs1vis) a dose's Vaccine Information Statement may be named by.

Pure: a file in, frozen dataclasses out. A file that names an unknown code, cites a source it
does not list or leaves a value out is refused as a whole (`RegistryFileError`), so a VXU never
leaves with a value nobody chose.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmha.codes import CVX, FUNDING_SOURCE, HL70064
from pmha.config import PROJECT_ROOT
from pmha.exports.immunization import ImmunizationRecord, RecordKind

REGISTRY_FILE = PROJECT_ROOT / "country_rules" / "hl7" / "vxu.toml"
_GDTI = re.compile(r"^253\d{21}$")  # GS1 AI 253: document type (13 digits) + serial
_CONFIDENCE = frozenset({"C", "S", "U"})
_GIVEN = frozenset({RecordKind.ADMINISTERED, RecordKind.SUBPOTENT})


def given_here(record: ImmunizationRecord) -> bool:
    """A dose given at the centre (RXA-9 00): the one kind that carries funding observations."""
    return record.kind in _GIVEN and record.information_source == "00"


class RegistryFileError(ValueError):
    """The registry file cannot be used; the message names each entry at fault."""


@dataclass(frozen=True, slots=True)
class Funding:
    """OBX 64994-7 (HL70064) and OBX 30963-3 (CDCPHINVS) for a dose given here."""

    eligibility: str
    funding_source: str


@dataclass(frozen=True, slots=True)
class VisDocument:
    """One edition of a Vaccine Information Statement, by its bar code (GDTI)."""

    gdti: str
    name: str
    edition: dt.date
    cvx: frozenset[str]


@dataclass(frozen=True, slots=True)
class Registry:
    funding: Mapping[tuple[str, str], Funding]  # (destination, centre or "") -> values
    documents: Mapping[str, VisDocument]  # by GDTI

    def funding_for(self, destination: str, centre: str) -> Funding | None:
        """The centre's own entry for the destination, else the destination's."""
        return self.funding.get((destination, centre)) or self.funding.get((destination, ""))

    def document_for(self, cvx: str, edition: dt.date) -> VisDocument | None:
        """The VIS document of this vaccine and edition, when the file knows it."""
        for document in self.documents.values():
            if cvx in document.cvx and document.edition == edition:
                return document
        return None


def edition_of(gdti: str) -> dt.date | None:
    """The edition date a cdcgs1vis code ends with (YYMMDD), for a document the file lacks."""
    if not _GDTI.match(gdti):
        return None
    try:
        return dt.datetime.strptime(gdti[-6:], "%y%m%d").date()
    except ValueError:
        return None


def parse(data: Mapping[str, Any]) -> Registry:
    """Check and compile the file's content; every problem is named."""
    problems: list[str] = []
    sources = set(data.get("sources") or {})

    def cited(where: str, entry: Mapping[str, Any]) -> None:
        listed = entry.get("source") or []
        if not listed:
            problems.append(f"{where}: cites no source")
        problems.extend(f"{where}: source {s!r} is not in [sources]" for s in listed
                        if s not in sources)  # fmt: skip

    funding: dict[tuple[str, str], Funding] = {}
    for n, entry in enumerate(data.get("funding") or []):
        where = f"funding[{n}] ({entry.get('destination', '?')})"
        cited(where, entry)
        eligibility, source = entry.get("eligibility"), entry.get("funding_source")
        if eligibility not in HL70064:
            problems.append(f"{where}: eligibility {eligibility!r} is not an HL70064 code")
        if source not in FUNDING_SOURCE:
            problems.append(f"{where}: funding_source {source!r} is not a CDCPHINVS funding code")
        if entry.get("confidence", "U") not in _CONFIDENCE:
            problems.append(f"{where}: confidence must be C, S or U")
        key = (str(entry.get("destination", "")), str(entry.get("centre", "")))
        if not key[0]:
            problems.append(f"{where}: destination is required")
        elif key in funding:
            problems.append(f"{where}: listed twice")
        funding[key] = Funding(str(eligibility), str(source))

    documents: dict[str, VisDocument] = {}
    for n, entry in enumerate(data.get("vis_document") or []):
        gdti = str(entry.get("gdti", ""))
        where = f"vis_document[{n}] ({gdti or '?'})"
        cited(where, entry)
        edition = entry.get("edition")
        if not _GDTI.match(gdti):
            problems.append(f"{where}: gdti must be 24 digits starting 253")
        elif not isinstance(edition, dt.date) or edition_of(gdti) != edition:
            problems.append(f"{where}: edition must be the date the code ends with")
        if not entry.get("name"):
            problems.append(f"{where}: name is required")
        unknown = [c for c in entry.get("cvx", []) if c not in CVX]
        if unknown:
            problems.append(f"{where}: {', '.join(unknown)} not CVX codes we know")
        if gdti in documents:
            problems.append(f"{where}: listed twice")
        if isinstance(edition, dt.date):
            documents[gdti] = VisDocument(
                gdti, str(entry.get("name", "")), edition, frozenset(entry.get("cvx", []))
            )
    if problems:
        raise RegistryFileError("; ".join(problems))
    return Registry(funding, documents)


def load(path: Path) -> Registry:
    with path.open("rb") as fh:
        return parse(tomllib.load(fh))


@functools.cache
def registry() -> Registry:
    """The project's registry file, read once."""
    return load(REGISTRY_FILE)


def complete(
    records: Sequence[ImmunizationRecord], found: Registry, destination: str, centre: str
) -> list[ImmunizationRecord]:
    """The records as the VXU sends them: a dose given here gets the destination's funding
    values unless it has its own, and a VIS its document's bar code when the file knows it."""
    funding = found.funding_for(destination, centre)
    out = []
    for record in records:
        changes: dict[str, object] = {}
        if given_here(record) and funding is not None:
            if not record.eligibility:
                changes["eligibility"] = funding.eligibility
            if not record.funding_source:
                changes["funding_source"] = funding.funding_source
        named = []
        for vis in record.vis:
            document = None if vis.document else found.document_for(record.cvx, vis.published)
            named.append(dataclasses.replace(vis, document=document.gdti) if document else vis)
        if tuple(named) != record.vis:
            changes["vis"] = tuple(named)
        out.append(dataclasses.replace(record, **changes) if changes else record)  # type: ignore[arg-type]
    return out
