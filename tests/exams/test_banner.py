"""The patient banner on every applicant page (issue 18, "Patient banner"): name in both
scripts, age, sex, case number, destination and programme, and the alerts a clinician must see
before acting (pregnancy, allergies, TB class, live-vaccine contraindication, clearance). Only
what is recorded is shown; pregnancy and allergies say "not recorded" when unknown. The read is
audited. Live-vaccine contraindications: BRIEF §7.4 (pregnancy, immunosuppression [C S34])."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from pmha.core.audit import AuditEvent
from pmha.exams import banner as banners
from pmha.exams import service as exams
from pmha.exams.commands import SectionDraft
from pmha.exams.models import SectionKind
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from tests.factories import applicant_data, make_case

PAGES = ("exam", "labs", "xrays", "vaccinations", "tb")


@pytest.fixture()
def rules(app: Any) -> Any:
    return app.extensions["pmha.rules"]


@pytest.fixture()
def woman(session: Any, world: Any, rules: Any) -> Any:
    data = applicant_data(sex="female", given_names="Leila", given_names_original="ليلى")
    applicant = make_case(session, world.actor("nurse"), principal=data).applicants[0]
    session.commit()
    return applicant


def test_unknowns_are_said_not_recorded(session: Any, world: Any, woman: Any) -> None:
    found = banners.banner(session, world.actor("nurse"), woman)
    words = [a.words for a in found.alerts]
    assert "Pregnancy: not recorded" in words
    assert "Allergies: not recorded" in words
    assert found.native_name == "ليلى حداد"
    assert found.name == "Haddad, Leila"
    assert not any(w.startswith("No live vaccines") for w in words)


def test_pregnancy_and_allergies_alert(session: Any, world: Any, woman: Any, rules: Any) -> None:
    doctor = world.actor("panel_physician")
    workflow.set_facts(
        session, doctor, rules, woman.id, FactsUpdate(pregnant=True, gestation_weeks=20)
    )
    exams.save_draft(
        session,
        doctor,
        woman.id,
        SectionDraft(
            kind=SectionKind.MEDICAL_HISTORY, content={"allergies": "Penicillin"}, version=None
        ),
    )
    session.commit()
    found = banners.banner(session, world.actor("nurse"), woman)
    words = {a.words: a.tone for a in found.alerts}
    assert words["Pregnant, 20 weeks"] == "bad"
    assert words["Allergies: Penicillin"] == "bad"
    assert words["No live vaccines: pregnancy"] == "bad"
    assert found.clearance is not None


def test_a_man_is_not_asked_about_pregnancy(session: Any, world: Any) -> None:
    man = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    found = banners.banner(session, world.actor("nurse"), man)
    assert not any("regnan" in a.words for a in found.alerts)


@pytest.mark.parametrize("tail", PAGES)
def test_every_applicant_page_shows_it(
    client: Any, signed_in: Any, session: Any, woman: Any, tail: str
) -> None:
    signed_in("panel_physician")
    page = client.get(f"/cases/{woman.case_id}/applicants/{woman.id}/{tail}")
    assert page.status_code == 200, page.text[:500]
    assert 'class="patient-banner"' in page.text
    assert "<strong>Haddad</strong>, Leila" in page.text and "ليلى حداد" in page.text
    assert "Pregnancy: not recorded" in page.text
    assert woman.case.case_number in page.text
    read = session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "patient_banner", AuditEvent.record_id == str(woman.id)
        )
    ).all()
    assert read


def test_the_photo_is_shown_inline(session: Any, world: Any, woman: Any) -> None:
    import io

    from PIL import Image

    from pmha.cases import photos

    raw = io.BytesIO()
    Image.new("RGB", (300, 400), (120, 90, 60)).save(raw, format="JPEG")
    photos.set_photo(session, world.actor("nurse"), woman.id, raw.getvalue(), "image/jpeg")
    found = banners.banner(session, world.actor("nurse"), woman)
    assert found.photo is not None and found.photo.startswith("data:image/jpeg;base64,")


def test_known_hiv_forbids_live_vaccines(session: Any, world: Any, rules: Any) -> None:
    man = make_case(
        session, world.actor("nurse"), principal=applicant_data(dob="1970-07-07")
    ).applicants[0]
    workflow.set_facts(
        session, world.actor("panel_physician"), rules, man.id, FactsUpdate(known_hiv=True)
    )
    found = banners.banner(session, world.actor("nurse"), man)
    assert "No live vaccines: known HIV infection" in [a.words for a in found.alerts]
