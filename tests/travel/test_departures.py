"""Departures and the board: validity against the flight, check windows, fitness outcomes,
escorts, the family rule, certificates (issue, refuse, revoke, verify) and bad input.

Sources: BRIEF 1.6 [S19] (PEC 24-72 h before departure, all US refugees; exam no more than
6 months before departure, repeated if it expires first), 1.7 [S20] (US validity 6 months),
3 [S28f] (Canada 12 months), 5.1 [S31a] (PEC outcomes, escorts), VOCABULARY (family rule).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.rules import add_months
from pmha.travel import certificates, checks, departures
from pmha.travel.commands import NewCheck, NewDeparture, SetEscort
from pmha.travel.models import Certificate, Departure, Escort, FitnessCheck
from pmha.workflow import clearance as cl
from tests.travel.helpers import booked, clear, departure, family

pytestmark = pytest.mark.usefixtures("in_app")
NOW = datetime.now(UTC).replace(microsecond=0)


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def row_of(session, world, dep, applicant_id):
    board = departures.board(session, world.actor("operations"), dep.id)
    for row in board.rows:
        for a, t in row.travellers:
            if a.id == applicant_id:
                return board, row, t
    raise AssertionError("not on the board")


def pec(session, world, applicant_id, at=None, **data):
    body = {"kind": "pec", "checked_at": at or NOW - timedelta(minutes=5), **data}
    return checks.record_check(
        session, world.actor("panel_physician"), applicant_id, NewCheck(**body)
    )


@pytest.fixture()
def ready_single(session, world, rules):
    """A US refugee, cleared, on a flight in 2 days: the PEC is all that is left."""
    dep = departure(session, world, days=2)
    case = booked(session, world, dep, family(session, world))
    clear(session, world, rules, case.applicants[0].id)
    return dep, case.applicants[0]


def test_a_cleared_traveller_needs_a_pec_in_its_window_then_is_ready(session, world, ready_single):
    dep, a = ready_single
    board, row, t = row_of(session, world, dep, a.id)
    assert t.medical.status in {cl.CLEARED, cl.WITH_CONDITIONS}
    assert t.due and t.due[0].startswith("Pre-embarkation check now")  # all US refugees [S19]
    assert board.ready == 0 and a.id in row.readiness.certifiable
    check = pec(session, world, a.id, temperature_c=36.8)
    assert check.suggested.value == "fit" and check.in_window
    board, row, t = row_of(session, world, dep, a.id)
    assert not t.due and board.ready == 1


def test_a_pec_before_its_window_does_not_count(session, world, rules):
    dep = departure(session, world, days=5)  # window: 72 h before departure [S19]
    case = booked(session, world, dep, family(session, world))
    clear(session, world, rules, case.applicants[0].id)
    check = pec(session, world, case.applicants[0].id)
    assert not check.in_window
    _, _, t = row_of(session, world, dep, case.applicants[0].id)
    assert t.due and t.fitness is None


def test_a_pec_dated_after_the_flight_or_in_the_future_is_refused(session, world, ready_single):
    dep, a = ready_single
    before = count(session, FitnessCheck)
    with pytest.raises(ValidationFailed) as exc:
        pec(session, world, a.id, at=dep.departs_at + timedelta(hours=1))
    assert "after the flight" in exc.value.errors["checked_at"][0]
    with pytest.raises(ValidationFailed) as exc:
        pec(session, world, a.id, at=NOW + timedelta(hours=1))
    assert "future" in exc.value.errors["checked_at"][0]
    assert count(session, FitnessCheck) == before


def test_the_physician_overrides_the_suggestion_only_with_a_reason(session, world, ready_single):
    _, a = ready_single
    with pytest.raises(ValidationFailed) as exc:
        pec(session, world, a.id, mobility="WCHR", outcome="fit")
    assert "override_reason" in exc.value.errors
    found = pec(
        session,
        world,
        a.id,
        mobility="WCHR",
        outcome="fit",
        override_reason="walks the cabin with a stick",
    )
    assert (found.suggested.value, found.outcome.value) == ("fit_with_conditions", "fit")


def test_the_exam_expiring_before_the_flight_blocks_travel(session, world, rules):
    dep = departure(session, world, days=30)
    case = booked(session, world, dep, family(session, world))
    exam = add_months(date.today(), -6) + timedelta(days=10)  # US: 6 months [S20]
    clear(session, world, rules, case.applicants[0].id, exam_date=exam)
    _, row, t = row_of(session, world, dep, case.applicants[0].id)
    assert t.valid_until is not None and t.valid_until < dep.departs_at.date()
    assert t.decision.status == cl.EXPIRED
    assert any(b.code == "exam_validity" for b in t.decision.blockers)
    assert case.applicants[0].id not in row.readiness.certifiable


def test_one_member_pending_holds_the_family_and_no_certificate_is_written(session, world, rules):
    dep = departure(session, world)
    case = booked(session, world, dep, family(session, world, children=1))
    principal, _child = case.applicants
    clear(session, world, rules, principal.id)  # the child's exam is not done
    _, row, t = row_of(session, world, dep, principal.id)
    assert t.cleared and principal.id not in row.readiness.certifiable  # US: all_travellers
    before = count(session, Certificate)
    with pytest.raises(Conflict) as exc:
        certificates.issue_certificate(session, world.actor("operations"), principal.id)
    assert exc.value.code == "travel.clearance_blocked"
    assert count(session, Certificate) == before


def test_an_unfit_pec_revokes_the_certificate(session, world, ready_single):
    dep, a = ready_single
    ops = world.actor("operations")
    cert = certificates.issue_certificate(session, ops, a.id)
    assert certificates.issue_certificate(session, ops, a.id).id == cert.id  # one stands
    assert certificates.verify(session, cert.code).status == "valid"
    pec(session, world, a.id, symptoms=["rash"])  # infectious disease: unfit [S32j]
    assert certificates.verify(session, cert.code).status == "revoked"
    _, _row, t = row_of(session, world, dep, a.id)
    assert t.decision.status == cl.TRAVEL_HOLD and t.fitness == "unfit"
    with pytest.raises(Conflict):
        certificates.issue_certificate(session, ops, a.id)


def test_a_medical_escort_must_be_arranged_and_approved(session, world, ready_single):
    dep, a = ready_single
    pec(session, world, a.id, mobility="stretcher")
    _, _, t = row_of(session, world, dep, a.id)
    assert t.escort_needed == "medical" and t.decision.status == cl.PENDING
    ops = world.actor("operations")
    with pytest.raises(ValidationFailed):
        checks.set_escort(session, ops, a.id, SetEscort(escort_type="nurse"))  # no plan
    assert count(session, Escort) == 0
    escort = checks.set_escort(
        session,
        ops,
        a.id,
        SetEscort(escort_type="nurse", plan="Nurse at seat", medif_status="sent"),
    )
    _, _, t = row_of(session, world, dep, a.id)
    assert [b.code for b in t.decision.blockers] == ["medif"]
    before = count(session, Certificate)
    with pytest.raises(Conflict) as exc:  # no certificate while the airline has not approved
        certificates.issue_certificate(session, ops, a.id)
    assert exc.value.code == "travel.clearance_blocked"
    assert count(session, Certificate) == before
    checks.set_escort(
        session,
        ops,
        a.id,
        SetEscort(
            escort_type="nurse",
            plan="Nurse at seat",
            medif_status="approved",
            equipment=["stretcher"],
            version=escort.version,
        ),
    )
    _, row, t = row_of(session, world, dep, a.id)
    assert not t.decision.blockers and a.id in row.readiness.ready


def test_verification_tells_forged_and_unknown_apart(session, world, ready_single):
    from pmha.travel.signing import parse_token, token

    _, a = ready_single
    cert = certificates.issue_certificate(session, world.actor("operations"), a.id)
    good = token(cert.statement, cert.signature)
    assert certificates.verify(session, good).status == "valid"
    statement, signature = parse_token(good)
    statement["until"] = "2099-12-31"
    assert certificates.verify(session, token(statement, signature)).status == "forged"
    assert certificates.verify(session, "TRV-AAAA-BBBB-CCCC").status == "unknown"
    # who, what, until: no health details (the random code is left out: it may spell "tb")
    assert set(cert.statement) == {
        "v",
        "code",
        "who",
        "what",
        "to",
        "flight",
        "departs",
        "until",
        "issued",
        "by",
        "centre",
    }
    shown = {k: v for k, v in cert.statement.items() if k != "code"}
    assert "tb" not in str(shown).lower()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"departs_at": NOW - timedelta(hours=1)}, "departs_at"),  # a flight in the past
        ({"carrier": "ZZ"}, "carrier"),  # no carrier rule in the US file
    ],
)
def test_bad_departures_are_refused_and_nothing_is_written(session, world, change, field):
    before = count(session, Departure)
    data = {
        "carrier": "TK",
        "flight_number": "1",
        "departs_at": NOW + timedelta(days=1),
        "route": "IST-ORD",
        "destination": "US",
        **change,
    }
    with pytest.raises(ValidationFailed) as exc:
        departures.create_departure(session, world.actor("operations"), NewDeparture(**data))
    assert field in exc.value.errors
    assert count(session, Departure) == before


def test_booking_sets_the_planned_departure_and_checks_the_destination(session, world):
    dep = departure(session, world, days=3)
    case = booked(session, world, dep, family(session, world))
    assert case.planned_departure == dep.departs_at.date()
    other = family(
        session,
        world,
        destination="CA",
        given_names="Zaid",
        family_name="Nouri",
        given_names_original=None,
        family_name_original=None,
        dob="1979-01-01",
    )
    with pytest.raises(ValidationFailed):
        departures.book_case(session, world.actor("operations"), dep.id, other.id)
    second = departure(session, world, days=4)
    with pytest.raises(Conflict):
        departures.book_case(session, world.actor("operations"), second.id, case.id)


def test_another_sites_departure_is_not_found(session, world):
    dep = departure(session, world)
    with pytest.raises(NotFound) as exc:
        departures.board(session, world.actor("foreign"), dep.id)
    assert exc.value.code == "travel.departure_not_found"


def test_class_b1_needs_pdms_within_three_weeks(session, world, rules):
    """US refugees with Class B1 TB get PDMS within 3 weeks of departure [S19]."""
    dep = departure(session, world, days=10)
    case = booked(session, world, dep, family(session, world))
    a = case.applicants[0]
    clear(session, world, rules, a.id, facts={"tb_history": True})
    _, _, t = row_of(session, world, dep, a.id)
    due = [d for d in t.due if d.startswith("Pre-departure medical screening")]
    assert due, (t.due, t.medical)
    # 10 days before the flight the 3-week window is open already: due now, not "from" a past day
    assert due[0] == "Pre-departure medical screening now (its window is open until the flight)"
    opens = dep.departs_at - timedelta(hours=72)  # the PEC's window is still ahead
    assert f"Pre-embarkation check from {opens:%d %b %H:%M} UTC" in t.due


@pytest.mark.parametrize(
    ("complex_condition", "expected"),
    [
        (True, "Pre-departure medical screening now"),
        (None, "Pre-departure medical screening? The plan waits for the complex medical condition"),
        (False, None),
    ],
)
def test_a_complex_medical_condition_asks_for_pdms(
    session, world, rules, complex_condition, expected
):
    """US refugees with significant complex medical conditions get PDMS within 3 weeks of
    departure [S19, BRIEF "PDMS"]: the physician's judgement, a clinical fact; while it is not
    answered the board says the plan waits for it."""
    dep = departure(session, world, days=10)
    case = booked(session, world, dep, family(session, world))
    a = case.applicants[0]
    clear(session, world, rules, a.id, facts={"complex_condition": complex_condition})
    _, _, t = row_of(session, world, dep, a.id)
    due = [d for d in t.due if d.startswith("Pre-departure medical screening")]
    if expected is None:
        assert not due, t.due
    else:
        assert due and due[0].startswith(expected), t.due


def test_australia_asks_for_the_departure_health_check(session, world, rules):
    """Humanitarian visa holders: DHC within 72 h of departure [S29f]."""
    dep = departure(session, world, destination="AU", days=2)
    case = booked(
        session, world, dep, family(session, world, destination="AU", programme="humanitarian")
    )
    a = case.applicants[0]
    clear(session, world, rules, a.id)
    _, _, t = row_of(session, world, dep, a.id)
    assert any(d.startswith("Departure health check") for d in t.due), t.due
    checks.record_check(
        session,
        world.actor("panel_physician"),
        a.id,
        NewCheck(kind="dhc", checked_at=NOW - timedelta(minutes=1)),
    )
    _, row, t = row_of(session, world, dep, a.id)
    assert not t.due and a.id in row.readiness.ready


def test_a_certificate_signed_with_a_replaced_key_cannot_be_checked(session, world, ready_single):
    _, a = ready_single
    cert = certificates.issue_certificate(session, world.actor("operations"), a.id)
    cert.key_id = "0" * 16  # as if the signing key had been replaced since
    session.flush()
    assert certificates.verify(session, cert.code).status == "other_key"


def test_the_board_reads_in_a_fixed_number_of_queries(session, world, rules):
    """The board reads the kept plans through the workflow's list read (one query for all
    travellers), so a fuller flight costs no more statements than a small one."""
    from sqlalchemy import event

    dep = departure(session, world, days=2)
    first = booked(session, world, dep, family(session, world, children=1))
    clear(session, world, rules, first.applicants[0].id)
    ops = world.actor("operations")
    engine = session.get_bind()

    def statements() -> int:
        seen: list[str] = []

        def note(_conn, _cursor, statement, *_rest) -> None:
            seen.append(statement)

        session.expire_all()
        event.listen(engine, "before_cursor_execute", note)
        try:
            board = departures.build_board(session, ops, session.get(Departure, dep.id))
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert board.travellers > 0
        return len(seen)

    small = statements()
    for n in range(3):
        other = family(
            session,
            world,
            given_names=["Rami", "Nour", "Sami"][n],
            family_name=["Khalil", "Aziz", "Mansour"][n],
            given_names_original=None,
            family_name_original=None,
            dob=f"198{n}-02-03",
        )
        booked(session, world, dep, other)
        clear(session, world, rules, other.applicants[0].id)
    assert statements() == small


def test_a_check_on_a_carrier_the_rule_file_no_longer_lists_is_refused(
    session, world, ready_single
):
    """A carrier rule removed from the file after the flight was created: the check names the
    carrier and nothing is written (no suggestion without the carrier's rules)."""
    dep, a = ready_single
    dep.carrier = "ZZ"
    session.flush()
    before = count(session, FitnessCheck)
    with pytest.raises(ValidationFailed) as exc:
        pec(session, world, a.id)
    assert "No carrier rule for ZZ" in exc.value.errors["carrier"][0]
    assert count(session, FitnessCheck) == before


def test_the_check_applies_the_flights_carrier_rule_from_the_file(session, world, rules):
    """BRIEF 5.2 [U]: the TK entry of US.toml says single pregnancy not after week 36."""
    dep = departure(session, world, days=2)
    case = booked(session, world, dep, family(session, world, sex="female", given_names="Amal"))
    a = case.applicants[0]
    clear(session, world, rules, a.id)
    found = pec(session, world, a.id, pregnancy_weeks=37)
    assert (found.suggested.value, found.carrier_rule) == ("unfit", "carrier.TK")
    _, row, t = row_of(session, world, dep, a.id)
    assert t.decision.status == cl.TRAVEL_HOLD and a.id not in row.readiness.certifiable
