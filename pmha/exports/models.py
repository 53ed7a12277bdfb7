"""Export bundles and their keys: certificates, build jobs, bundles, their log, and imports."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmha.core.db import Base, UUIDPk, str_enum, utcnow


class Purpose(enum.StrEnum):
    SIGNING = "signing"  # the centre's own key and certificate (a site's)
    ENCRYPTION = "encryption"  # a receiving authority's certificate, at the sending centre
    DECRYPTION = "decryption"  # the authority's own key and certificate, at the receiving side
    TRUSTED_SENDER = "trusted_sender"  # a sending centre's certificate the authority trusts


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class LogEvent(enum.StrEnum):
    CREATED = "created"
    DOWNLOADED = "downloaded"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"


class ExportCertificate(UUIDPk, Base):
    """An X.509 certificate (and for our own keys the private key, encrypted at rest)."""

    __tablename__ = "export_certificates"

    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose, 16))
    destination: Mapped[str | None] = mapped_column(String(2), index=True)
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sites.id"))
    label: Mapped[str] = mapped_column(String(120))
    # A trusted sender's certificate: the centre (site code) it signs for (issue 19)
    sender_code: Mapped[str | None] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    cert_pem: Mapped[str] = mapped_column(Text)
    key_pem: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    use_from: Mapped[date]  # rotation: the newest certificate in use from its start date
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("purpose", "destination", "fingerprint"),)


class ExportJob(UUIDPk, Base):
    """One request to build a case's bundle, with the progress the page polls."""

    __tablename__ = "export_jobs"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_cases.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    requested_by: Mapped[uuid.UUID | None]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[JobState] = mapped_column(str_enum(JobState, 12))
    step: Mapped[str] = mapped_column(String(40), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    bundle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("export_bundles.id"))
    error_code: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Touched every few seconds while a worker runs the job (pmha.core.outbox): a stale one
    # means the worker died, and the sweep queues the job again.
    heartbeat_at: Mapped[datetime | None]


class ExportBundle(Base):
    """A built bundle. Its id derives from its content: the same content, the same bundle."""

    __tablename__ = "export_bundles"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_cases.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    destination: Mapped[str] = mapped_column(String(2))
    content_sha256: Mapped[str] = mapped_column(String(64))
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    files: Mapped[int] = mapped_column(Integer)
    recipient_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportLogEntry(UUIDPk, Base):
    __tablename__ = "export_log"

    bundle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("export_bundles.id"), index=True)
    event: Mapped[LogEvent] = mapped_column(str_enum(LogEvent, 16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str] = mapped_column(String(120))


class ImportedBundle(Base):
    """A bundle loaded on the receiving side (id: the bundle's own; a second import is refused)."""

    __tablename__ = "imported_bundles"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    destination: Mapped[str] = mapped_column(String(2), index=True)
    sending_site: Mapped[str] = mapped_column(String(120))
    signer_fingerprint: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    case_number: Mapped[str] = mapped_column(String(24))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[uuid.UUID | None]
    # The journey, when the bundle carries one (travel/journey.json): flight and departure time.
    flight: Mapped[str | None] = mapped_column(String(16))
    departs_at: Mapped[datetime | None] = mapped_column(index=True)


class ImportedTraveller(UUIDPk, Base):
    """One traveller of an imported bundle: the summary the arrival list shows, and the FHIR."""

    __tablename__ = "imported_travellers"

    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("imported_bundles.id"), index=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date]
    clearance: Mapped[str] = mapped_column(String(32))
    classifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    follow_up: Mapped[list[str]] = mapped_column(JSON, default=list)
    fhir: Mapped[dict[str, Any]] = mapped_column(JSON)


class SentImmunization(UUIDPk, Base):
    """A vaccination record as a bundle's VXU carried it (RXA-21 A, U or D) and a hash of what
    was sent: a later change goes out as U, a deletion as D, both under the same ORC-3 (CDC IG
    release 1.5 [S37a], BRIEF 8); an unchanged record is not sent again."""

    __tablename__ = "hl7_sent_records"

    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vaccination_records.id"), index=True)
    bundle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("export_bundles.id"), index=True)
    message_control_id: Mapped[str] = mapped_column(String(20))  # MSH-10 of the message
    filler_order_number: Mapped[str] = mapped_column(String(64))  # ORC-3.1 as sent
    action: Mapped[str] = mapped_column(String(1))  # RXA-21
    content_sha256: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("record_id", "bundle_id"),)
