"""The demo's two US families of issue 15 ("a demo family exercises a refusal, a blanket waiver,
a treated-and-reclassified traveller who is still valid, and a traveller who lived in an endemic
region"): two families because the programme is a case's (vaccination: immigrants only, BRIEF
1.1; presumptive treatment: refugees only, BRIEF 1.6)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha import demo as seed_demo
from pmha.cases.models import Applicant
from pmha.cases.models import FamilyCase as Case
from pmha.core.auth import Actor, Role
from pmha.core.db import utcnow
from pmha.demo_destinations import IMMIGRANTS, REFUGEES
from pmha.travel import handover
from pmha.vaccines import service as vaccines
from pmha.workflow import service as workflow
from pmha.workflow.validity import validity_words


def test_the_demo_shows_refusal_waivers_reclassified_and_endemic_residence(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    rules = app.extensions["pmha.rules"]
    with app.app_context():
        assert seed_demo.seed(session, families=1, rules=rules, storage=tmp_path) is not None
    sites = frozenset(session.scalars(select(Case.site_id)))
    nurse = Actor(None, "test", frozenset({Role.NURSE}), sites, via="cli")
    physician = Actor(None, "test", frozenset({Role.PANEL_PHYSICIAN}), sites, via="cli")
    today = utcnow().date()

    def family(reference: str) -> dict[str, Applicant]:
        case = session.scalars(select(Case).where(Case.external_ref == reference)).one()
        return {a.relationship.value: a for a in case.applicants}

    immigrants = family(IMMIGRANTS)
    # The mother refused a required vaccine: Class A (vaccination) holds her [S13f].
    mother = vaccines.overview(session, nurse, rules, immigrants["principal"].id, today)
    assert mother.outcome is not None and mother.outcome.value == "class_a"
    held = workflow.current(session, nurse, rules, immigrants["principal"].id).decision
    assert any(b.code == "vaccination" for b in held.blockers)
    # The father's remaining vaccines are waived by the engine itself [S13a].
    father = vaccines.overview(session, nurse, rules, immigrants["spouse"].id, today)
    assert father.outcome is not None
    assert any("not age appropriate" in v.words for v in father.outcome.blanket_waivers)
    # The son, treated under DOT and reclassified, is valid from the final TB evaluation.
    son = workflow.current(session, physician, rules, immigrants["child"].id)
    outcomes = {o["kind"]: o for o in son.record.plan["outcomes"]}
    assert outcomes["tb_class"]["values"] == ["class_b0"]
    assert outcomes["exam_validity"]["expired"] is False  # eight months after the exam
    words = validity_words(outcomes["exam_validity"])
    assert words is not None and "final TB evaluation" in words

    refugees = family(REFUGEES)
    with app.app_context():
        plan, _given = handover.suggested_treatment(session, physician, refugees["principal"].id)
    assert plan is not None
    given = {d.drug for d in plan.drugs}
    assert {"albendazole", "praziquantel", "artemether-lumefantrine"} <= given
    left_out = {d.drug: why for d, why in plan.omitted}
    assert "Loa loa" in left_out["ivermectin"]  # [S16]
