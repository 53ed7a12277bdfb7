"""Synthetic vaccination demo: lots in the Istanbul centre's stock and four families whose
destinations show the requirements and waivers side by side (US immigrant, US refugee, Australian
departure health check, Canada). Every person is invented by pmha.demo.synthetic_family."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.core.auth import Actor
from pmha.rules import RuleBook
from pmha.vaccines import records, stock
from pmha.vaccines.models import RecordKind
from pmha.workflow import service as workflow
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
            {
                "site_code": "IST",
                "cvx": cvx,
                "mvx": mvx,
                "lot": lot,
                "expiry": today + timedelta(days=30 * months),
                "quantity": doses,
                "received_on": today - timedelta(days=7),
            },
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
        case = cases.register_case(session, operations, case_data)
        for member in members[:2]:
            cases.add_applicant(session, operations, case.id, member)
        session.flush()
        session.expire_all()
        for applicant in case.applicants:
            workflow.set_facts(
                session,
                nurse,
                rules,
                applicant.id,
                {
                    "exam_date": today,
                    "pregnant": False if applicant.sex.value == "female" else None,
                    **NOTHING_FOUND,
                },
            )
            # A childhood MMR from the papers they brought.
            first = applicant.dob + timedelta(days=400)
            if first < today:
                records.record_vaccination(
                    session,
                    nurse,
                    applicant.id,
                    {
                        "kind": RecordKind.HISTORICAL,
                        "cvx": "03",
                        "date": first,
                        "information_source": "01",
                    },
                )
        numbers.append(case.case_number)
    return numbers
