"""The receiving side: open a bundle (decrypt, verify the sender, check every manifest hash,
validate the contents) and load it, all or nothing, into a read-only view for the authority.

Every refusal is an `ImportRefused` with a stable code and a message that names no content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from pmha.core import audit, file_crypto
from pmha.core.auth import Actor
from pmha.core.errors import AppError, Conflict, NotFound
from pmha.exams import dicom
from pmha.exports import envelope, fhir, hl7, keys
from pmha.exports.build import SCHEMA_VERSION
from pmha.exports.envelope import EnvelopeError
from pmha.exports.models import ImportedBundle, ImportedTraveller

MAX_ENVELOPE = 1024 * 1024 * 1024  # 1 GiB
MAX_UNPACKED = 2 * 1024 * 1024 * 1024
MAX_FILES = 2000
MAX_RATIO = 200  # a deflated member may not expand more than this (zip bombs)
FOLDERS = {
    "fhir": ".json",
    "hl7": ".hl7",
    "dicom": ".dcm",
    "pdf": ".pdf",
    "handover": ".json",
    "tb": ".json",
    "travel": ".json",
}


class ImportRefused(AppError):
    status = 422
    code = "exports.refused"
    title = "The bundle was refused"


class AlreadyImported(Conflict):
    code = "exports.already_imported"
    title = "Already imported"


@dataclass(frozen=True)
class Opened:
    manifest: dict[str, Any]
    files: dict[str, bytes]
    signer_fingerprint: str
    signed_at: dt.datetime


def _refuse(code: str, message: str) -> ImportRefused:
    return ImportRefused(message, code=code)


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    if name == "manifest.json":
        return True
    return (
        "\\" not in name
        and not path.is_absolute()
        and ".." not in path.parts
        and len(path.parts) == 2
        and path.parts[0] in FOLDERS
        and path.suffix == FOLDERS[path.parts[0]]
        and ":" not in name
    )


def unpack(archive: bytes) -> dict[str, bytes]:
    """The zip's files, refusing unsafe names, duplicates and anything that expands too far."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError, OSError, EOFError):
        raise _refuse("exports.bad_zip", "The bundle's archive is damaged.") from None
    if len(infos) > MAX_FILES:
        raise _refuse("exports.zip_bomb", "The bundle holds too many files.")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise _refuse("exports.bad_zip", "The bundle's archive names a file twice.")
    if not all(_safe_name(n) for n in names):
        raise _refuse(
            "exports.unsafe_path", "The bundle's archive holds a file outside its folders."
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED or any(
        i.compress_type != zipfile.ZIP_STORED and i.file_size > MAX_RATIO * max(i.compress_size, 1)
        for i in infos
    ):
        raise _refuse("exports.zip_bomb", "The bundle's archive expands too far.")
    files: dict[str, bytes] = {}
    try:
        for info in infos:
            with zf.open(info) as member:
                data = member.read(info.file_size + 1)  # never more than the declared size
            if len(data) != info.file_size:
                raise _refuse("exports.zip_bomb", "The bundle's archive misstates a file's size.")
            files[info.filename] = data
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,  # a member flagged encrypted
        ValueError,  # an offset before the start of the archive
        zlib.error,  # a damaged deflate stream
    ):
        raise _refuse("exports.bad_zip", "The bundle's archive is damaged.") from None
    return files


def check_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    try:
        manifest = json.loads(files["manifest.json"])
        listed = {f["path"]: f for f in manifest["files"]}
        if not isinstance(manifest["bundle_id"], str):
            raise TypeError("bundle_id")
        uuid.UUID(manifest["bundle_id"])
        for traveller in manifest.get("travellers", []):
            for name in ("classifications", "follow_up"):
                if not isinstance(traveller.get(name, []), list):
                    raise TypeError(name)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        raise _refuse("exports.bad_manifest", "The bundle has no readable manifest.") from None
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise _refuse("exports.bad_manifest", "The bundle's manifest version is not supported.")
    present = set(files) - {"manifest.json"}
    if present != set(listed):
        raise _refuse("exports.hash_mismatch", "The bundle's files do not match its manifest.")
    for name, entry in listed.items():
        if hashlib.sha256(files[name]).hexdigest() != entry.get("sha256"):
            raise _refuse("exports.hash_mismatch", "A file of the bundle does not match its hash.")
    return dict(manifest)


def check_contents(files: dict[str, bytes]) -> None:
    """FHIR structure, VXU messages, DICOM images and PDFs, each by its own checks."""
    for name, data in sorted(files.items()):
        folder = name.split("/", 1)[0]
        try:
            if folder == "fhir":
                if fhir.check_bundle(json.loads(data)):
                    raise ValueError
            elif folder == "hl7":
                hl7.parse_vxu(data.decode())
            elif folder == "dicom":
                dicom.inspect(data)
            elif folder in ("handover", "tb", "travel"):
                json.loads(data)
            elif folder == "pdf" and not data.startswith(b"%PDF-"):
                raise ValueError
        except (ValueError, UnicodeDecodeError, hl7.Hl7Error, dicom.DicomRejected):
            raise _refuse(
                "exports.invalid_content", f"A {folder} file of the bundle is not valid."
            ) from None


def _check_sender(senders: list[Any], fingerprint: str, manifest: dict[str, Any]) -> None:
    """The centre the manifest names must be the one the signing key is trusted for: a key
    trusted for one centre cannot speak for another (issue 19)."""
    site = manifest.get("sending_site")
    named = str(site.get("code", "")).strip().upper() if isinstance(site, dict) else ""
    codes = {r.sender_code for r in senders if r.fingerprint == fingerprint}
    if named not in codes:
        raise _refuse(
            "exports.wrong_sender",
            "The bundle names a sending centre other than the one whose key signed it.",
        )


def open_bundle(session: Session, destination: str, data: bytes) -> Opened:
    """Decrypt, verify, unpack and check a bundle for this destination's authority."""
    if len(data) > MAX_ENVELOPE:
        raise _refuse("exports.too_large", "The bundle is too large.")
    own = keys.decryption_keys(session, destination)
    if not own:
        raise _refuse("exports.no_decryption_key", "This authority has no key to open bundles.")
    senders = keys.trusted_senders(session, destination)
    trusted = [envelope.load_certificate(r.cert_pem.encode()) for r in senders]
    try:
        signed = envelope.decrypt(data, own)
        verified = envelope.verify(signed, trusted)
    except EnvelopeError as exc:
        raise _refuse(exc.code, exc.message) from None
    files = unpack(verified.content)
    manifest = check_manifest(files)
    if manifest.get("case", {}).get("destination") != destination:
        raise _refuse("exports.wrong_destination", "The bundle is for another destination.")
    _check_sender(senders, envelope.fingerprint(verified.signer), manifest)
    check_contents(files)
    return Opened(manifest, files, envelope.fingerprint(verified.signer), verified.signed_at)


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    resources = [e["resource"] for e in document["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    name = patient["name"][0]
    return {
        "family_name": name.get("family", "")[:100],
        "given_names": " ".join(name.get("given", []))[:100],
        "birth_date": dt.date.fromisoformat(patient["birthDate"]),
    }


def _journey(files: dict[str, bytes]) -> tuple[str | None, dt.datetime | None]:
    """The flight and its departure time from travel/journey.json, when the bundle has one."""
    try:
        facts = json.loads(files["travel/journey.json"])
        departs = dt.datetime.fromisoformat(str(facts["departs_at"]))
        flight = str(facts.get("flight") or "")[:16] or None
    except (KeyError, TypeError, ValueError):
        return None, None
    if departs.tzinfo is None:
        departs = departs.replace(tzinfo=dt.UTC)
    return flight, departs


def _strings(value: Any) -> list[Any]:
    """A manifest list as it must be (a list); TypeError for anything else (`5`, a string)."""
    if not isinstance(value, list):
        raise TypeError("not a list")
    return list(value)


def import_bundle(session: Session, actor: Actor, data: bytes, storage: Path) -> ImportedBundle:
    """Load a bundle for the actor's authority, all or nothing; a second import is refused."""
    actor.check("exports:import")
    if not actor.destination:
        raise _refuse("exports.no_destination", "Your account belongs to no receiving authority.")
    if not data:
        raise _refuse("exports.empty", "The upload is empty: send the bundle's .p7m file.")
    opened = open_bundle(session, actor.destination, data)
    bundle_id = uuid.UUID(opened.manifest["bundle_id"])
    if session.get(ImportedBundle, bundle_id) is not None:
        raise AlreadyImported("This bundle was imported already.")
    flight, departs_at = _journey(opened.files)
    site = opened.manifest.get("sending_site", {})
    row = ImportedBundle(
        id=bundle_id,
        destination=actor.destination,
        sending_site=f"{site.get('code', '')} {site.get('name', '')}".strip()[:120],
        signer_fingerprint=opened.signer_fingerprint,
        signed_at=opened.signed_at,
        case_number=str(opened.manifest["case"].get("case_number", ""))[:24],
        manifest=opened.manifest,
        envelope_sha256=hashlib.sha256(data).hexdigest(),
        imported_by=actor.user_id,
        flight=flight,
        departs_at=departs_at,
    )
    session.add(row)
    session.flush()
    for traveller in opened.manifest.get("travellers", []):
        try:
            document = json.loads(opened.files[traveller["fhir"]])
            summary = _summary(document)
            classifications = _strings(traveller.get("classifications", []))
            follow_up = _strings(traveller.get("follow_up", []))
        except (KeyError, TypeError, ValueError, StopIteration, IndexError, AttributeError):
            raise _refuse(
                "exports.bad_manifest", "A traveller of the manifest has no summary."
            ) from None
        session.add(
            ImportedTraveller(
                import_id=row.id,
                clearance=str(traveller.get("clearance", ""))[:32],
                classifications=classifications,
                follow_up=follow_up,
                fhir=document,
                **summary,
            )
        )
    session.flush()
    for name, content in opened.files.items():
        if name.startswith(("dicom/", "pdf/")):
            path = storage / "imports" / hashlib.sha256(content).hexdigest()
            if not path.exists():
                file_crypto.write(path, content)
    audit.record(
        session, actor, "import", "imported_bundle", row.id, details={"files": len(opened.files)}
    )
    return row


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _travel_date_from(day: dt.date) -> Any:
    """On or after `day`: the flight's departure when the bundle has one, else its import."""
    start = _day_start(day)
    return or_(
        ImportedBundle.departs_at >= start,
        and_(ImportedBundle.departs_at.is_(None), ImportedBundle.imported_at >= start),
    )


def _travel_date_to(day: dt.date) -> Any:
    end = _day_start(day + dt.timedelta(days=1))
    return or_(
        ImportedBundle.departs_at < end,
        and_(ImportedBundle.departs_at.is_(None), ImportedBundle.imported_at < end),
    )


def arrivals(
    session: Session,
    actor: Actor,
    *,
    name: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 500,
) -> list[tuple[ImportedBundle, ImportedTraveller]]:
    """The authority's arrival list, newest flight (or import) first, filtered by part of a
    traveller's name and by travel date (the flight's departure, else the import), audited."""
    actor.check("exports:import")
    query = (
        select(ImportedBundle, ImportedTraveller)
        .join(ImportedTraveller, ImportedTraveller.import_id == ImportedBundle.id)
        .where(ImportedBundle.destination == actor.destination)
    )
    for word in (name or "").lower().split():
        query = query.where(
            or_(
                func.lower(ImportedTraveller.family_name).contains(word, autoescape=True),
                func.lower(ImportedTraveller.given_names).contains(word, autoescape=True),
                func.lower(ImportedBundle.case_number).contains(word, autoescape=True),
            )
        )
    if date_from is not None:
        query = query.where(_travel_date_from(date_from))
    if date_to is not None:
        query = query.where(_travel_date_to(date_to))
    rows = session.execute(
        query.order_by(
            func.coalesce(ImportedBundle.departs_at, ImportedBundle.imported_at).desc(),
            ImportedBundle.imported_at.desc(),
            ImportedTraveller.family_name,
        ).limit(limit)
    ).all()
    details = {"rows": len(rows), "filtered": bool(name or date_from or date_to)}
    audit.record(session, actor, "read", "arrivals", None, details=details)
    return [(b, t) for b, t in rows]


def traveller(
    session: Session, actor: Actor, traveller_id: uuid.UUID
) -> tuple[ImportedBundle, ImportedTraveller]:
    """One imported traveller with its bundle, for its own authority only (audited)."""
    actor.check("exports:import")
    found = session.get(ImportedTraveller, traveller_id)
    bundle = session.get(ImportedBundle, found.import_id) if found is not None else None
    if found is None or bundle is None or bundle.destination != actor.destination:
        raise NotFound("No such traveller among your arrivals.", code="exports.traveller_not_found")
    audit.record(session, actor, "read", "imported_traveller", found.id)
    return bundle, found


def arrival(
    session: Session, actor: Actor, import_id: uuid.UUID
) -> tuple[ImportedBundle, list[ImportedTraveller]]:
    """One imported bundle with its travellers, for its own authority only (audited)."""
    actor.check("exports:import")
    found = session.get(ImportedBundle, import_id)
    if found is None or found.destination != actor.destination:
        raise NotFound("No such arrival.", code="exports.arrival_not_found")
    travellers = list(
        session.scalars(
            select(ImportedTraveller)
            .where(ImportedTraveller.import_id == found.id)
            .order_by(ImportedTraveller.family_name)
        )
    )
    audit.record(session, actor, "read", "imported_bundle", found.id)
    return found, travellers


VIEWABLE = {"pdf/": ("application/pdf", "pdf"), "dicom/": ("application/dicom", "dcm")}


def arrival_file(
    session: Session, actor: Actor, import_id: uuid.UUID, index: int, storage: Path
) -> tuple[bytes, str, str]:
    """A PDF or DICOM file of an imported bundle, by its place in the manifest, checked against
    its hash again (audited): (content, media type, file extension)."""
    found, _ = arrival(session, actor, import_id)
    files = found.manifest.get("files", [])
    if not 0 <= index < len(files):
        raise NotFound("No such file in this arrival.", code="exports.file_not_found")
    entry = files[index]
    kind = next((v for k, v in VIEWABLE.items() if str(entry.get("path", "")).startswith(k)), None)
    if kind is None:
        raise NotFound("Only the PDFs and images are kept as files.", code="exports.file_not_found")
    path = storage / "imports" / str(entry.get("sha256", ""))
    if not path.is_file():
        raise NotFound("The file is missing from storage.", code="exports.file_missing")
    data = file_crypto.read(path)
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise Conflict("The stored file no longer matches its hash.", code="exports.file_altered")
    audit.record(session, actor, "read", "imported_file", found.id, details={"index": index})
    return data, kind[0], kind[1]
