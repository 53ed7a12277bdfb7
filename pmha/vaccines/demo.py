"""Synthetic vaccination demo: lots in the Istanbul centre's stock and four families whose
destinations show the requirements and waivers side by side (US immigrant, US refugee, Australian
departure health check, Canada). Every person is invented by pmha.demo.synthetic_family."""

from __future__ import annotations

import contextlib
import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.schemas import ApplicantIn, CaseIn
from pmha.core.auth import Actor
from pmha.rules import RuleBook
from pmha.vaccines import records, stock
from pmha.vaccines.commands import NewLot, NewVaccination
from pmha.vaccines.models import RecordKind
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.facts import NOTHING_FOUND

# (CVX, MVX, lot, months to expiry, doses): enough for a day of the demo; one lot nearly used up.
LOTS = [
    ("03", "MSD", "MMR-D101", 14, 60),
    ("21", "MSD", "VAR-D202", 10, 30),
    ("115", "SKB", "TDAP-D303", 18, 80),
    ("10", "PMC", "IPV-D404", 12, 40),
    ("43", "SKB", "HEPB-D505", 20, 50),
    ("150", "SKB", "FLU-D606", 5, 4),
]
# (destination, programme, what the nurse should see)
SHOWCASE = [
    ("US", "immigrant", "one dose of each age-appropriate vaccine; influenza by season"),
    ("US", "refugee", "no vaccine required (the refugee schedule is recommended only)"),
    ("AU", "refugee", "MMR at the departure health check"),
    ("CA", "immigrant", "no vaccine required at the exam"),
]


def seed(
    session: Session,
    nurse: Actor,
    operations: Actor,
    rules: RuleBook,
    rng: random.Random,
    today: date,
    family: Any,
) -> list[str]:
    """Receive the lots and register the showcase families (with a few doses from their papers);
    returns their case numbers. `family` is pmha.demo.synthetic_family."""
    for cvx, mvx, lot, months, doses in LOTS:
        stock.receive_lot(
            session,
            nurse,
            NewLot(
                site_code="IST",
                cvx=cvx,
                mvx=mvx,
                lot=lot,
                expiry=today + timedelta(days=30 * months),
                quantity=doses,
                received_on=today - timedelta(days=7),
            ),
        )
    numbers = []
    for destination, programme, _shows in SHOWCASE:
        case_data, members = family(rng, today)
        case_data.update(
            site_code="IST",
            destination=destination,
            programme=programme,
            planned_departure=today + timedelta(days=60),
        )
        case = cases.register_case(session, operations, CaseIn().load(case_data))
        for member in members[:2]:
            cases.add_applicant(session, operations, case.id, ApplicantIn().load(member))
        session.flush()
        session.expire_all()
        for applicant in case.applicants:
            workflow.set_facts(
                session,
                nurse,
                rules,
                applicant.id,
                FactsUpdate(
                    exam_date=today,
                    pregnant=False if applicant.sex.value == "female" else None,
                    **NOTHING_FOUND,
                ),
            )
            # A childhood MMR from the papers they brought.
            first = applicant.dob + timedelta(days=400)
            if first < today:
                records.record_vaccination(
                    session,
                    nurse,
                    applicant.id,
                    NewVaccination(
                        kind=RecordKind.HISTORICAL, cvx="03", date=first, information_source="01"
                    ),
                )
        numbers.append(case.case_number)
    return numbers


# A CVX a demo takes from the applicant's papers for each rule-file vaccine: (child, adult).
_PAPERS = {
    "Measles": ("03", "03"),
    "Mumps": ("03", "03"),
    "Rubella": ("03", "03"),
    "Varicella": ("21", "21"),
    "Tetanus": ("20", "115"),
    "Diphtheria": ("20", "115"),
    "Pertussis": ("20", "115"),
    "Polio": ("10", "10"),
    "Hib": ("17", "17"),
    "HepA": ("83", "52"),
    "HepB": ("08", "43"),
    "Meningococcal": ("114", "114"),
    "Pneumococcal": ("133", "216"),
    "Rotavirus": ("122", "122"),
    "Influenza": ("150", "150"),
}


def _papers_for_all_but(
    session: Session,
    nurse: Actor,
    rules: RuleBook,
    applicant_id: Any,
    today: date,
    keep: str | None,
) -> Any:
    """Record, from the applicant's papers, a dose of every vaccine still to give or due (all
    but `keep`), until nothing else is open or no dose helps; returns the last overview."""
    from pmha.vaccines import service

    view = service.overview(session, nurse, rules, applicant_id, today)
    for _round in range(3):
        todo = [r for r in view.still_open() if r.vaccine != keep and r.vaccine in _PAPERS]
        if not todo:
            break
        adult = (today - view.applicant.dob).days >= 7 * 365
        given: set[str] = set()
        for req in todo:
            cvx = _PAPERS[req.vaccine][1 if adult else 0]
            if cvx in given:
                continue
            given.add(cvx)
            day = min(today, max(req.earliest or today, today - timedelta(days=1)))
            records.record_vaccination(
                session,
                nurse,
                applicant_id,
                NewVaccination(
                    kind=RecordKind.HISTORICAL, cvx=cvx, date=day, information_source="01"
                ),
            )
        view = service.overview(session, nurse, rules, applicant_id, today)
    return view


def into_refusal(
    session: Session,
    nurse: Actor,
    physician: Actor,
    rules: RuleBook,
    applicant_id: Any,
    today: date,
    vaccine: str = "Varicella",
) -> Any:
    """Demo (issue 15, state a): a US immigrant applicant whose every other vaccine is settled
    from papers refuses `vaccine` (an MMR refusal covers measles, mumps and rubella), and the
    panel physician confirms the refusal: the review records the outcome Class A (vaccination),
    which holds clearance [S13f]. Returns the review, or None when something else stays open
    (e.g. a fact not known yet). The applicant's facts must be set (pmha.workflow.set_facts)."""
    from pmha.vaccines import review

    view = _papers_for_all_but(session, nurse, rules, applicant_id, today, vaccine)
    refused = next((r for r in view.requirements if r.vaccine == vaccine), None)
    if refused is None or refused.settled:
        return None
    records.record_vaccination(
        session,
        nurse,
        applicant_id,
        NewVaccination(
            kind=RecordKind.REFUSED, cvx=_PAPERS[vaccine][1], date=today, refusal_reason="03"
        ),
    )
    try:
        return review.complete_review(session, physician, rules, applicant_id, confirm_refusal=True)
    except review.ReviewOpen:
        return None


def into_blanket_waivers(
    session: Session, nurse: Actor, rules: RuleBook, applicant_id: Any, today: date
) -> list[str]:
    """Demo (issue 15, state b): a US immigrant applicant with every vaccine still to give
    documented from papers, so what remains is what the engine waives by itself: the vaccines
    outside their age window read "not age appropriate" (an adult: Hib, rotavirus, hepatitis A...),
    influenza out of the exam country's season "not flu season", and so on. Completes the review
    (outcome complete). Returns the vaccines waived, with the reason in words."""
    from pmha.vaccines import review

    view = _papers_for_all_but(session, nurse, rules, applicant_id, today, None)
    if view.outcome is not None and view.outcome.value == "complete":
        with contextlib.suppress(review.ReviewOpen):
            review.complete_review(session, nurse, rules, applicant_id)
    if view.outcome is None:
        return []
    return [f"{v.vaccine}: {v.words}" for v in view.outcome.blanket_waivers]
