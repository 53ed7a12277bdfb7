"""Which vaccination records a VXU carries, and with which action (RXA-21, HL70323 [S37d]).

A record goes out once as A (add); changed after it was sent, it goes out again as U (update);
marked deleted (entered in error) after it was sent, as D (delete). U and D carry the same ORC-3
filler order number as the original (the record's id), which is how a registry finds the
record to update or delete (CDC IG release 1.5 [S37a], BRIEF 8.2: "ORC-3 filler order number,
unique immunization ID"). An unchanged record that was sent is not sent again, and a record
deleted before it was ever sent is not sent at all: there is nothing to delete.

What was sent is kept per record and bundle (`SentImmunization`, migration 0026), with a hash of
the record as sent; rows are written when the bundle is created, in the same transaction, so a
build that crashes before that sends nothing and its re-run builds the same message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.exports.immunization import Action, ImmunizationRecord
from pmha.exports.models import SentImmunization


@dataclass(frozen=True)
class Sent:
    """The last time a record went out: its action and the hash of what was sent."""

    action: Action
    content_sha256: str
    bundle_id: uuid.UUID


@dataclass(frozen=True)
class Send:
    """One record a new bundle's VXU carries (written down once the bundle exists)."""

    record_id: uuid.UUID
    filler_order_number: str
    action: Action
    content_sha256: str
    message_control_id: str


def fingerprint(record: ImmunizationRecord) -> str:
    """SHA-256 of what the record says, whatever its action (A, U and D send the same record)."""
    data = dataclasses.asdict(dataclasses.replace(record, action=Action.ADD))
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def history(session: Session, record_ids: Iterable[uuid.UUID]) -> list[SentImmunization]:
    """Every time these records went out, oldest first."""
    ids = list(record_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(SentImmunization)
            .where(SentImmunization.record_id.in_(ids))
            .order_by(SentImmunization.sent_at, SentImmunization.id)
        )
    )


def latest(rows: Sequence[SentImmunization], without: uuid.UUID | None = None) -> dict[str, Sent]:
    """The last send of each record (by ORC-3), leaving out the bundle `without`."""
    found: dict[str, Sent] = {}
    for row in rows:
        if row.bundle_id != without:
            found[row.filler_order_number] = Sent(
                Action(row.action), row.content_sha256, row.bundle_id
            )
    return found


def last_bundle(rows: Sequence[SentImmunization]) -> uuid.UUID | None:
    """The bundle that sent last (rows oldest first)."""
    return rows[-1].bundle_id if rows else None


def outgoing(
    records: Sequence[ImmunizationRecord], sent: Mapping[str, Sent]
) -> list[ImmunizationRecord]:
    """What a new VXU carries: new records as A, changed ones as U, deleted ones that were sent
    as D; `records` marks a deleted record with Action.DELETE."""
    out = []
    for record in records:
        before = sent.get(record.immunization_id)
        deleted = record.action is Action.DELETE
        if before is None or before.action is Action.DELETE:
            if not deleted:  # never sent (or deleted at the registry): add it
                out.append(dataclasses.replace(record, action=Action.ADD))
        elif deleted:
            out.append(dataclasses.replace(record, action=Action.DELETE))
        elif before.content_sha256 != fingerprint(record):
            out.append(dataclasses.replace(record, action=Action.UPDATE))
    return out


def control_id(patient_key: str, records: Sequence[ImmunizationRecord]) -> str:
    """MSH-10: unique per message and the same for the same message (a re-run of a build)."""
    digest = hashlib.sha256(patient_key.encode())
    for record in records:
        digest.update(f"|{record.immunization_id}|{record.action.value}|".encode())
        digest.update(fingerprint(record).encode())
    return digest.hexdigest()[:20]


def sends(
    records: Sequence[ImmunizationRecord], ids: Mapping[str, uuid.UUID], message_control_id: str
) -> list[Send]:
    """The rows to write for a message once its bundle exists."""
    return [
        Send(ids[r.immunization_id], r.immunization_id, r.action, fingerprint(r),
             message_control_id)
        for r in records
    ]  # fmt: skip


def write(session: Session, bundle_id: uuid.UUID, found: Iterable[Send]) -> int:
    """Record that bundle `bundle_id` sent these records; returns how many rows."""
    count = 0
    for send in found:
        session.add(
            SentImmunization(
                record_id=send.record_id,
                bundle_id=bundle_id,
                message_control_id=send.message_control_id,
                filler_order_number=send.filler_order_number,
                action=send.action.value,
                content_sha256=send.content_sha256,
            )
        )
        count += 1
    return count
