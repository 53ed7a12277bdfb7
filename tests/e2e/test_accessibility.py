"""Accessibility checked with axe-core on one page of each type, each as the demo role that uses
it (issue 18: "axe-core (from the npm registry) runs in the browser tests on every page type: no
serious or critical violations"). axe-core's rules follow WCAG 2.1 A/AA and Deque's best
practices; the impact levels are axe's own (axe-core's doc/rule-descriptions.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pmha.cases.models import Applicant, FamilyCase, Site
from pmha.core.db import database
from pmha.exams.radiology import XrayStudy
from pmha.tb_dot.models import TbEpisode
from pmha.travel.models import Departure
from tests.e2e.conftest import LiveServer, axe_violations, fresh_app, serving

pytestmark = pytest.mark.e2e


@dataclass
class Demo:
    live: LiveServer
    passwords: dict[str, str]  # demo username -> password
    case: str  # a case of the demo, with its principal
    applicant: str
    tb_case: str  # an applicant in TB treatment
    tb_applicant: str
    departure: str | None  # a departure of the demo, for its board
    study: str | None  # a chest X-ray of the demo, for the viewer


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo centre (`pmha demo seed`, 4 families) served from a fresh database."""
    from pmha import demo as seed

    app = fresh_app(tmp_path_factory, "e2e-axe")
    var: Path = tmp_path_factory.mktemp("axe-var")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PMHA_VAR_DIR", str(var))  # the demo's passwords file goes here
        with app.app_context(), database(app).transaction() as session:
            storage = Path(app.extensions["pmha.config"].STORAGE_DIR)  # what the app serves
            created = seed.seed(session, families=4, rules=app.extensions["pmha.rules"],
                                storage=storage)  # fmt: skip
            assert created
            ist = select(Site.id).where(Site.code == "IST").scalar_subquery()  # the users' site
            case = session.scalars(
                select(FamilyCase).where(FamilyCase.site_id == ist).order_by(FamilyCase.case_number)
            ).first()
            assert case is not None and case.principal is not None
            episode = session.scalars(
                select(TbEpisode)
                .join(Applicant, Applicant.id == TbEpisode.applicant_id)
                .join(FamilyCase)
                .where(FamilyCase.site_id == ist)
            ).first()
            assert episode is not None
            tb = session.get(Applicant, episode.applicant_id)
            assert tb is not None
            ids = str(case.id), str(case.principal.id), str(tb.case_id), str(tb.id)
            departure = session.scalar(select(Departure.id).where(Departure.site_id == ist))
            study = session.scalar(
                select(XrayStudy.id)
                .join(Applicant, Applicant.id == XrayStudy.applicant_id)
                .join(FamilyCase)
                .where(FamilyCase.site_id == ist)
            )
            more = (str(departure) if departure else None, str(study) if study else None)
    with serving(app, "e2e-axe") as server:
        yield Demo(server, {u: p for u, _, p in created}, *ids, *more)


def _sign_in(page: Page, demo: Demo, username: str) -> None:
    page.context.clear_cookies()
    page.goto(demo.live("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(demo.passwords[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()


def test_every_page_type_has_no_serious_or_critical_violation(
    page: Page, demo: Demo, axe_source: str, shoot
) -> None:
    record = f"/cases/{demo.case}/applicants/{demo.applicant}"
    # (what, who, where): one page of each type, as the role whose day it belongs to
    pages = [
        ("Today", "nurse", "/"),
        ("case", "nurse", f"/cases/{demo.case}"),
        ("member", "nurse", f"/cases/{demo.case}/members/new"),
        ("vaccination", "nurse", f"{record}/vaccinations"),
        ("documents (Arabic)", "nurse", f"{record}/documents?lang=ar"),
        ("exam", "physician", f"{record}/exam"),
        ("workflow", "physician", f"/cases/{demo.case}/workflow"),
        ("labs", "labtech", f"{record}/labs"),
        ("X-ray list", "radiologist", "/worklists/radiology/studies"),
        ("DOT", "dotworker", "/dot"),
        ("TB treatment", "dotworker", f"/cases/{demo.tb_case}/applicants/{demo.tb_applicant}/tb"),
        ("departures", "operations", "/departures"),
        *(
            [("departure board", "operations", f"/departures/{demo.departure}")]
            if demo.departure
            else []
        ),
        ("vaccination queue", "nurse", "/vaccinations"),
        ("lab worklist", "labtech", "/worklists/lab/orders"),
        *([("X-ray viewer", "radiologist", f"/xrays/{demo.study}")] if demo.study else []),
        ("operations worklist", "operations", "/worklists/operations"),
        ("arrivals", "authority", "/arrivals"),
        ("audit", "auditor", "/audit"),
        ("users", "admin", "/admin/users"),
    ]
    found: list[str] = []
    page.goto(demo.live("/login"))
    found += [f"login: {p}" for p in axe_violations(page, axe_source)]
    who = None
    for what, username, path in pages:
        if username != who:
            _sign_in(page, demo, username)
            who = username
        answer = page.goto(demo.live(path))
        assert answer is not None and answer.status == 200, f"{what}: {path}"
        found += [f"{what}: {p}" for p in axe_violations(page, axe_source)]
        if what.startswith("documents"):
            expect(page.locator('[lang="ar"][dir="rtl"] h1')).to_have_text("وثائقك")
            shoot("documents-in-arabic")
    assert not found, "serious or critical accessibility violations:\n" + "\n".join(found)


def test_the_check_finds_what_it_should(page: Page, demo: Demo, axe_source: str) -> None:
    """The checker itself: an unlabelled field and an image without alt text are reported."""
    page.goto(demo.live("/login"))
    page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML('beforeend',
            '<input type="text" name="x"><img src="/static/none.png">')"""
    )
    found = " ".join(axe_violations(page, axe_source))
    assert "label (critical)" in found and "image-alt (critical)" in found
