"""Issue 19, "Audit you can prove": forgeries that verified as intact before, on both engines.

- The first, unkeyed scheme (plain SHA-256, computable by anyone who reads the source) is
  accepted only as one contiguous prefix sealed by a keyed event after it: an unkeyed event
  appended after keyed ones, or a whole chain rewritten in the unkeyed scheme, is refused.
- Signed checkpoints of the head kept outside the database (a file in storage, signed with the
  audit key): a cut tail with the head row moved back, a wiped table, a rewritten event at a
  checkpoint's position, and an edited checkpoint file are found, naming the first bad event and
  the checkpoint it contradicts.
- Reordering two events breaks their links.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.audit import GENESIS, AuditEvent
from pmha.core.audit_checkpoints import CheckpointLog
from tests.audit.test_audit_chain import EVENTS, HEAD, _event, _last, _row


def _legacy(values: dict[str, Any]) -> str:
    """Scheme 1, as an attacker computes it from the source: no key needed."""
    payload = {name: values[name] for name in (*audit.PAYLOAD_FIELDS, "seq", "prev_hash")}
    payload["at"] = payload["at"].isoformat()
    for name in ("actor_id", "site_id"):
        payload[name] = str(payload[name]) if payload[name] else None
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture()
def log(session: Session, tmp_path: Path) -> CheckpointLog:
    return CheckpointLog(tmp_path / "audit" / "checkpoints.jsonl", audit.session_key(session))


def verify(session: Session, log: CheckpointLog | None = None) -> audit.VerifyResult:
    session.expire_all()
    return audit.verify(session, checkpoints=log)


def test_an_unkeyed_event_appended_after_keyed_ones_is_refused(
    tamper: Connection, session: Session
) -> None:
    """The forge-append of the issue: INSERT one scheme-1 event and move the head row."""
    last = _last(session)
    prev = _row(session, last)["hash"]
    row = _row(session, last) | {"seq": last + 1, "prev_hash": prev, "scheme": 1,
                                 "actor_name": "mallory", "action": "read"}  # fmt: skip
    row["hash"] = _legacy(row)
    tamper.execute(insert(EVENTS).values(**row))
    tamper.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=last + 1, hash=row["hash"]))
    result = verify(session)
    assert (result.ok, result.broken_seq) == (False, last + 1)
    assert result.reason == "an unkeyed event after keyed ones (forged)"


def test_a_chain_rewritten_wholly_in_the_unkeyed_scheme_is_refused(
    tamper: Connection, session: Session
) -> None:
    """6,120 events rewritten in the old scheme verified before: every link recomputed."""
    last, prev = _last(session), GENESIS
    for n in range(1, last + 1):
        row = _row(session, n) | {"prev_hash": prev, "scheme": 1}
        if n == 2:
            row["actor_name"] = "mallory"
        row["hash"] = prev = _legacy(row)
        tamper.execute(update(EVENTS).where(EVENTS.c.seq == n).values(**row))
    tamper.execute(update(HEAD).where(HEAD.c.id == 1).values(hash=prev))
    result = verify(session)
    assert (result.ok, result.broken_seq) == (False, 1)
    assert result.reason is not None and result.reason.startswith("no keyed event seals")


def test_an_unkeyed_prefix_sealed_by_a_keyed_event_is_accepted(
    tamper: Connection, session: Session
) -> None:
    """Events written before the chain was keyed stay valid: the keyed link of the first keyed
    event covers the last unkeyed hash, so the prefix cannot be changed without the key."""
    first = _row(session, 1) | {"scheme": 1}
    first["hash"] = _legacy(first)
    second = _row(session, 2)
    key = audit.session_key(session)
    digest = audit.content_digest(second)
    second_hash = audit.link_hash(key, 2, first["hash"], digest)
    tamper.execute(update(EVENTS).where(EVENTS.c.seq == 1).values(scheme=1, hash=first["hash"]))
    tamper.execute(
        update(EVENTS)
        .where(EVENTS.c.seq == 2)
        .values(prev_hash=first["hash"], hash=second_hash, scheme=2)
    )
    # Relink the rest with the key (what the keyed chain looked like from the start, before
    # events carried their own HMAC: scheme 2).
    prev = second_hash
    for n in range(3, _last(session) + 1):
        row = _row(session, n)
        row_hash = audit.link_hash(key, n, prev, audit.content_digest(row))
        tamper.execute(
            update(EVENTS).where(EVENTS.c.seq == n).values(prev_hash=prev, hash=row_hash, scheme=2)
        )
        prev = row_hash
    tamper.execute(update(HEAD).where(HEAD.c.id == 1).values(hash=prev))
    assert verify(session).ok


def test_two_events_swapped_are_found(tamper: Connection, session: Session) -> None:
    a, b = _row(session, 3), _row(session, 4)
    tamper.execute(delete(EVENTS).where(EVENTS.c.seq.in_([3, 4])))
    tamper.execute(insert(EVENTS).values(**(b | {"seq": 3})))
    tamper.execute(insert(EVENTS).values(**(a | {"seq": 4})))
    result = verify(session)
    assert (result.ok, result.broken_seq) == (False, 3)


# --- checkpoints ----------------------------------------------------------------------------


def test_a_cut_tail_with_the_head_moved_back_contradicts_the_checkpoint(
    tamper: Connection, session: Session, log: CheckpointLog
) -> None:
    mark = audit.checkpoint(session, log)
    last = _last(session)
    assert mark.seq == last and verify(session, log).ok
    keep = last - 5
    tamper.execute(delete(EVENTS).where(EVENTS.c.seq > keep))
    tamper.execute(
        update(HEAD).where(HEAD.c.id == 1).values(seq=keep, hash=_row(session, keep)["hash"])
    )
    assert verify(session).ok  # without the checkpoint the cut is invisible
    result = verify(session, log)
    assert (result.ok, result.broken_seq, result.events) == (False, keep + 1, keep)
    assert result.reason is not None
    assert f"recorded {last} events, the chain ends at {keep}" in result.reason
    assert "(line 1)" in result.reason


def test_a_wiped_table_contradicts_the_checkpoint(
    tamper: Connection, session: Session, log: CheckpointLog
) -> None:
    audit.checkpoint(session, log)
    tamper.execute(delete(EVENTS))
    tamper.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=0, hash=GENESIS))
    result = verify(session, log)
    assert (result.ok, result.broken_seq, result.events) == (False, 1, 0)


def test_a_chain_rewritten_with_the_key_still_contradicts_an_older_checkpoint(
    tamper: Connection, session: Session, log: CheckpointLog
) -> None:
    """Even an insider with the key who rewrites from event 2 onwards cannot change what the
    checkpoint file already holds: the event at the checkpoint's position differs."""
    audit.checkpoint(session, log)
    key, prev = audit.session_key(session), _row(session, 1)["hash"]
    for n in range(2, _last(session) + 1):
        row = _row(session, n) | ({"actor_name": "mallory"} if n == 2 else {})
        event_id = _event(session, n).event_id
        assert event_id is not None
        mac = audit.event_mac(key, event_id, audit.content_digest(row))
        row_hash = audit.seal_hash(key, n, prev, mac)
        tamper.execute(
            update(EVENTS)
            .where(EVENTS.c.seq == n)
            .values(actor_name=row["actor_name"], prev_hash=prev, hash=row_hash, event_hmac=mac)
        )
        prev = row_hash
    tamper.execute(update(HEAD).where(HEAD.c.id == 1).values(hash=prev))
    result = verify(session, log)
    assert (result.ok, result.broken_seq) == (False, _last(session))
    assert result.reason is not None and "differs from the checkpoint" in result.reason


def test_an_edited_checkpoint_file_is_a_finding(session: Session, log: CheckpointLog) -> None:
    audit.checkpoint(session, log)
    audit.checkpoint(session, log)
    lines = log.path.read_text().splitlines()
    forged = json.loads(lines[1]) | {"seq": 1}
    log.path.write_text(lines[0] + "\n" + json.dumps(forged) + "\n")
    result = verify(session, log)
    assert not result.ok
    assert result.reason == "line 2 of the checkpoint file is not signed with the audit key"
    log.path.write_text(lines[0] + "\nnot json\n")
    assert verify(session, log).reason == "line 2 of the checkpoint file cannot be read"


def test_events_after_the_newest_checkpoint_are_reported_as_unsealed(
    session: Session, log: CheckpointLog, family: Any
) -> None:
    audit.checkpoint(session, log)
    sealed = _last(session)
    audit.record(session, family.world.actor("nurse"), "read", "case", uuid.uuid4())
    session.commit()
    result = verify(session, log)
    assert result.ok and result.checkpoints == 1
    assert result.unsealed == _last(session) - sealed == 1


def test_checkpoint_lines_carry_no_event_content(
    session: Session, log: CheckpointLog, family: Any
) -> None:
    audit.checkpoint(session, log)
    item = json.loads(log.path.read_text())
    assert set(item) == {"seq", "hash", "at", "mac"}
    assert datetime.fromisoformat(item["at"])
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.seq == item["seq"]))
