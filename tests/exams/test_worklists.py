"""Worklists that lead somewhere (issue 18): the radiology list shows only studies waiting for
a reading; due dates come from the plan or are worked out from the departure (sputum culture
8 weeks before, a live vaccine not within 4 weeks of departure: BRIEF §1.6); the nurse's list
includes today's TB doses under DOT; Today shows how many wait on each list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pmha.exams import radiology, worklists
from pmha.exams.commands import XrayRead
from pmha.tb_dot import service as tb
from pmha.tb_dot.commands import StartEpisode
from pmha.workflow.lists import step_due
from pmha.workflow.models import Step
from tests.conftest import login
from tests.exams import dicom_factory
from tests.factories import applicant_data, make_case
from tests.tb_dot.helpers import catalogue_of, episode_data

TODAY = dt.date.today()


@pytest.fixture()
def rules(app: Any) -> Any:
    return app.extensions["pmha.rules"]


def _person(session: Any, world: Any, who: str = "nurse", **data: Any) -> Any:
    applicant = make_case(session, world.actor(who), principal=applicant_data(**data)).applicants[0]
    session.commit()
    return applicant


def test_due_from_the_plan_else_from_the_departure() -> None:
    departure = TODAY + dt.timedelta(days=90)
    assert step_due(Step(code="sputum_culture"), departure) == (
        departure - dt.timedelta(days=56), "departure",
    )  # fmt: skip
    assert step_due(Step(code="vaccination_review"), departure)[0] == departure - dt.timedelta(
        days=28
    )
    assert step_due(Step(code="igra", due_by=TODAY), departure) == (TODAY, "plan")
    assert step_due(Step(code="igra"), None) == (None, "")


def test_radiology_lists_only_unread_studies_of_my_sites(
    session: Any, world: Any, rules: Any, app: Any, tmp_path: Any
) -> None:
    reader = world.actor("radiologist")
    storage = tmp_path
    mine = _person(session, world)
    read_one = _person(session, world, family_name="Readalready", dob="1990-05-05")
    waiting = radiology.upload(session, reader, mine.id, dicom_factory.make(), storage)
    image = dicom_factory.of_person("READALREADY^OMAR", birth_date="19900505")
    done = radiology.upload(session, reader, read_one.id, image, storage)
    radiology.read(session, reader, rules, done.id, XrayRead(findings=[]))
    rows = worklists.xrays_to_read(session, reader)
    assert [r.study.id for r in rows] == [waiting.id]
    assert rows[0].due is not None and rows[0].due_from in ("plan", "departure")
    assert worklists.count(session, reader, "exams.xray_worklist", TODAY) == 1
    # Another site's reader sees none of these.
    assert worklists.xrays_to_read(session, world.actor("foreign")) == []


def test_today_shows_counts_and_the_nurse_list_shows_due_dates_and_dot(
    client: Any, signed_in: Any, session: Any, world: Any, app: Any
) -> None:
    patient = _person(session, world, family_name="Dotpatient", dob="1979-09-09")
    tb.start_episode(
        session,
        world.actor("panel_physician"),
        catalogue_of(app),
        patient.id,
        StartEpisode(
            **episode_data(
                start_date=TODAY - dt.timedelta(days=3), diagnosed_on=TODAY - dt.timedelta(days=5)
            )
        ),
    )
    session.commit()
    signed_in("nurse")
    today = client.get("/").text
    assert 'class="count-pill' in today and "waiting" in today
    nurse = client.get("/worklists/nurse").text
    assert "TB doses to observe today" in nurse and "Dotpatient" in nurse
    assert "Record dose" in nurse
    doctor = app.test_client()
    login(doctor, world.users["panel_physician"].username)
    physician = doctor.get("/worklists/physician").text
    assert "Dotpatient" in physician
    assert "worked out from the departure" in physician or "by the plan" in physician
    assert '<span class="muted">—</span></td>' not in physician
