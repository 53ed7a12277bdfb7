"""Export verbs on the sending side: ask for a case's bundle, follow its job, download it, and
keep its log (created, downloaded, delivered, acknowledged)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.core import audit, file_crypto
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import NotFound, ValidationFailed
from pmha.core.tasks import enqueue_after_commit
from pmha.exports import build, journey, keys
from pmha.exports.models import ExportBundle, ExportJob, ExportLogEntry, JobState, LogEvent

MANUAL_EVENTS = (LogEvent.DELIVERED, LogEvent.ACKNOWLEDGED)
JOURNEY = journey.PATH  # importing journey registers the journey part with the bundle


@dataclass
class CaseExports:
    jobs: list[ExportJob]
    bundles: list[tuple[ExportBundle, list[ExportLogEntry]]]


def request_export(session: Session, actor: Actor, case_id: uuid.UUID) -> ExportJob:
    """Queue the build of a case's bundle; the job runs after this transaction commits."""
    from pmha.exports.tasks import build_bundle

    actor.check("exports:create")
    case = cases.load_case(session, actor, case_id)
    today = utcnow().date()
    keys.recipient(session, case.destination.value, today)  # refused now, not in the job
    keys.signer(session, case.site_id, today)
    job = ExportJob(
        case_id=case.id, site_id=case.site_id, requested_by=actor.user_id, state=JobState.QUEUED
    )
    session.add(job)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "export_job",
        job.id,
        site_id=case.site_id,
        details={"case_id": str(case.id)},
    )
    enqueue_after_commit(session, build_bundle, str(job.id))
    return job


def case_exports(session: Session, actor: Actor, case_id: uuid.UUID) -> CaseExports:
    """The case's export jobs (newest first) and bundles with their logs."""
    actor.check("exports:create")
    case = cases.load_case(session, actor, case_id)
    jobs = list(
        session.scalars(
            select(ExportJob)
            .where(ExportJob.case_id == case.id)
            .order_by(ExportJob.requested_at.desc())
            .limit(10)
        )
    )
    bundles = list(
        session.scalars(
            select(ExportBundle)
            .where(ExportBundle.case_id == case.id)
            .order_by(ExportBundle.created_at.desc())
        )
    )
    logs = _logs(session, bundles)
    return CaseExports(jobs, [(b, logs[b.id]) for b in bundles])


def job(session: Session, actor: Actor, job_id: uuid.UUID) -> ExportJob:
    actor.check("exports:create")
    found = session.get(ExportJob, job_id)
    if found is None or found.site_id not in actor.site_ids:
        raise NotFound("No such export job.", code="exports.job_not_found")
    return found


def _bundle(session: Session, actor: Actor, bundle_id: uuid.UUID) -> ExportBundle:
    """A bundle of one of the caller's sites, or (for a receiving authority) one addressed to
    its destination; anything else is a 404, not a 403: its existence is not revealed."""
    if not (actor.can("exports:create") or actor.can("exports:import")):
        actor.check("exports:create")
    found = session.get(ExportBundle, bundle_id)
    if found is None or not _may_see(actor, found):
        raise NotFound("No such bundle.", code="exports.bundle_not_found")
    return found


def _may_see(actor: Actor, bundle: ExportBundle) -> bool:
    if actor.can("exports:create") and bundle.site_id in actor.site_ids:
        return True
    return bool(
        actor.can("exports:import")
        and actor.destination
        and bundle.destination == actor.destination
    )


def _logs(session: Session, bundles: list[ExportBundle]) -> dict[uuid.UUID, list[ExportLogEntry]]:
    logs: dict[uuid.UUID, list[ExportLogEntry]] = {b.id: [] for b in bundles}
    for entry in session.scalars(
        select(ExportLogEntry)
        .where(ExportLogEntry.bundle_id.in_(list(logs)))
        .order_by(ExportLogEntry.at)
    ):
        logs[entry.bundle_id].append(entry)
    return logs


def bundles_for_authority(
    session: Session, actor: Actor, limit: int = 100
) -> list[tuple[ExportBundle, list[ExportLogEntry]]]:
    """The bundles addressed to the caller's destination, newest first, with their logs: what a
    receiving authority's system fetches (audited; names no traveller)."""
    actor.check("exports:import")
    if not actor.destination:
        return []
    bundles = list(
        session.scalars(
            select(ExportBundle)
            .where(ExportBundle.destination == actor.destination)
            .order_by(ExportBundle.created_at.desc())
            .limit(limit)
        )
    )
    logs = _logs(session, bundles)
    audit.record(session, actor, "read", "export_bundles", None, details={"rows": len(bundles)})
    return [(b, logs[b.id]) for b in bundles]


def bundle_with_log(
    session: Session, actor: Actor, bundle_id: uuid.UUID
) -> tuple[ExportBundle, list[ExportLogEntry]]:
    """One bundle with its log, for its centre or the authority it is addressed to."""
    found = _bundle(session, actor, bundle_id)
    return found, _logs(session, [found])[found.id]


def download(session: Session, actor: Actor, bundle_id: uuid.UUID, storage: Path) -> bytes:
    """The sealed bundle's bytes; the download is logged and audited."""
    found = _bundle(session, actor, bundle_id)
    path = build.bundle_path(storage, found.id)
    if not path.exists():
        raise NotFound("The bundle's file is missing; build it again.", code="exports.file_missing")
    session.add(
        ExportLogEntry(
            bundle_id=found.id,
            event=LogEvent.DOWNLOADED,
            actor_id=actor.user_id,
            actor_name=actor.username,
        )
    )
    audit.record(session, actor, "download", "export_bundle", found.id, site_id=found.site_id)
    return file_crypto.read(path)


def log_event(session: Session, actor: Actor, bundle_id: uuid.UUID, event: str) -> ExportLogEntry:
    """Record that the bundle was delivered to, or acknowledged by, the authority. The authority
    itself may record its acknowledgement only (through the API)."""
    found = _bundle(session, actor, bundle_id)
    if event not in {e.value for e in MANUAL_EVENTS}:
        raise ValidationFailed(errors={"event": ["Choose delivered or acknowledged."]})
    if not actor.can("exports:create") and event != LogEvent.ACKNOWLEDGED.value:
        raise ValidationFailed(
            errors={"event": ["A receiving authority records its acknowledgement only."]}
        )
    entry = ExportLogEntry(
        bundle_id=found.id, event=LogEvent(event), actor_id=actor.user_id, actor_name=actor.username
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor, event, "export_bundle", found.id, site_id=found.site_id)
    return entry


def export_state(session: Session, actor: Actor, case_id: uuid.UUID) -> str:
    """The case's export in a few words, for its workflow page: the latest build, and the
    latest bundle's last log event."""
    actor.check("exports:create")
    latest = session.scalars(
        select(ExportJob)
        .where(ExportJob.case_id == case_id, ExportJob.site_id.in_(list(actor.site_ids)))
        .order_by(ExportJob.requested_at.desc())
        .limit(1)
    ).first()
    if latest is None:
        return "not exported yet"
    if latest.state in (JobState.QUEUED, JobState.RUNNING):
        return f"bundle being built ({latest.progress}%)"
    if latest.state == JobState.FAILED:
        return "the last build failed"
    event = session.scalars(
        select(ExportLogEntry)
        .where(ExportLogEntry.bundle_id == latest.bundle_id)
        .order_by(ExportLogEntry.at.desc())
        .limit(1)
    ).first()
    if event is None or event.event == LogEvent.CREATED:
        return "bundle ready"
    return f"bundle {event.event.value} {event.at:%Y-%m-%d}"
