"""Building a case's bundle: collect the parts, pack them with a manifest, sign and encrypt, and
write the envelope where downloads find it. Run by the Celery job, in short transactions.

Crash-safe and idempotent: the bundle id derives from the content (the same case content, sealed
for the same authority certificate, gives the same id); the envelope is written to a hidden
temporary file, fsynced, and renamed into place, so a crash leaves no partial bundle visible and a
re-run either finds the finished file or writes it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pmha.accounts.models import User
from pmha.cases import service as cases
from pmha.core import audit, file_crypto
from pmha.core.auth import Actor, Role
from pmha.core.db import Database, utcnow
from pmha.core.errors import AppError, NotFound
from pmha.exports import envelope, keys, updates
from pmha.exports.envelope import EnvelopeError
from pmha.exports.hl7 import Hl7Error
from pmha.exports.models import ExportBundle, ExportJob, ExportLogEntry, JobState, LogEvent
from pmha.exports.parts import CONTRIBUTORS, Export, Part
from pmha.rules import RuleBook

SCHEMA_VERSION = "1"
_NAMESPACE = uuid.UUID("0b5d1c3e-7a43-4b8f-a1c6-90e2d4f7b821")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def bundle_path(storage: Path, bundle_id: uuid.UUID) -> Path:
    return storage / "exports" / f"{bundle_id}.p7m"


def content_key(parts: Sequence[Part], manifest: dict[str, Any]) -> str:
    """SHA-256 over what the bundle says: the stable parts and the manifest's facts."""
    digest = hashlib.sha256()
    facts = {
        k: manifest[k]
        for k in ("schema_version", "case", "sending_site", "travellers", "rule_versions")
    }
    digest.update(json.dumps(facts, sort_keys=True).encode())
    for part in sorted(parts, key=lambda p: p.name):
        if part.stable:
            digest.update(f"\n{part.name}\n".encode())
            digest.update(hashlib.sha256(part.data).digest())
    return digest.hexdigest()


def bundle_id_for(key: str, recipient_fingerprint: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{key}|{recipient_fingerprint}")


def pack(parts: Sequence[Part], manifest: dict[str, Any]) -> bytes:
    """The zip: manifest.json first, then the parts in name order (DICOM stored, not deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        entries = [Part("manifest.json", "application/json", _manifest_bytes(manifest)), *parts]
        for part in sorted(entries, key=lambda p: (p.name != "manifest.json", p.name)):
            info = zipfile.ZipInfo(part.name, date_time=_ZIP_TIME)
            info.compress_type = (
                zipfile.ZIP_STORED
                if part.media_type == "application/dicom"
                else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, part.data)
    return out.getvalue()


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, indent=1).encode()


def manifest_for(ex: Export, parts: Sequence[Part], created_at: dt.datetime) -> dict[str, Any]:
    site = ex.case.site
    return {
        "schema_version": SCHEMA_VERSION,
        "bundle_id": None,  # filled once the content key is known
        "sending_site": {"code": site.code, "name": site.name, "country": site.country},
        "case": {
            "id": str(ex.case.id),
            "case_number": ex.case.case_number,
            "destination": ex.case.destination.value,
            "programme": ex.case.programme.value,
        },
        "travellers": ex.travellers,
        "rule_versions": sorted(ex.rule_versions),
        "files": [
            {
                "path": p.name,
                "sha256": hashlib.sha256(p.data).hexdigest(),
                "media_type": p.media_type,
                "size": len(p.data),
            }
            for p in sorted(parts, key=lambda p: p.name)
        ],
        "created_at": created_at.isoformat(timespec="seconds"),
    }


def _progress(db: Database, job_id: uuid.UUID, step: str, percent: int) -> None:
    with db.transaction() as s:
        job = s.get(ExportJob, job_id)
        if job is not None:
            job.step, job.progress = step, percent


def _job_actor(session: Session, job: ExportJob) -> Actor:
    # The export reads the whole record of one case at one site on behalf of the user who asked
    # (exports:create); every read is audited under that user's id.
    user = session.get(User, job.requested_by) if job.requested_by else None
    name = user.username if user is not None else "system"
    return Actor(
        user_id=job.requested_by,
        username=f"export job for {name}",
        roles=frozenset({Role.PANEL_PHYSICIAN}),
        site_ids=frozenset({job.site_id}),
        via="job",
    )


class Collected:
    def __init__(
        self,
        parts: list[Part],
        manifest: dict[str, Any],
        bundle_id: uuid.UUID,
        recipient: Any,
        signer: envelope.KeyPair,
        existing: bool,
        sends: Sequence[updates.Send] = (),
    ) -> None:
        self.parts, self.manifest, self.bundle_id = parts, manifest, bundle_id
        self.recipient, self.signer, self.existing = recipient, signer, existing
        self.sends = list(sends)


def _as_last_sent(
    session: Session, ex: Export, parts: list[Part], created: dt.datetime, fingerprint: str
) -> tuple[list[Part], dict[str, Any]] | None:
    """The parts with the VXUs as the last bundle that sent had them, when that gives a bundle
    that exists: nothing changed since, so the case finds that bundle again."""
    if ex.sends or ex.last_bundle is None:
        return None
    again = [p for p in parts if p.name not in ex.as_last_sent]
    again += [
        Part(name, "application/hl7-v2", data)
        for name, data in ex.as_last_sent.items()
        if data is not None
    ]
    manifest = manifest_for(ex, again, created)
    if session.get(ExportBundle, bundle_id_for(content_key(again, manifest), fingerprint)) is None:
        return None
    return again, manifest


def _collect(db: Database, job_id: uuid.UUID, rules: RuleBook, storage: Path) -> Collected:
    with db.transaction() as s:
        job = s.get(ExportJob, job_id)
        if job is None:
            raise NotFound("No such export job.", code="exports.job_not_found")
        actor = _job_actor(s, job)
        case = cases.get_case(s, actor, job.case_id)
        today = utcnow().date()
        recipient = keys.recipient(s, case.destination.value, today)
        _, signer = keys.signer(s, case.site_id, today)
        ex = Export(s, actor, rules, storage, case)
        parts: list[Part] = []
        for contributor in CONTRIBUTORS:
            parts.extend(contributor(ex))
        created = utcnow()
        manifest = manifest_for(ex, parts, created)
        found = _as_last_sent(s, ex, parts, created, recipient.fingerprint)
        if found is not None:
            parts, manifest = found
        key = content_key(parts, manifest)
        bundle_id = bundle_id_for(key, recipient.fingerprint)
        manifest["bundle_id"] = str(bundle_id)
        manifest["content_sha256"] = key
        existing = s.get(ExportBundle, bundle_id) is not None
        cert = envelope.load_certificate(recipient.cert_pem.encode())
        audit.record(
            s,
            actor,
            "export",
            "case",
            case.id,
            site_id=case.site_id,
            details={"bundle_id": str(bundle_id), "job_id": str(job_id)},
        )
        sends = () if found is not None else ex.sends
        return Collected(parts, manifest, bundle_id, cert, signer, existing, sends)


def _finish(db: Database, job_id: uuid.UUID, c: Collected, envelope_bytes: bytes) -> None:
    with db.transaction() as s:
        job = s.get(ExportJob, job_id)
        assert job is not None
        if s.get(ExportBundle, c.bundle_id) is None:
            s.add(
                ExportBundle(
                    id=c.bundle_id,
                    case_id=job.case_id,
                    site_id=job.site_id,
                    destination=c.manifest["case"]["destination"],
                    content_sha256=c.manifest["content_sha256"],
                    envelope_sha256=hashlib.sha256(envelope_bytes).hexdigest(),
                    size_bytes=len(envelope_bytes),
                    files=len(c.parts) + 1,
                    recipient_fingerprint=envelope.fingerprint(c.recipient),
                )
            )
            s.flush()
            updates.write(s, c.bundle_id, c.sends)
            s.add(
                ExportLogEntry(
                    bundle_id=c.bundle_id,
                    event=LogEvent.CREATED,
                    actor_id=job.requested_by,
                    actor_name="export job",
                )
            )
        job.bundle_id = c.bundle_id
        job.state, job.step, job.progress, job.error_code = JobState.DONE, "done", 100, None


def run(db: Database, job_id: uuid.UUID, rules: RuleBook, storage: Path) -> uuid.UUID | None:
    """Build the job's bundle (or find it built); the bundle id, or None when it failed."""
    with db.transaction() as s:
        job = s.get(ExportJob, job_id)
        if job is None:
            raise NotFound("No such export job.", code="exports.job_not_found")
        if job.state == JobState.DONE:
            return job.bundle_id
        job.state, job.step, job.progress = JobState.RUNNING, "collecting", 5
        job.attempts += 1
    try:
        c = _collect(db, job_id, rules, storage)
        path = bundle_path(storage, c.bundle_id)
        if c.existing or path.exists():
            data = file_crypto.read(path)
        else:
            _progress(db, job_id, "packing", 40)
            archive = pack(c.parts, c.manifest)
            _progress(db, job_id, "signing and encrypting", 60)
            data = envelope.seal(archive, c.signer, c.recipient)
            _progress(db, job_id, "writing", 85)
            file_crypto.write(path, data)
        try:
            _finish(db, job_id, c, data)
        except IntegrityError:  # another run of the same content finished first
            _finish(db, job_id, c, data)
        return c.bundle_id
    except (AppError, EnvelopeError, Hl7Error) as exc:
        code = getattr(exc, "code", None) or "exports.invalid_content"
        with db.transaction() as s:
            job = s.get(ExportJob, job_id)
            if job is not None:
                job.state, job.step, job.error_code = JobState.FAILED, "failed", code[:60]
        return None
