"""A treated-and-reclassified traveller for the demo (issue 15): Class A TB at an exam eight
months ago, treated to completion under DOT, reclassified B0, and still valid, because the
validity runs from the final TB evaluation, not from the first exam (US.toml
us.validity.reclassified; BRIEF 1.3, 6 [S2, S3, S4]).

The story, all synthetic: X-ray suggestive and smear positive at the exam, culture positive six
weeks later (cultures take up to 8 weeks, BRIEF 1.2), NAAT and drug susceptibility on the way;
2HRZE/4HR started once the culture and susceptibility were in, every one of its 182 daily doses
observed up to yesterday, monthly sputum negative from the second month; the episode is closed
today as completed, which records the `tb_treatment_dot` result and reclassifies the applicant.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pmha import demo_records
from pmha.cases.models import Applicant
from pmha.core.auth import Actor, Role
from pmha.core.db import utcnow
from pmha.rules import RuleBook, add_months
from pmha.rules import vocabulary as vocab
from pmha.tb_dot import demo as tb_demo
from pmha.tb_dot import service
from pmha.tb_dot.commands import CloseEpisode, StartEpisode
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.facts import NOTHING_FOUND
from pmha.workflow.models import StepState
from pmha.workflow.roles import group_of

REGIMEN = "2HRZE/4HR"
MONTHS_SINCE_EXAM = 8
# Days after the exam each diagnostic result came back.
RESULT_DAYS = {
    "chest_xray": ("suggestive_of_tb", 0),
    "sputum_smear": ("positive", 3),
    "tb_naat": ("positive", 3),
    "sputum_culture": ("positive", 42),
    "dst": ("susceptible", 49),
}
TB_CODES = frozenset({*RESULT_DAYS, "tb_treatment_dot"})


def make_reclassified(
    session: Session,
    clinic: Mapping[Role, Actor],
    rules: RuleBook,
    applicant_id: uuid.UUID,
    catalogue: service.Catalogue | None = None,
    *,
    settle_rest: bool = True,
) -> workflow.Workflow:
    """Make a US applicant a traveller treated for Class A TB under DOT, completed today and
    reclassified B0, whose exam was eight months ago; with `settle_rest`, the other required
    steps get reassuring results too. Returns the applicant's workflow (still valid)."""
    physician = clinic[Role.PANEL_PHYSICIAN]
    applicant = session.get(Applicant, applicant_id)
    if applicant is None or applicant.case.destination.value != "US":
        raise ValueError("a treated-and-reclassified traveller is a US applicant")
    catalogue = catalogue or tb_demo._catalogue()
    today = utcnow().date()
    exam = add_months(today, -MONTHS_SINCE_EXAM)
    facts: dict[str, Any] = {"exam_date": exam, **NOTHING_FOUND}
    if applicant.sex.value == "female":
        facts["pregnant"] = False
    workflow.set_facts(session, physician, rules, applicant.id, FactsUpdate(**facts))
    for code, (value, after) in RESULT_DAYS.items():
        demo_records.settle(
            session, clinic, rules, applicant.id, code, value, exam + timedelta(days=after)
        )
    rule = catalogue["US"].regimens[REGIMEN]
    doses = sum(p.doses for p in rule.phases)
    start = today - timedelta(days=doses)  # one observed dose a day, the last one yesterday
    found = service.start_episode(
        session,
        physician,
        catalogue,
        applicant.id,
        StartEpisode(
            diagnosed_on=exam + timedelta(days=RESULT_DAYS["sputum_culture"][1]),
            site="pulmonary",
            susceptibility="susceptible",
            cavitation=False,
            weight_kg=60.0,
            regimen=REGIMEN,
            start_date=start,
            dot_site="centre",
        ),
    )
    dot = clinic.get(Role.DOT_WORKER) or Actor(
        None, "demo-seed", frozenset({Role.DOT_WORKER}), physician.site_ids, via="cli"
    )
    yesterday = today - timedelta(days=1)
    tb_demo.generate_doses(session, dot, found.episode, yesterday, {})
    tb_demo.generate_sputum(session, dot, found.episode, yesterday)
    session.expire_all()
    episode = service.load_episode(session, physician, found.episode.id)
    _, planned = service.close_episode(
        session,
        physician,
        rules,
        catalogue,
        episode.id,
        CloseEpisode(
            outcome="treatment_completed",
            version=episode.version,
            note="treatment completed under DOT; final evaluation today",
        ),
    )
    if settle_rest:
        planned = _settle_rest(session, clinic, rules, applicant.id, exam, today, planned)
    return planned


def _settle_rest(
    session: Session,
    clinic: Mapping[Role, Actor],
    rules: RuleBook,
    applicant_id: uuid.UUID,
    exam: date,
    today: date,
    found: workflow.Workflow,
) -> workflow.Workflow:
    """A reassuring result for each other required step (dated at the exam; the vaccination
    review today, as the nurse completes it)."""
    for _ in range(40):
        todo = [
            s
            for s in found.steps
            if s.state == StepState.PENDING
            and s.planned_status == "required"
            and group_of(s.code) != "travel"
            and s.code not in TB_CODES
        ]
        if not todo:
            break
        code = todo[0].code
        day = today if code == "vaccination_review" else exam
        found = demo_records.settle(
            session, clinic, rules, applicant_id, code, vocab.reassuring(code), day
        )
    return found
