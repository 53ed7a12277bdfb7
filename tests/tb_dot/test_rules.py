"""Treatment rules against the database: regimen eligibility, custom regimens, the extension,
and what each destination's rules make of treatment (one rule a test, with its source)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core.errors import ValidationFailed
from pmha.tb_dot import classify, service
from pmha.tb_dot.commands import CloseEpisode, NewSputum
from pmha.tb_dot.models import SputumCheck, TbEpisode
from tests.factories import World
from tests.tb_dot.helpers import (
    TODAY,
    catalogue_of,
    finish_other_steps,
    rules_of,
    start,
    tb_patient,
)


def _episodes(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TbEpisode)) or 0


@pytest.mark.parametrize(
    ("who", "overrides", "field"),
    [
        (
            {"dob": (TODAY - dt.timedelta(days=11 * 365)).isoformat(), "tb_symptoms": True},
            {},
            "regimen",
        ),
        ({}, {"weight_kg": 39.5}, "weight_kg"),
        ({}, {"site": "extrapulmonary"}, "site"),
        ({}, {"susceptibility": "resistant"}, "susceptibility"),
        ({"sex": "female", "pregnant": True}, {}, "pregnant"),
    ],
    ids=["under_12", "under_40kg", "extrapulmonary", "resistant", "pregnant"],
)
def test_the_4_month_regimen_checks_its_eligibility(
    app: Flask,
    session: Session,
    world: World,
    who: dict[str, Any],
    overrides: dict[str, Any],
    field: str,
) -> None:
    """BRIEF 6: HPZM is for 12 or over, 40 kg or over, drug-susceptible pulmonary TB, not in
    pregnancy [C S33a, S33b]. Refused with the field named, nothing written."""
    applicant = tb_patient(session, app, world, **who)
    before = _episodes(session)
    with pytest.raises(ValidationFailed) as caught:
        weight = overrides.pop("weight_kg", 50.0)
        start(session, app, world, applicant, regimen="HPZM", weight_kg=weight, **overrides)
    assert caught.value.code == "tb_dot.invalid_episode"
    assert field in (caught.value.errors or {})
    assert _episodes(session) == before


def test_the_4_month_regimen_is_given_when_eligible(
    app: Flask, session: Session, world: World
) -> None:
    applicant = tb_patient(session, app, world)
    found = start(session, app, world, applicant, regimen="HPZM", weight_kg=60.0)
    assert found.progress.total == 119
    assert found.dose is not None and "pyrazinamide 1500 mg" in found.dose


def test_a_custom_regimen_is_for_drug_resistant_tb(
    app: Flask, session: Session, world: World
) -> None:
    applicant = tb_patient(session, app, world)
    phases = [{"name": "intensive", "drugs": "BPaLM", "doses": 168}]
    with pytest.raises(ValidationFailed) as caught:
        start(session, app, world, applicant, regimen="custom", phases=phases)
    assert "regimen" in (caught.value.errors or {})
    found = start(session, app, world, applicant, regimen="custom", phases=phases,
                  susceptibility="resistant", resistance="rifampicin, isoniazid")  # fmt: skip
    assert found.progress.total == 168
    assert found.progress.phases[0].within_days == 252  # 1.5 x the doses (rule file, [U])


def test_cavitation_and_a_positive_2_month_culture_extend_the_continuation(
    app: Flask, session: Session, world: World
) -> None:
    """BRIEF 6: continuation to 7 months (9 in all) with cavitation on the first X-ray and a
    positive culture at 2 months [S S33c, S33d]."""
    applicant = tb_patient(session, app, world)
    begun = TODAY - dt.timedelta(days=70)
    found = start(session, app, world, applicant, cavitation=True, start_date=begun,
                  diagnosed_on=begun)  # fmt: skip
    dot, catalogue = world.actor("dot_worker"), catalogue_of(app)
    day = begun + dt.timedelta(days=35)
    service.record_sputum(session, dot, catalogue, found.episode.id,
                          NewSputum(collected_on=day, culture="positive"))  # fmt: skip
    assert not service.load_episode(session, dot, found.episode.id).extended  # month 1
    after = service.record_sputum(
        session,
        dot,
        catalogue,
        found.episode.id,
        NewSputum(collected_on=begun + dt.timedelta(days=65), culture="positive"),
    )
    assert after.episode.extended
    assert [p.doses for p in after.progress.phases] == [56, 217]


def test_no_extension_without_cavitation(app: Flask, session: Session, world: World) -> None:
    applicant = tb_patient(session, app, world)
    begun = TODAY - dt.timedelta(days=70)
    found = start(session, app, world, applicant, start_date=begun, diagnosed_on=begun)
    after = service.record_sputum(
        session,
        world.actor("dot_worker"),
        catalogue_of(app),
        found.episode.id,
        NewSputum(collected_on=begun + dt.timedelta(days=65), culture="positive"),
    )
    assert not after.episode.extended
    assert session.scalar(select(func.count()).select_from(SputumCheck)) == 1


def _treated(app: Flask, session: Session, world: World, destination: str, programme: str) -> Any:
    applicant = tb_patient(session, app, world, destination=destination, programme=programme)
    physician, rules = world.actor("panel_physician"), rules_of(app)
    held = classify.classify(session, physician, rules, applicant.id)
    finish_other_steps(session, app, world, applicant)
    begun = TODAY - dt.timedelta(days=181)
    found = start(session, app, world, applicant, start_date=begun, diagnosed_on=begun)
    from pmha.tb_dot import demo

    demo.generate_doses(session, world.actor("dot_worker"), found.episode, TODAY, {})
    session.expire_all()
    episode = service.load_episode(session, physician, found.episode.id)
    _, planned = service.close_episode(
        session,
        physician,
        rules,
        catalogue_of(app),
        episode.id,
        CloseEpisode(outcome="treatment_completed", version=episode.version),
    )
    after = classify.classify(session, physician, rules, applicant.id)
    return held, after, planned


def test_uk_issues_no_certificate_while_tb_is_confirmed(
    app: Flask, session: Session, world: World
) -> None:
    """BRIEF 2.1: certificate not issued, reason confirmed or suspected TB [C S25]; after
    treatment the applicant is re-screened [S S26c], so treatment alone issues nothing."""
    held, after, planned = _treated(app, session, world, "GB", "student")
    assert held.outcomes["tb_certificate"]["values"] == ["not_issued"]
    assert held.outcomes["tb_certificate"]["reason"] == "confirmed_or_suspected_tb"
    assert after.outcomes["tb_certificate"]["values"] == ["not_issued"]
    assert planned.decision.status in ("not_cleared", "travel_hold")


def test_australia_defers_until_treated_then_takes_a_health_undertaking(
    app: Flask, session: Session, world: World
) -> None:
    """BRIEF 4.1: active TB -> visa deferred until treated; then a health undertaking (Form 815),
    report within 28 days [C S29f2]."""
    held, after, planned = _treated(app, session, world, "AU", "humanitarian")
    assert held.outcomes["tb_undertaking"]["values"] == ["deferred_until_treated"]
    assert after.outcomes["tb_undertaking"]["values"] == ["health_undertaking"]
    assert after.outcomes["tb_undertaking"]["report_within_days"] == 28
    assert "tb_undertaking:health_undertaking" in planned.decision.conditions


def test_canada_puts_treated_tb_under_medical_surveillance(
    app: Flask, session: Session, world: World
) -> None:
    """BRIEF 3: active TB treated before admissibility, then surveillance: report within 30
    days, 7 for urgent or complex cases [C S28e, S28h, S28i; S S28k]. Nobody has said whether
    this case is urgent, so the shorter deadline applies and the outcome says what it awaits
    (tests/rules/test_reporting_tiers.py covers 30 and 7 once the physician has said)."""
    held, after, planned = _treated(app, session, world, "CA", "refugee")
    assert held.outcomes["medical_surveillance"]["values"] != ["medical_surveillance"]
    assert after.outcomes["medical_surveillance"]["values"] == ["medical_surveillance"]
    assert after.outcomes["medical_surveillance"]["report_within_days"] == 7
    assert after.outcomes["medical_surveillance"]["report_awaiting"]
    assert planned.decision.status in ("cleared", "cleared_with_conditions")


def test_the_us_class_a_holds_travel_until_treatment_completes(
    app: Flask, session: Session, world: World
) -> None:
    """BRIEF 1.3: Class A is not cleared until treatment is completed under DOT, then B0
    [C S2, S3]. A lost-to-follow-up outcome leaves Class A standing."""
    applicant = tb_patient(session, app, world)
    physician, rules, catalogue = world.actor("panel_physician"), rules_of(app), catalogue_of(app)
    finish_other_steps(session, app, world, applicant)
    begun = TODAY - dt.timedelta(days=90)
    found = start(session, app, world, applicant, start_date=begun, diagnosed_on=begun)
    from pmha.tb_dot import demo

    demo.generate_doses(session, world.actor("dot_worker"), found.episode,
                        begun + dt.timedelta(days=9), {})  # fmt: skip
    session.expire_all()
    episode = service.load_episode(session, physician, found.episode.id)
    _, planned = service.close_episode(
        session,
        physician,
        rules,
        catalogue,
        episode.id,
        CloseEpisode(outcome="lost_to_follow_up", version=episode.version),
    )
    assert planned.decision.status in ("not_cleared", "travel_hold")
    after = classify.classify(session, physician, rules, applicant.id)
    assert after.outcomes["tb_class"]["values"] == ["class_a"]
