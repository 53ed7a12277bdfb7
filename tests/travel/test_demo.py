"""The demo's US departure carries a family in every state the board shows (issue 8: "the demo
has a departure with travellers in every state")."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha import demo as seed_demo
from pmha.core.auth import Actor, Role
from pmha.travel import certificates, departures
from pmha.travel.models import Certificate, Departure, FitnessCheck
from pmha.workflow import clearance as cl
from pmha.workflow.models import StepResult


def test_the_demo_flight_has_a_traveller_in_every_state(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    rules = app.extensions["pmha.rules"]
    with app.app_context():
        assert seed_demo.seed(session, families=6, rules=rules, storage=tmp_path) is not None
        us = session.scalars(select(Departure).where(Departure.destination == "US")).one()
        ops = Actor(None, "test", frozenset({Role.OPERATIONS}), frozenset({us.site_id}), via="cli")
        board = departures.board(session, ops, us.id)
    travellers = [t for row in board.rows for _, t in row.travellers]
    statuses = {t.decision.status for t in travellers}
    assert {cl.CLEARED, cl.PENDING, cl.EXPIRED, cl.TRAVEL_HOLD} <= statuses, statuses
    assert 0 < board.ready < board.travellers
    assert any(d.startswith("Pre-embarkation check") for t in travellers for d in t.due)
    assert any(t.escort and t.escort.medif_status == "sent" for t in travellers)
    assert any(t.fitness == "unfit" for t in travellers)
    # the family rule: a cleared member held by a relative whose exam is not done
    assert any(
        t.cleared and t.applicant_id not in row.readiness.certifiable
        for row in board.rows
        for _, t in row.travellers
    )
    revoked = session.scalars(
        select(Certificate).where(
            Certificate.departure_id == us.id, Certificate.revoked_at.is_not(None)
        )
    ).all()
    with app.app_context():
        assert revoked and certificates.verify(session, revoked[0].code).status == "revoked"
    # Every demo certificate names its signer, as one issued through a page does (issue 14).
    issued = session.scalars(select(Certificate)).all()
    assert issued and all(c.issued_by_name for c in issued)
    # One record per fact (issue 14): each PEC the demo recorded in its window settles the
    # workflow's pec step and links to it; the exams behind the cleared travellers are records.
    checks = session.scalars(
        select(FitnessCheck).where(FitnessCheck.departure_id == us.id, FitnessCheck.in_window)
    ).all()
    assert checks
    linked = {
        r.source_id
        for r in session.scalars(select(StepResult).where(StepResult.code == "pec"))
        if r.source_kind == "fitness_check"
    }
    assert {c.id for c in checks} <= linked
    sources = {
        r.source_kind
        for r in session.scalars(
            select(StepResult).where(
                StepResult.applicant_id.in_([t.applicant_id for t in travellers])
            )
        )
    }
    assert {"exam_section", "xray_reading", "lab_result", "fitness_check"} <= sources
