"""HL7 updates of vaccination records already sent: RXA-21 (HL70323 [S37d]) A once, U after a
change, D once marked deleted, each under the same ORC-3 filler order number as the original
(CDC IG release 1.5 [S37a], BRIEF 8.2); an unchanged record is not sent again, and a record
deleted before it was sent is not sent at all. Synthetic patients only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

from sqlalchemy import select

from pmha.core import file_crypto
from pmha.exports import build, envelope, receive
from pmha.exports.hl7 import parse_vxu, validate_strict
from pmha.exports.hl7.checks import check_message
from pmha.exports.immunization import Action, Facility, ImmunizationRecord, RecordKind
from pmha.exports.models import ExportBundle, SentImmunization
from pmha.exports.updates import Sent, fingerprint, outgoing
from pmha.vaccines import records as vaccinations
from pmha.vaccines.commands import NewVaccination
from pmha.vaccines.models import RecordKind as StoredKind
from pmha.vaccines.models import VaccinationRecord
from tests.exports import keyring
from tests.exports.conftest import build_now

RECORD = ImmunizationRecord(RecordKind.HISTORICAL, "IMM-1", dt.date(2015, 6, 1), "20")
BUNDLE = uuid.uuid4()


def _sent(record: ImmunizationRecord, action: Action = Action.ADD) -> dict[str, Sent]:
    return {record.immunization_id: Sent(action, fingerprint(record), BUNDLE)}


# --- which action a record goes out with (pure) --------------------------------------------------


def test_a_record_never_sent_goes_out_as_add() -> None:
    assert [r.action for r in outgoing([RECORD], {})] == [Action.ADD]


def test_a_sent_record_unchanged_is_not_sent_again() -> None:
    assert outgoing([RECORD], _sent(RECORD)) == []


def test_a_sent_record_changed_goes_out_as_update_with_its_filler_order_number() -> None:
    """BRIEF 8.2: RXA-21 U (update) [S37d]; ORC-3 is the record's unique id [S37b]."""
    changed = dataclasses.replace(RECORD, information_source="04")
    found = outgoing([changed], _sent(RECORD))
    assert [(r.action, r.immunization_id) for r in found] == [(Action.UPDATE, "IMM-1")]


def test_a_sent_record_marked_deleted_goes_out_as_delete_once() -> None:
    """BRIEF 8.2: RXA-21 D (delete) [S37d]: never silently dropped."""
    deleted = dataclasses.replace(RECORD, action=Action.DELETE)
    assert [r.action for r in outgoing([deleted], _sent(RECORD))] == [Action.DELETE]
    assert outgoing([deleted], _sent(RECORD, Action.DELETE)) == []


def test_a_record_deleted_before_it_was_sent_is_not_sent() -> None:
    assert outgoing([dataclasses.replace(RECORD, action=Action.DELETE)], {}) == []


def test_the_fingerprint_ignores_the_action() -> None:
    assert fingerprint(RECORD) == fingerprint(dataclasses.replace(RECORD, action=Action.UPDATE))
    assert fingerprint(RECORD) != fingerprint(dataclasses.replace(RECORD, cvx="106"))


# --- a case exported, changed, deleted, exported again --------------------------------------------


def _vxus(storage, bundle_id) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = file_crypto.read(build.bundle_path(storage, bundle_id))
    signed = envelope.decrypt(data, [keyring.pair("US authority")])
    content = envelope.verify(signed, [keyring.pair("PMHA IST test centre").certificate]).content
    files = receive.unpack(content)
    receive.check_contents(files)  # what the receiving side checks, the VXUs parsed
    manifest = json.loads(files["manifest.json"])
    assert manifest["bundle_id"] == str(bundle_id)
    return {n: d.decode() for n, d in files.items() if n.startswith("hl7/")}


def _checked(text: str) -> list[ImmunizationRecord]:
    """Parses with our parser, passes the CDC profile's checks and hl7apy's strict parse."""
    patient, records = parse_vxu(text)
    msh = text.split("\r", 1)[0].split("|")
    assert check_message(patient, records, _facility(msh, 2), _facility(msh, 4), msh[9],
                         dt.datetime(2026, 1, 1)) == []  # fmt: skip
    validate_strict(text)
    return records


def _facility(msh: list[str], at: int) -> Facility:
    """MSH-3/4 (sender) or MSH-5/6 (receiver): application, then facility."""
    return Facility(msh[at + 1], "", msh[at])


def _orc3(text: str) -> list[str]:
    return [s.split("|")[3].split("^")[0] for s in text.split("\r") if s.startswith("ORC|")]


def _msh10(text: str) -> str:
    return text.split("\r", 1)[0].split("|")[9]


def test_a_record_goes_out_as_a_then_u_then_d_under_one_filler_order_number(
    session, world, export_case
) -> None:
    """BRIEF 8.2 [S37a, S37d]: A when first sent; U after a change, same ORC-3; D once marked
    deleted, same ORC-3; a new export of the unchanged case finds the last bundle again."""
    principal = export_case.case.principal
    name = f"hl7/{principal.id}.hl7"
    record = session.scalars(
        select(VaccinationRecord).where(VaccinationRecord.applicant_id == principal.id)
    ).one()

    first = build_now(export_case, session, world)
    sent = _vxus(export_case.storage, first.bundle_id)[name]
    [added] = _checked(sent)
    assert (added.action, _orc3(sent)) == (Action.ADD, [str(record.id)])

    record.information_source = "04"  # a correction of where the history came from
    record.version += 1
    session.commit()
    second = build_now(export_case, session, world)
    assert second.bundle_id != first.bundle_id
    vxus = _vxus(export_case.storage, second.bundle_id)
    updated = vxus[name]
    [changed] = _checked(updated)
    assert (changed.action, changed.information_source) == (Action.UPDATE, "04")
    assert _orc3(updated) == [str(record.id)]
    assert _msh10(updated) != _msh10(sent)  # a new message
    assert list(vxus) == [name]  # the other traveller has no records: no VXU

    nurse = world.actor("nurse")
    vaccinations.correct(session, nurse, record.id, "entered for the wrong child", record.version)
    session.commit()
    third = build_now(export_case, session, world)
    deleted = _vxus(export_case.storage, third.bundle_id)[name]
    [gone] = _checked(deleted)
    assert (gone.action, _orc3(deleted)) == (Action.DELETE, [str(record.id)])

    again = build_now(export_case, session, world)  # nothing changed since: the same bundle
    assert again.bundle_id == third.bundle_id
    rows = session.scalars(
        select(SentImmunization).order_by(SentImmunization.sent_at, SentImmunization.id)
    ).all()
    assert [(r.action, r.filler_order_number) for r in rows] == [
        ("A", str(record.id)), ("U", str(record.id)), ("D", str(record.id)),
    ]  # fmt: skip
    assert [r.bundle_id for r in rows] == [first.bundle_id, second.bundle_id, third.bundle_id]
    a, u, d = (r.content_sha256 for r in rows)
    assert a != u and u == d  # the D sends the record as it last was
    assert session.scalar(select(ExportBundle.id).where(ExportBundle.id == again.bundle_id))


def test_an_unchanged_sent_record_is_not_sent_again_beside_a_new_one(
    session, world, export_case
) -> None:
    """A new record after a bundle: the next VXU carries it alone, as A; the historical record
    sent before is not re-sent as A."""
    principal = export_case.case.principal
    name = f"hl7/{principal.id}.hl7"
    first = build_now(export_case, session, world)
    [old] = _checked(_vxus(export_case.storage, first.bundle_id)[name])
    new = vaccinations.record_vaccination(
        session,
        world.actor("nurse"),
        principal.id,
        NewVaccination(
            kind=StoredKind.HISTORICAL, cvx="20", date=dt.date(2001, 1, 1), information_source="03"
        ),
    )
    session.commit()
    second = build_now(export_case, session, world)
    text = _vxus(export_case.storage, second.bundle_id)[name]
    found = _checked(text)
    assert [(r.action, r.immunization_id) for r in found] == [(Action.ADD, str(new.id))]
    assert old.immunization_id not in _orc3(text)


def test_a_deleted_record_is_entered_in_error_in_the_fhir_summary() -> None:
    """The FHIR document lists every record; one marked deleted (HL7 D) is entered-in-error
    (FHIR R4 Immunization.status), never read as a dose given."""
    from pmha.exports import fhir

    subject = fhir.patient(
        fhir.Traveller("p1", "Testperson", "Ada", dt.date(2010, 1, 2), "female", "AF")
    )
    deleted = dataclasses.replace(RECORD, action=Action.DELETE)
    assert fhir.immunization(deleted, subject)["status"] == "entered-in-error"
    assert fhir.immunization(RECORD, subject)["status"] == "completed"
