"""Demo keys for export bundles: a signing key per demo site and, per destination, a synthetic
receiving authority (its certificate at the centre; its key and its trust in the centres on the
receiving side, since the demo runs both sides in one database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases.models import Destination, Site
from pmha.core import file_crypto
from pmha.core.auth import Actor
from pmha.core.db import Database, utcnow
from pmha.exports import build, envelope, keys
from pmha.exports.models import Purpose


def seed(session: Session, actor: Actor, sites: Sequence[Site], bits: int = 2048) -> None:
    """Register demo certificates, valid from yesterday for two years."""
    start = utcnow() - dt.timedelta(days=1)
    end = start + dt.timedelta(days=730)
    centres = []
    for site in sites:
        pair = envelope.make_key_pair(f"PMHA {site.code} demo centre", start, end, bits=bits)
        keys.add_certificate(
            session,
            actor,
            Purpose.SIGNING,
            envelope.cert_pem(pair.certificate),
            key_pem=envelope.key_pem(pair.private_key),
            site_id=site.id,
        )
        centres.append((site.code, envelope.cert_pem(pair.certificate)))
    for destination in Destination:
        pair = envelope.make_key_pair(
            f"{destination.value} demo health authority", start, end, bits=bits
        )
        cert = envelope.cert_pem(pair.certificate)
        keys.add_certificate(session, actor, Purpose.ENCRYPTION, cert, destination=destination)
        keys.add_certificate(
            session,
            actor,
            Purpose.DECRYPTION,
            cert,
            destination=destination,
            key_pem=envelope.key_pem(pair.private_key),
        )
        for code, centre in centres:
            keys.add_certificate(
                session,
                actor,
                Purpose.TRUSTED_SENDER,
                centre,
                destination=destination,
                sender_code=code,
            )


def seed_arrival(db: Database, storage: Path) -> str | None:
    """Export a cleared US family of the demo and import its bundle as the US authority, so
    that the authority's Arrivals page has an arrival to open (the demo runs both sides in one
    database). Returns the bundle id, or None when no US family is cleared."""
    from pmha.accounts import service as accounts
    from pmha.accounts.models import User
    from pmha.cases.models import FamilyCase
    from pmha.exports import receive, service
    from pmha.exports.models import ExportJob
    from pmha.workflow import clearance as cl
    from pmha.workflow import service as workflow

    rules = current_app.extensions["pmha.rules"]

    def _actor(session: Session, username: str) -> Actor:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise LookupError(f"no demo user {username!r}")
        return accounts.actor_for(user, ip=None, request_id=None, via="cli")

    with db.transaction() as session:
        ops = _actor(session, "operations")
        found = session.scalars(
            select(FamilyCase.id)
            .where(FamilyCase.destination == "US", FamilyCase.site_id.in_(ops.site_ids))
            .order_by(FamilyCase.case_number)
        )
        # a family cleared with conditions shows the authority a classification and its
        # follow-up; a plainly cleared one will do
        status = {
            case_id: workflow.case_clearance(session, ops, rules, case_id).decision.status
            for case_id in found
        }
        ready = next((c for c, s in status.items() if s == cl.WITH_CONDITIONS), None)
        ready = ready or next((c for c, s in status.items() if s == cl.CLEARED), None)
        if ready is None:
            return None
        job_id = service.request_export(session, ops, ready).id
    # the job ran in-process after that commit (the embedded default); read what it made
    with db.transaction() as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.bundle_id is None:
            return None
        bundle = file_crypto.read(build.bundle_path(storage, job.bundle_id))
        receive.import_bundle(session, _actor(session, "authority"), bundle, storage)
        return str(job.bundle_id)
