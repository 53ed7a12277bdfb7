"""Issue 14, safe defaults: the questions before a live vaccine start unanswered and must be
answered (API and page), a pregnant applicant's MMR needs the physician's reason, an answer that
differs from the clinical facts must be explained, and a dose is confirmed on a summary.

Sources: BRIEF §7.4, CDSi contraindications for MMR and varicella include pregnancy and
immunosuppression (HIV/AIDS severely immunocompromised, immunosuppressive therapy...) [C S34];
§1.5, pregnancy is a contraindication for live vaccines [C S13a]; §4.1, the Australian DHC gives
no MMR in pregnancy [C S29f]. A refusal is not a waiver: §1.5 [S13f].
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import ValidationFailed
from pmha.vaccines import records
from pmha.vaccines.commands import NewVaccination
from pmha.vaccines.models import RecordKind, VaccinationRecord, VaccineLot
from pmha.workflow.models import ClinicalFacts
from tests.conftest import csrf_token
from tests.factories import World
from tests.vaccines.test_records import _applicant, _lot


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VaccinationRecord)) or 0


def _left(session: Session, lot: VaccineLot) -> int:
    session.expire_all()
    found = session.get(VaccineLot, lot.id)
    assert found is not None
    return found.quantity_left


def _mmr_body(lot: VaccineLot, **answers: Any) -> dict[str, Any]:
    return {
        "kind": "administered",
        "cvx": "03",
        "lot_id": str(lot.id),
        "given_at": (utcnow() - dt.timedelta(minutes=2)).isoformat(),
        "amount": "0.5",
        "unit": "mL",
        "route": "SC",
        "body_site": "LA",
        **answers,
    }


def _facts(session: Session, applicant: Applicant, **flags: Any) -> None:
    session.add(ClinicalFacts(applicant_id=applicant.id, **flags))
    session.flush()


def _url(applicant: Applicant) -> str:
    return f"/cases/{applicant.case_id}/applicants/{applicant.id}/vaccinations"


# --- the API: one POST, the answers required for a live vaccine -----------------------------------


def test_a_live_dose_without_the_screening_answers_is_refused_by_the_api(
    client: FlaskClient, session: Session, nurse: Actor, world: World
) -> None:
    """[C S34], [C S13a]: the questions have no default; nothing is written, no dose taken,
    and the audit chain still verifies."""
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    session.commit()
    before, left = _count(session), _left(session, lot)
    response = client.post(
        f"/api/v1/applicants/{applicant.id}/vaccinations",
        json=_mmr_body(lot),
        headers=world.auth("nurse"),
    )
    assert response.status_code == 422, response.text
    body = response.get_json()
    assert body["code"] == "vaccines.screening_unanswered"
    assert "is the applicant immunosuppressed" in body["errors"]["immunosuppressed"][0]
    assert "is the applicant pregnant" in body["errors"]["pregnant"][0]
    assert "Layla" not in response.text
    assert _count(session) == before and _left(session, lot) == left
    assert audit.verify(session).ok


def test_a_live_dose_with_both_answers_is_recorded_with_them(
    client: FlaskClient, session: Session, nurse: Actor, world: World
) -> None:
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    session.commit()
    response = client.post(
        f"/api/v1/applicants/{applicant.id}/vaccinations",
        json=_mmr_body(lot, immunosuppressed=False, pregnant=False),
        headers=world.auth("nurse"),
    )
    assert response.status_code == 201, response.text
    made = response.get_json()
    assert (made["immunosuppressed"], made["pregnant"]) == (False, False)


def test_a_male_applicant_is_not_asked_about_pregnancy(session: Session, nurse: Actor) -> None:
    """Sex-specific questions are not asked of a male applicant (issue 14); immunosuppression
    still is [C S34]."""
    applicant = _applicant(session, nurse, sex="male")
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    with pytest.raises(ValidationFailed) as caught:
        records.record_vaccination(
            session, nurse, applicant.id, NewVaccination(**{**_mmr_fields(lot), "cvx": "03"})
        )
    assert set(caught.value.errors or {}) == {"immunosuppressed"}
    made = records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**{**_mmr_fields(lot), "immunosuppressed": False}),
    )
    assert made.pregnant is None


def _mmr_fields(lot: VaccineLot, **extra: Any) -> dict[str, Any]:
    return {
        "kind": RecordKind.ADMINISTERED,
        "cvx": lot.cvx,
        "lot_id": lot.id,
        "given_at": utcnow() - dt.timedelta(minutes=2),
        "amount": "0.5",
        "unit": "mL",
        "route": "SC",
        "body_site": "LA",
        **extra,
    }


def test_an_inactivated_vaccine_asks_nothing(session: Session, nurse: Actor) -> None:
    """The questions are those of live vaccines (Tdap is not live, BRIEF §7.1/§7.4)."""
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    tdap = _lot(session, nurse)
    made = records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**{**_mmr_fields(tdap), "route": "IM", "body_site": "LD"}),
    )
    assert made.immunosuppressed is None and made.pregnant is None


# --- pregnancy: the clinical facts and the answer -------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        ({"pregnant": True}, {"pregnancy_override"}),
        # "No" against the clinical facts' "pregnant": explain it, or the facts stand.
        ({"pregnant": False}, {"screening_note", "pregnancy_override"}),
    ],
    ids=["answered_yes", "answered_no_unexplained"],
)
def test_a_pregnant_applicants_mmr_is_refused_without_the_physicians_reason(
    session: Session, nurse: Actor, answers: dict[str, Any], fields: set[str]
) -> None:
    """[C S13a] pregnancy is a contraindication for live vaccines; [C S34] CDSi MMR
    contraindications; [C S29f] no MMR in pregnancy at the Australian DHC."""
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    _facts(session, applicant, pregnant=True)
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    before = _count(session)
    with pytest.raises(ValidationFailed) as caught:
        records.record_vaccination(
            session,
            nurse,
            applicant.id,
            NewVaccination(**_mmr_fields(lot, immunosuppressed=False, **answers)),
        )
    assert set(caught.value.errors or {}) == fields
    assert _count(session) == before


def test_a_pregnant_applicants_mmr_with_the_physicians_reason_is_recorded(
    session: Session, nurse: Actor
) -> None:
    """As today's immunosuppression override: the physician's reason is kept on the record."""
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    _facts(session, applicant, pregnant=True)
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    reason = "rubella outbreak declared; benefit judged to outweigh the risk"
    made = records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(
            **_mmr_fields(lot, immunosuppressed=False, pregnant=True, pregnancy_override=reason)
        ),
    )
    assert (made.pregnant, made.pregnancy_override) == (True, reason)


def test_a_no_that_differs_from_the_facts_is_accepted_when_explained(
    session: Session, nurse: Actor
) -> None:
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    _facts(session, applicant, pregnant=True)
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    made = records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(
            **_mmr_fields(
                lot,
                immunosuppressed=False,
                pregnant=False,
                screening_note="delivered on 1 December",
            )
        ),
    )
    assert (made.pregnant, made.screening_note) == (False, "delivered on 1 December")


def test_a_yes_against_facts_that_say_not_pregnant_needs_a_note_and_the_reason(
    session: Session, nurse: Actor
) -> None:
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    _facts(session, applicant, pregnant=False)
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    with pytest.raises(ValidationFailed) as caught:
        records.record_vaccination(
            session,
            nurse,
            applicant.id,
            NewVaccination(**_mmr_fields(lot, immunosuppressed=False, pregnant=True)),
        )
    assert set(caught.value.errors or {}) == {"screening_note", "pregnancy_override"}


def test_immunosuppressed_yes_needs_the_physicians_reason(session: Session, nurse: Actor) -> None:
    """[C S34]: immunosuppression contraindicates MMR and varicella."""
    applicant = _applicant(session, nurse, sex="male")
    lot = _lot(session, nurse, cvx="21", mvx="MSD")
    with pytest.raises(ValidationFailed) as caught:
        records.record_vaccination(
            session, nurse, applicant.id, NewVaccination(**_mmr_fields(lot, immunosuppressed=True))
        )
    assert caught.value.code == "vaccines.live_in_immunosuppression"


# --- the page: the summary, the questions unanswered, the error next to the question --------------


def test_the_summary_of_a_live_vaccine_shows_the_dose_and_asks_with_no_default(
    session: Session, nurse: Actor, signed_in: Any
) -> None:
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    _facts(session, applicant, pregnant=True, gestation_weeks=20)
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    session.commit()
    client: FlaskClient = signed_in("nurse")
    page = client.get(f"{_url(applicant)}/confirm?lot_id={lot.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for shown in ("MMR", lot.lot, f"expires {lot.expiry}", "Given by", "Test nurse",
                  applicant.family_name.upper(), f"born {applicant.dob}", "Live vaccine",
                  "Confirm and record"):  # fmt: skip
        assert shown in html, shown
    assert re.search(r'<option value="SC" selected>', html)  # MMR: subcutaneous
    assert re.search(r'<option value="LA" selected>', html)
    assert "Is the applicant immunosuppressed" in html and "Is the applicant pregnant?" in html
    assert "The clinical facts record: <strong>pregnant</strong>, 20 weeks" in html
    assert 'type="radio" name="immunosuppressed" value="no" checked' not in html
    assert not re.search(r'type="radio"[^>]*checked', html), "a screening answer has a default"


def test_the_summary_does_not_ask_a_male_applicant_about_pregnancy(
    session: Session, nurse: Actor, signed_in: Any
) -> None:
    applicant = _applicant(session, nurse, sex="male")
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    session.commit()
    html = signed_in("nurse").get(f"{_url(applicant)}/confirm?lot_id={lot.id}").text
    assert "Is the applicant immunosuppressed" in html
    assert 'name="pregnant"' not in html


def test_confirming_a_live_dose_without_answers_shows_the_error_next_to_the_question(
    session: Session, nurse: Actor, signed_in: Any
) -> None:
    applicant = _applicant(session, nurse, sex="female", given_names="Layla")
    lot = _lot(session, nurse, cvx="03", mvx="MSD")
    session.commit()
    client: FlaskClient = signed_in("nurse")
    summary = client.get(f"{_url(applicant)}/confirm?lot_id={lot.id}").text
    before, left = _count(session), _left(session, lot)
    answer = client.post(
        _url(applicant),
        data={"csrf_token": csrf_token(summary), "form": "confirm", "kind": "administered",
              "cvx": "03", "lot_id": str(lot.id), "given_at": "now", "amount": "0.50",
              "unit": "mL", "route": "SC", "body_site": "LA"},
    )  # fmt: skip
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert re.search(r'id="e-confirm-immunosuppressed">Answer the question', html)
    assert re.search(r'id="e-confirm-pregnant">Answer the question', html)
    assert "Confirm and record" in html  # still the summary, to answer and confirm
    assert _count(session) == before and _left(session, lot) == left
    assert audit.verify(session).ok

    done = client.post(
        _url(applicant),
        data={"csrf_token": csrf_token(html), "form": "confirm", "kind": "administered",
              "cvx": "03", "lot_id": str(lot.id), "given_at": "now", "amount": "0.50",
              "unit": "mL", "route": "SC", "body_site": "LA", "immunosuppressed": "no",
              "pregnant": "no"},
    )  # fmt: skip
    assert done.status_code == 302, done.text[:2000]
    assert _count(session) == before + 1


# --- refusals: their own record, shown in words ---------------------------------------------------


def test_a_refusal_is_shown_as_a_refusal_not_a_waiver(
    session: Session, nurse: Actor, signed_in: Any, app: Any
) -> None:
    """A refused vaccine is recorded and shown as a refusal with its date, and the required
    vaccine's row says it is not a waiver [S13f] (the review then needs the physician)."""
    from tests.vaccines.test_nurse import _planned

    rules = app.extensions["pmha.rules"]
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    today = utcnow().date()
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(kind=RecordKind.REFUSED, cvx="21", date=today, refusal_reason="03"),
    )
    session.commit()
    html = signed_in("nurse").get(_url(applicant)).text
    row = html[html.index('id="r-varicella"') :]
    row = row[: row.index("</tr>")]
    assert "Refused (not a waiver)" in row
    assert f"Refused by the applicant on {today.strftime('%-d %B %Y')}" in row
    assert "Waived" not in row
    assert f"Refused by the applicant on {today}" in html[html.index('id="history"') :]


def test_the_summary_without_a_lot_in_stock_goes_back_to_the_form(
    session: Session, nurse: Actor, signed_in: Any
) -> None:
    applicant = _applicant(session, nurse, sex="male")
    session.commit()
    before = _count(session)
    answer = signed_in("nurse").get(f"{_url(applicant)}/confirm?kind=administered")
    assert answer.status_code == 422
    assert "Choose a lot in this site&#39;s stock." in answer.text
    assert _count(session) == before
