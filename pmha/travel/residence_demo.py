"""Demo: a US-bound refugee who lived in an endemic region (issue 15). Synthetic data.

`give_endemic_residence` records that the applicant lived in the Democratic Republic of the
Congo from 2012 to 2019 (or from birth, if later), then in Uganda (still there), and returns the
presumptive treatment plan that follows: albendazole, praziquantel and artemether-lumefantrine,
with ivermectin left out because DRC is Loa loa-endemic (BRIEF 1.6 [S16, S17, S18]). The lead
wires it into pmha/demo.py; it is not called from there by this module.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.rules import RuleBook
from pmha.travel import handover
from pmha.travel.demo import _app
from pmha.travel.policy import TreatmentPlan
from pmha.workflow import residence
from pmha.workflow.commands import NewResidence

DRC_FROM, DRC_TO = date(2012, 1, 1), date(2019, 6, 1)


def give_endemic_residence(
    session: Session, physician: Actor, rules: RuleBook, applicant_id: uuid.UUID
) -> TreatmentPlan | None:
    """DRC 2012-2019, then Uganda: the periods recorded (audited, re-planned) and the
    presumptive treatment plan the nurse sees. The applicant must be a US-bound refugee born
    before mid-2019; `physician` works at the applicant's site. A woman's drugs stay held until
    her pregnancy is recorded (set_facts pregnant=False shows them given)."""
    from pmha.cases import service as cases

    applicant = cases.load_applicant(session, physician, applicant_id)
    start = max(DRC_FROM, applicant.dob)
    for country, started, ended in (("CD", start, DRC_TO), ("UG", DRC_TO, None)):
        residence.add_period(
            session,
            physician,
            rules,
            applicant.id,
            NewResidence(country=country, started_on=started, ended_on=ended),
        )
    with _app(rules):
        plan, _given = handover.suggested_treatment(session, physician, applicant.id)
    return plan
