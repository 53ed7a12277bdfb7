"""Post-arrival handover and presumptive treatment.

Sources: BRIEF 3 [S28e, S28h] (Canada: medical surveillance, report within 30 days of entry),
1.3 [S2, S3] (US Class B1: evaluation by the local health department after arrival), 1.6
[S16] (presumptive treatment: none for refugees processed in Turkiye).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pmha.core.errors import NotFound, ValidationFailed
from pmha.travel import certificates, handover
from pmha.travel.commands import FollowUpDone, NewTreatment, SetEscort
from pmha.travel.models import Treatment
from tests.travel.helpers import booked, clear, departure, family
from tests.travel.test_departures import count, pec

pytestmark = pytest.mark.usefixtures("in_app")


def test_canada_surveillance_is_due_30_days_after_arrival(session, world, rules):
    dep = departure(session, world, destination="CA", carrier="TK", days=2)
    case = booked(
        session, world, dep, family(session, world, destination="CA", programme="immigrant")
    )
    a = case.applicants[0]
    clear(session, world, rules, a.id, facts={"tb_history": True})
    items = handover.follow_up(session, world.actor("operations"), a.id)
    surveillance = [i for i in items if i["rule"] == "ca.arrival.surveillance"]
    assert surveillance, items
    assert surveillance[0]["within_days"] == 30
    assert surveillance[0]["due_by"] == (dep.departs_at.date() + timedelta(days=30)).isoformat()


@pytest.mark.parametrize(
    ("destination", "programme", "rule", "what", "days"),
    [
        # BRIEF 1.3 [S2, S3]: a US Class B1 traveller is evaluated by the local health
        # department after arrival (no fixed number of days in the rule)
        ("US", "refugee", "us.arrival.tb_b1", "TB evaluation", None),
        # BRIEF 3 [S28e, S28h]: Canadian medical surveillance, report within 30 days
        ("CA", "immigrant", "ca.arrival.surveillance", "medical surveillance", 30),
        # BRIEF 4 [S29f2, S29j]: Australian health undertaking, contact within 28 days
        ("AU", "humanitarian", "au.arrival.undertaking", "health undertaking", 28),
    ],
)
def test_each_destination_asks_its_own_follow_up_after_arrival(
    session, world, rules, destination, programme, rule, what, days
):
    dep = departure(session, world, destination=destination, days=2)
    case = booked(
        session, world, dep, family(session, world, destination=destination, programme=programme)
    )
    a = case.applicants[0]
    clear(session, world, rules, a.id, facts={"tb_history": True})
    items = handover.follow_up(session, world.actor("operations"), a.id)
    found = [i for i in items if i["kind"] == "follow_up"]
    assert [i["rule"] for i in found] == [rule], items
    assert what in found[0]["what"] and found[0]["within_days"] == days
    due = (dep.departs_at.date() + timedelta(days=days)).isoformat() if days else None
    assert found[0]["due_by"] == due


def test_no_follow_up_when_no_outcome_asks_for_one(session, world, rules):
    dep = departure(session, world, days=2)
    case = booked(session, world, dep, family(session, world))
    a = case.applicants[0]
    clear(session, world, rules, a.id)  # no TB history: Class B0 or no class, nothing after arrival
    items = handover.follow_up(session, world.actor("operations"), a.id)
    assert not [i for i in items if i["kind"] == "follow_up"], items


def test_the_handover_travels_in_the_export_bundle(session, world, rules, app):
    """The exports contributor (pmha/exports/parts.py) writes travel's handover per traveller and
    adds its follow-ups to the arrival list."""
    import json

    from pmha.exports import parts

    dep = departure(session, world, destination="CA", days=2)
    case = booked(
        session, world, dep, family(session, world, destination="CA", programme="immigrant")
    )
    a = case.applicants[0]
    clear(session, world, rules, a.id, facts={"tb_history": True})
    ex = parts.Export(session, world.actor("panel_physician"), rules, app.instance_path, case)
    ex.travellers.append({"id": str(a.id), "follow_up": []})
    written = {p.name: p for p in parts.handover_and_tb(ex)}
    items = json.loads(written[f"handover/{a.id}.json"].data)
    assert [i["rule"] for i in items if i["kind"] == "follow_up"] == ["ca.arrival.surveillance"]
    assert any("within 30 days" in f for f in ex.travellers[0]["follow_up"])


def test_the_handover_carries_medications_and_escort_notes(session, world, rules):
    from pmha.travel import checks

    dep = departure(session, world, days=2)
    case = booked(session, world, dep, family(session, world))
    a = case.applicants[0]
    clear(session, world, rules, a.id)
    pec(session, world, a.id, journey_medications="insulin glargine 10 units at night")
    checks.set_escort(
        session,
        world.actor("operations"),
        a.id,
        SetEscort(escort_type="non_medical", handover_note="meet at gate B"),
    )
    kinds = {i["kind"]: i["what"] for i in handover.follow_up(session, world.actor("nurse"), a.id)}
    assert kinds["medications"].startswith("insulin")
    assert kinds["escort_handover"] == "meet at gate B"


def test_issuing_a_certificate_keeps_follow_up_records_the_receiving_side_completes(
    session, world, rules
):
    dep = departure(session, world, destination="CA", days=2)
    case = booked(
        session, world, dep, family(session, world, destination="CA", programme="immigrant")
    )
    a = case.applicants[0]
    clear(session, world, rules, a.id, facts={"tb_history": True})
    certificates.issue_certificate(session, world.actor("operations"), a.id)
    items = handover.follow_up(session, world.actor("operations"), a.id)
    record = next(i for i in items if i["rule"] == "ca.arrival.surveillance")
    assert record["id"] and record["completed_on"] is None
    receiver = world.actor("receiving_authority")
    import uuid
    from dataclasses import replace

    canada = replace(receiver, destination="CA")
    with pytest.raises(NotFound):
        handover.complete_follow_up(
            session,
            replace(receiver, destination="US"),
            uuid.UUID(record["id"]),
            FollowUpDone(completed_on=date.today()),
        )
    with pytest.raises(ValidationFailed):
        handover.complete_follow_up(
            session,
            canada,
            uuid.UUID(record["id"]),
            FollowUpDone(completed_on=date.today() + timedelta(days=2)),
        )
    done = handover.complete_follow_up(
        session,
        canada,
        uuid.UUID(record["id"]),
        FollowUpDone(completed_on=date.today(), note="seen"),
    )
    assert done.completed_on == date.today()


def test_presumptive_treatment_the_rule_says_none_for_turkiye(session, world):
    case = family(session, world)  # exam country TR (the IST site)
    rule, _given = handover.suggested_treatment(
        session, world.actor("nurse"), case.applicants[0].id
    )
    assert rule is not None and rule.id == "us.presumptive.none_tr_lb" and not rule.drugs
    before = count(session, Treatment)
    with pytest.raises(ValidationFailed) as exc:
        handover.record_treatment(
            session,
            world.actor("nurse"),
            case.applicants[0].id,
            NewTreatment(drug="albendazole", dose="400 mg", given_on=date.today()),
        )
    assert "drug" in exc.value.errors
    assert count(session, Treatment) == before


def test_presumptive_treatment_is_recorded_with_drug_dose_and_date(session, world):
    world.home.country = "JO"  # Middle East: albendazole + ivermectin [S16]
    session.flush()
    case = family(session, world)
    nurse = world.actor("nurse")
    rule, _ = handover.suggested_treatment(session, nurse, case.applicants[0].id)
    assert rule is not None and [d.drug for d in rule.drugs] == ["albendazole", "ivermectin"]
    row = handover.record_treatment(
        session,
        nurse,
        case.applicants[0].id,
        NewTreatment(drug="albendazole", dose="400 mg, single dose", given_on=date.today()),
    )
    assert (row.rule_id, row.drug) == ("us.presumptive.middle_east_asia", "albendazole")
    with pytest.raises(ValidationFailed) as exc:
        handover.record_treatment(
            session,
            nurse,
            case.applicants[0].id,
            NewTreatment(drug="praziquantel", dose="40 mg/kg", given_on=date.today()),
        )
    assert "drug" in exc.value.errors
