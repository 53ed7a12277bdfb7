"""The UK TB clearance certificate: the reason X-ray not taken in the UK's words, and the sputum
results when sputum replaced the X-ray (issue 15).

Sources (BRIEF 2.1): children under 11 are screened without an X-ray, or with the X-ray OR three
sputum samples when they have symptoms, TB history or a recent contact [S25, S26b]; the UK app
records "Child (under 11 years)" and "Pregnant" as reasons X-ray not taken [S25]; not-issued
reasons "Confirmed or suspected TB", "Testing postponed" [S25]; 3 months after a close contact,
issued on the screening date when no X-ray was taken [S25].
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.core.audit import AuditEvent
from pmha.core.db import utcnow
from pmha.core.errors import Conflict
from pmha.travel import tb_certificate as tb
from pmha.workflow import service
from pmha.workflow.commands import FactsUpdate, Move
from pmha.workflow.models import StepState
from tests.factories import World, applicant_data, make_case
from tests.settle import settle_as_owner

pytestmark = pytest.mark.usefixtures("in_app")
FLAGS_NO = {
    "tb_history": False,
    "tb_symptoms": False,
    "known_hiv": False,
    "extrapulmonary_tb": False,
    "complex_condition": False,
}


def _child(session: Session, world: World, rules: Any, **facts: Any) -> Any:
    """A UK-bound child of 10 years 364 days on the exam date (today) [S25: under 11]."""
    today = utcnow().date()
    born = date(today.year - 11, today.month, today.day) + timedelta(days=1)
    case = make_case(
        session,
        world.actor("nurse"),
        destination="GB",
        principal=applicant_data(dob=born.isoformat(), sex="female", given_names="Leila"),
    )
    applicant = case.applicants[0]
    data = {"exam_date": today, "pregnant": False, **FLAGS_NO, **facts}
    service.set_facts(
        session, world.actor("panel_physician"), rules, applicant.id, FactsUpdate(**data)
    )
    return applicant


def _not_done(
    session: Session,
    world: World,
    rules: Any,
    applicant: Any,
    reason: str,
    code: str = "chest_xray",
) -> None:
    """Mark a step not done, as the role that records it would (X-ray: the radiologist)."""
    found = service.current(session, world.actor("panel_physician"), rules, applicant.id)
    step = next(s for s in found.steps if s.code == code)
    who = "radiologist" if code == "chest_xray" else "panel_physician"
    service.transition(
        session,
        world.actor(who),
        rules,
        step.id,
        Move(to=StepState.NOT_DONE, not_done_reason=reason, version=step.version),
    )


def _result(session: Session, world: World, rules: Any, applicant: Any, code: str, value: str):
    data = {"code": code, "value": value, "date": utcnow().date()}
    settle_as_owner(session, world.actor("panel_physician"), rules, applicant.id, data)


def _cert(session: Session, world: World, rules: Any, applicant: Any) -> tb.TbCertificate:
    me = world.actor("panel_physician")
    return tb.tb_certificate(session, me, rules, applicant.id, utcnow().date())


def test_a_child_without_reason_for_tb_reads_child_under_11(session, world, rules):
    """[S25] BRIEF 2.1: no X-ray under 11: "Child (under 11 years)" on the certificate."""
    applicant = _child(session, world, rules, tb_contact=False)
    body = tb.as_dict(_cert(session, world, rules, applicant))
    why = body["chest_xray"]["reason_not_taken"]
    assert body["chest_xray"]["taken"] is False
    assert why["words"] == "Child (under 11 years)"
    assert why["code"] == "under_age_limit" and why["implied"] is True
    assert why["source"] == ["S25"]


def test_a_child_contact_by_sputum_gets_the_certificate_with_the_sputum(
    session, world, rules, tmp_path
):
    """[S25, S26b] BRIEF 2.1: a child contact whose X-ray is not taken gives three sputum
    samples; negative smears and cultures settle the X-ray and the certificate is issued for 3
    months from the screening date, showing the reason and the sputum results."""
    applicant = _child(session, world, rules, tb_contact=True)
    _not_done(session, world, rules, applicant, "under_age_limit")
    pending = _cert(session, world, rules, applicant)
    assert pending.status == "pending"
    assert pending.reason_words == "Child (under 11 years)"
    for code, value in [
        ("medical_history", "completed"),
        ("physical_exam", "normal"),
        ("sputum_smear", "negative"),
        ("sputum_culture", "negative"),
    ]:
        _result(session, world, rules, applicant, code, value)
    before = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    cert = _cert(session, world, rules, applicant)
    session.flush()
    assert cert.status == "issued", cert
    assert cert.final is True
    assert cert.issue_date == utcnow().date()
    today = utcnow().date()
    assert cert.valid_until is not None and cert.valid_until > today
    assert cert.valid_until <= today + timedelta(days=92)  # 3 months after a contact [S25]
    assert cert.reason_words == "Child (under 11 years)"
    assert cert.route and "gastric lavage" in cert.route
    assert [(c, v) for c, v, _ in cert.sputum] == [
        ("sputum_smear", "negative"),
        ("sputum_culture", "negative"),
    ]
    assert cert.sputum_count == 3
    body = tb.as_dict(cert)
    assert body["status_words"] == "Issued"
    assert body["alternative_route"] == cert.route
    # the read is audited (workflow read and certificate read) [STYLE: every read audited]
    session.commit()
    assert (session.scalar(select(func.count()).select_from(AuditEvent)) or 0) > before
    text = _pdf_text(tb.render_pdf(cert, "Test centre"), tmp_path)
    assert "Reason X-ray not taken" in text
    assert "Child (under 11 years)" in text
    assert "negative" in text and "Culture" in text


def test_a_child_whose_xray_and_sputum_are_postponed_is_not_issued(session, world, rules):
    """[S25, S26b] BRIEF 2.1: nothing taken: not issued, "Testing postponed"."""
    applicant = _child(session, world, rules, tb_contact=True)
    _not_done(session, world, rules, applicant, "under_age_limit")
    _not_done(session, world, rules, applicant, "under_age_limit", "sputum_smear")
    _not_done(session, world, rules, applicant, "under_age_limit", "sputum_culture")
    cert = _cert(session, world, rules, applicant)
    assert cert.status == "not_issued"
    assert cert.status_words == "Not issued: Testing postponed"
    assert cert.final is False  # it stands until the postponed tests are done


def test_a_declined_xray_reads_other_with_our_words(session, world, rules):
    """[S25] BRIEF 2.1: the UK's third reason is "Other" with further details."""
    applicant = _child(session, world, rules, tb_symptoms=True)
    _not_done(session, world, rules, applicant, "declined")
    cert = _cert(session, world, rules, applicant)
    assert cert.reason_words == "Other: The applicant declined the test"


def test_only_a_uk_applicant_has_the_pdf(session, world, rules):
    """BRIEF 2.1: the TB clearance certificate is the UK's; elsewhere the PDF is refused."""
    case = make_case(session, world.actor("nurse"))  # US
    cert = _cert(session, world, rules, case.applicants[0])
    with pytest.raises(Conflict):
        tb.render_pdf(cert, "Test centre")
    assert tb.as_dict(cert)["destination"] == "US"


def test_the_api_gives_the_json(client, session, world, rules):
    """The JSON route: the reason X-ray not taken in the UK's words [S25]."""
    applicant = _child(session, world, rules, tb_contact=False)
    session.commit()
    response = client.get(
        f"/api/v1/applicants/{applicant.id}/tb-certificate",
        headers=world.auth("panel_physician"),
    )
    assert response.status_code == 200
    assert response.json["chest_xray"]["reason_not_taken"]["words"] == "Child (under 11 years)"


def _pdf_text(pdf: bytes, work: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: run scripts/install-system-deps.sh (poppler-utils)")
    path = work / "tb.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


# --- the pages: the physician's X-ray step and the member's clearance -------------------------


@pytest.fixture()
def as_role(app: Any, world: World, connection: Any) -> Any:
    from tests.conftest import login

    def sign_in(role: str) -> Any:
        client = app.test_client()
        login(client, world.users[role].username).close()
        return client

    return sign_in


def test_the_xray_step_offers_the_uk_words_and_the_sputum_route(session, world, rules, as_role):
    """[S25, S26b] BRIEF 2.1: the not-done reasons carry the certificate's words, and the form
    says the sputum route may still settle the child's X-ray."""
    from tests.workflow.test_pages import page_of

    applicant = _child(session, world, rules, tb_contact=True)
    session.commit()
    page = page_of(as_role("radiologist"), f"/cases/{applicant.case_id}/workflow")
    assert "(recorded as “Child (under 11 years)”)" in page
    assert "(recorded as “Pregnant”)" in page
    assert "it may still be settled by three sputum samples" in page
    assert "gastric lavage" in page


def test_a_not_done_xray_shows_its_reason_on_the_clearance_page(session, world, rules, as_role):
    """[S25] BRIEF 2.1: the step and the member's UK TB certificate line show the reason."""
    from tests.workflow.test_pages import page_of

    applicant = _child(session, world, rules, tb_contact=True)
    _not_done(session, world, rules, applicant, "under_age_limit")
    session.commit()
    page = page_of(as_role("panel_physician"), f"/cases/{applicant.case_id}/workflow")
    assert "the destination records it as “Child (under 11 years)”" in page
    assert "Reason X-ray not taken: Child (under 11 years)" in page
    assert "UK TB certificate:</strong> Not decided yet" in page


def _booked_child(session: Session, world: World, rules: Any) -> str:
    from tests.travel.helpers import booked, departure

    applicant = _child(session, world, rules, tb_contact=False)
    dep = departure(session, world, destination="GB")
    booked(session, world, dep, applicant.case)
    session.commit()
    return f"/departures/{dep.id}/travellers/{applicant.id}"


@pytest.mark.parametrize(("role", "shown"), [("panel_physician", True), ("operations", False)])
def test_the_traveller_page_shows_the_uk_tb_certificate(
    session, world, rules, as_role, role, shown
):
    """[S25] BRIEF 2.1: the departure's traveller page shows the reason X-ray not taken to
    those who may read exams, and nothing of it to operations."""
    from tests.workflow.test_pages import page_of

    page = page_of(as_role(role), _booked_child(session, world, rules))
    assert ("Reason X-ray not taken: Child (under 11 years)" in page) is shown
    assert ('id="tb-title"' in page) is shown
