"""The nurse's side of vaccination: the checks added at the point of giving and from the labs,
the requirements per destination with their waivers, the pages and the printable record."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.cases.models import Applicant
from pmha.core.auth import Actor
from pmha.core.errors import ValidationFailed
from pmha.exams import lab_service
from pmha.exams.commands import NewLabResult
from pmha.exams.labs import LabOrder, LabResult, OrderStatus
from pmha.rules import RuleBook
from pmha.vaccines import records, service
from pmha.vaccines.commands import NewVaccination
from pmha.vaccines.models import RecordKind, VaccinationRecord
from pmha.vaccines.record_pdf import render_record
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate
from pmha.workflow.models import ClinicalFacts
from tests.conftest import csrf_token
from tests.factories import World
from tests.vaccines.test_records import (
    TODAY,
    _applicant,
    _given,
    _historical,
    _lot,
    _rejected,
)


def _records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VaccinationRecord)) or 0


# --- checks at the point of giving ---------------------------------------------------------------


def test_mmr_and_mmrv_the_same_day_are_one_measles_dose_too_many(
    session: Session, nurse: Actor
) -> None:
    """Issue 6 'Bad input' (a second dose the same day) by antigen: MMRV (CVX 94) covers measles,
    mumps and rubella as MMR (CVX 03) does (CDSi supporting data cvxToAntigenMap [S34])."""
    applicant = _applicant(session, nurse)
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_given(_lot(session, nurse, "03", "MSD")))
    )
    mmrv = _lot(session, nurse, "94", "MSD")
    _rejected(session, nurse, applicant, _given(mmrv), "cvx", "vaccines.duplicate_dose")


def test_mmr_and_varicella_the_same_day_are_not_duplicates(session: Session, nurse: Actor) -> None:
    applicant = _applicant(session, nurse)
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_given(_lot(session, nurse, "03", "MSD")))
    )
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_given(_lot(session, nurse, "21", "MSD")))
    )


def test_a_live_vaccine_for_an_immunosuppressed_applicant_needs_a_physicians_reason(
    session: Session, nurse: Actor
) -> None:
    """BRIEF §7.4: CDSi contraindicates MMR and varicella in immunocompromise [C S34]; the
    screening answer is kept with the dose."""
    applicant = _applicant(session, nurse)
    mmr = _lot(session, nurse, "03", "MSD")
    data = _given(mmr, immunosuppressed=True)
    _rejected(
        session,
        nurse,
        applicant,
        data,
        "immunosuppression_override",
        "vaccines.live_in_immunosuppression",
    )
    made = records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**{**data, "immunosuppression_override": "CD4 650, approved"}),
    )
    assert made.immunosuppressed is True


def test_known_hiv_counts_as_immunosuppression_for_a_live_vaccine(
    session: Session, nurse: Actor
) -> None:
    applicant = _applicant(session, nurse)
    session.add(ClinicalFacts(applicant_id=applicant.id, known_hiv=True))
    session.flush()
    mmr = _lot(session, nurse, "03", "MSD")
    _rejected(
        session,
        nurse,
        applicant,
        _given(mmr),
        "immunosuppression_override",
        "vaccines.live_in_immunosuppression",
    )
    # not for an inactivated vaccine
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_given(_lot(session, nurse)))
    )


def test_an_oral_dose_needs_no_body_site(session: Session, nurse: Actor) -> None:
    applicant = _applicant(session, nurse)
    typhoid = _lot(session, nurse, "25", "PAX")
    data = {**_given(typhoid), "route": "PO"}
    del data["body_site"]
    made = records.record_vaccination(session, nurse, applicant.id, NewVaccination(**data))
    assert made.body_site is None


def test_a_tb_test_result_dated_within_28_days_after_a_live_vaccine_is_refused(
    session: Session, nurse: Actor, world: World, rules: RuleBook
) -> None:
    """BRIEF §7.4 and §1.6 from the labs' side: an IGRA collected 1-27 days after a live vaccine
    is refused, naming the vaccine and the first date a test counts [C S15]."""
    applicant = _applicant(session, nurse)
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**_historical("03", TODAY - dt.timedelta(days=10))),
    )
    order = LabOrder(
        applicant_id=applicant.id,
        code="igra",
        status=OrderStatus.COLLECTED,
        collected_on=TODAY - dt.timedelta(days=2),
    )
    session.add(order)
    session.flush()
    lab = world.actor("lab_technician")
    with pytest.raises(ValidationFailed) as caught:
        lab_service.record_result(
            session,
            lab,
            rules,
            order.id,
            NewLabResult(specimen_number=order.accession, date=TODAY, details=QFT_NEGATIVE),
        )
    assert "CVX 03" in caught.value.errors["date"][0]
    assert session.scalar(select(func.count()).select_from(LabResult)) == 0
    assert order.status is OrderStatus.COLLECTED


# An IGRA's interpretation is derived from its values (country_rules/labs/assays.toml).
QFT_NEGATIVE = {"assay": "QFT-Plus", "nil": 0.1, "tb1": 0.1, "tb2": 0.1, "mitogen": 5.0}


def test_a_tb_test_the_same_day_as_a_live_vaccine_is_accepted(
    session: Session, nurse: Actor, world: World, rules: RuleBook
) -> None:
    applicant = _applicant(session, nurse)
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**_historical("03", TODAY - dt.timedelta(days=3))),
    )
    order = LabOrder(
        applicant_id=applicant.id,
        code="igra",
        status=OrderStatus.COLLECTED,
        collected_on=TODAY - dt.timedelta(days=3),
    )
    session.add(order)
    session.flush()
    lab = world.actor("lab_technician")
    lab_service.record_result(
        session,
        lab,
        rules,
        order.id,
        NewLabResult(specimen_number=order.accession, date=TODAY, details=QFT_NEGATIVE),
    )


# --- requirements per destination ----------------------------------------------------------------


def _planned(
    session: Session, actor: Actor, rules: RuleBook, destination: str, programme: str, **who: Any
) -> Applicant:
    from tests.factories import applicant_data, make_case

    case = make_case(
        session,
        actor,
        destination=destination,
        programme=programme,
        planned_departure=(TODAY + dt.timedelta(days=90)).isoformat(),
        principal=applicant_data(**who),
    )
    assert case.principal is not None
    workflow.set_facts(
        session,
        actor,
        rules,
        case.principal.id,
        FactsUpdate(
            **{
                "exam_date": TODAY,
                "tb_history": False,
                "tb_contact": False,
                "tb_symptoms": False,
                "known_hiv": False,
                "extrapulmonary_tb": False,
                **({"pregnant": False} if who.get("sex") == "female" else {}),
            }
        ),
    )
    return case.principal


def _by_vaccine(view: service.Overview) -> dict[str, Any]:
    return {r.vaccine: r for r in view.requirements}


def test_a_us_immigrant_adult_with_no_records_is_given_mmr_and_tdap_today(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """BRIEF §1.5: a US immigrant needs one dose of each age-appropriate vaccine [C S13a]."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    view = service.overview(session, nurse, rules, applicant.id, TODAY)
    found = _by_vaccine(view)
    assert found["Measles"].status == "give_today"
    assert found["Tetanus"].status == "give_today"
    assert not view.problems


def test_a_us_immigrant_with_one_valid_dose_meets_the_requirement(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    records.record_vaccination(
        session, nurse, applicant.id, NewVaccination(**_historical("03", dt.date(1996, 6, 1)))
    )
    found = _by_vaccine(service.overview(session, nurse, rules, applicant.id, TODAY))
    assert found["Measles"].status in ("done", "waived")
    assert found["Measles"].status != "give_today"


def test_a_refusal_is_not_a_waiver_and_leaves_the_requirement_open(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """Regression (issue 14): refused vaccines used to become "refused" waivers (and a religious
    exemption, NIP002 01, a religious/moral waiver), so a refused required vaccine read as
    settled. BRIEF §1.5: refusal of a required vaccine without waiver -> Class A [S13f]; the
    religious/moral waiver is USCIS's, on its own form [S13d]. Until the destination's
    vaccination outcome is modelled (issue 15), the requirement stays open and says why."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    refused = {"kind": RecordKind.REFUSED, "date": TODAY}
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**{**refused, "cvx": "03", "refusal_reason": "01"}),
    )
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(**{**refused, "cvx": "115", "refusal_reason": "03"}),
    )
    found = _by_vaccine(service.overview(session, nurse, rules, applicant.id, TODAY))
    for vaccine in ("Measles", "Tetanus"):
        assert (found[vaccine].status, found[vaccine].waiver) == ("refused", None)
        assert not found[vaccine].settled
        assert found[vaccine].refused_on == TODAY
        assert "(not a waiver)" in found[vaccine].reason.detail
    view = service.overview(session, nurse, rules, applicant.id, TODAY)
    assert not view.settled
    assert {"Measles", "Tetanus"} <= {r.vaccine for r in view.still_open()}


def test_a_us_refugee_is_required_no_vaccine(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """BRIEF §1.6: vaccination is not required of US refugees [C S15]."""
    applicant = _planned(session, nurse, rules, "US", "refugee", dob="1995-03-01")
    view = service.overview(session, nurse, rules, applicant.id, TODAY)
    assert view.requirements and {r.status for r in view.requirements} <= {"not_required", "waived"}
    assert not view.give_today()
    assert view.settled and not view.still_open()


def test_an_australian_refugee_is_given_mmr_at_the_departure_health_check(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """AU.toml: MMR at the departure health check for refugee and humanitarian entrants aged
    9 months to 55 years, not pregnant (BRIEF §3)."""
    applicant = _planned(session, nurse, rules, "AU", "refugee", dob="1995-03-01")
    found = _by_vaccine(service.overview(session, nurse, rules, applicant.id, TODAY))
    assert found["Measles"].status == "give_today"


def test_pregnancy_waives_mmr_as_contraindicated(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """BRIEF §1.5 (not medically appropriate: contraindicated, e.g. pregnancy and live vaccines)
    through CDSi's observation 007 (pregnant) [C S34]."""
    applicant = _planned(
        session,
        nurse,
        rules,
        "US",
        "immigrant",
        dob="1995-03-01",
        sex="female",
        given_names="Layla",
    )
    workflow.set_facts(
        session,
        nurse,
        rules,
        applicant.id,
        FactsUpdate(
            pregnant=True,
            gestation_weeks=20,
            version=session.get(ClinicalFacts, applicant.id).version,
        ),
    )
    found = _by_vaccine(service.overview(session, nurse, rules, applicant.id, TODAY))
    assert found["Measles"].status in ("waived", "not_required", "conditional")
    assert found["Measles"].status != "give_today"


def test_a_canadian_case_has_no_vaccine_to_give(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    """CA.toml requires no vaccine at the immigration medical exam: the forecast still shows."""
    applicant = _planned(session, nurse, rules, "CA", "immigrant", dob="1995-03-01")
    view = service.overview(session, nurse, rules, applicant.id, TODAY)
    assert not view.give_today()
    assert view.forecast is not None


def test_one_click_lots_serve_every_vaccine_that_covers_the_antigen(
    session: Session, nurse: Actor, rules: RuleBook
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    mmr = _lot(session, nurse, "03", "MSD")
    mmrv = _lot(session, nurse, "94", "MSD")
    _lot(session, nurse, "03", "MSD", expiry=TODAY - dt.timedelta(days=1))  # expired: not shown
    view = service.overview(session, nurse, rules, applicant.id, TODAY)
    assert {lot.id for lot in view.lots_for("Measles")} == {mmr.id, mmrv.id}
    assert [lot.id for lot in view.lots_for("Varicella")] == [mmrv.id]


# --- pages and the printable record ---------------------------------------------------------------


def _page(applicant: Applicant) -> str:
    return f"/cases/{applicant.case_id}/applicants/{applicant.id}/vaccinations"


def test_the_give_button_leads_to_a_summary_and_only_confirm_records(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    """Issue 14 (safe defaults): a dose is confirmed on a summary (vaccine, lot and expiry,
    dose, route, site, the person giving it, the applicant) before it is recorded."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    lot = _lot(session, nurse, "115", "SKB")
    client: FlaskClient = signed_in("nurse")
    page = client.get(_page(applicant))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Give today" in html and f"lot {lot.lot}" in html
    before = _records(session)
    summary = client.get(f"{_page(applicant)}/confirm?lot_id={lot.id}")
    assert summary.status_code == 200
    text = summary.get_data(as_text=True)
    assert "Check before you give: Tdap" in text
    assert lot.lot in text and f"expires {lot.expiry}" in text
    assert 'name="route"' in text and 'value="IM" selected' in text
    assert 'value="LD" selected' in text
    assert "Given by" in text and "Test nurse" in text
    assert applicant.family_name.upper() in text and f"born {applicant.dob}" in text
    assert "Confirm and record" in text
    assert "Before a live vaccine" not in text  # Tdap is not live
    assert _records(session) == before  # the summary writes nothing
    answer = client.post(
        _page(applicant),
        data={
            "csrf_token": csrf_token(text),
            "form": "confirm",
            "kind": "administered",
            "cvx": "115",
            "lot_id": str(lot.id),
            "given_at": "now",
            "amount": "0.50",
            "unit": "mL",
            "route": "IM",
            "body_site": "LD",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    after = client.get(_page(applicant)).get_data(as_text=True)
    assert "Given here" in after


def test_a_dose_posted_without_the_summary_shows_the_summary_and_writes_nothing(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    """The page never records a dose in one click: a dose sent without the summary's
    confirmation is answered with the summary."""
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    lot = _lot(session, nurse, "115", "SKB")
    client: FlaskClient = signed_in("nurse")
    before = _records(session)
    answer = client.post(
        _page(applicant),
        data={
            "csrf_token": csrf_token(client.get(_page(applicant)).text),
            "form": "give-tetanus",
            "kind": "administered",
            "cvx": "115",
            "lot_id": str(lot.id),
            "given_at": "now",
        },
    )
    assert answer.status_code == 200
    assert "Confirm and record" in answer.get_data(as_text=True)
    assert _records(session) == before


def test_a_refused_form_names_the_field_and_writes_nothing(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    client: FlaskClient = signed_in("nurse")
    before = session.scalar(select(func.count()).select_from(VaccinationRecord))
    answer = client.post(
        _page(applicant),
        data={
            "csrf_token": csrf_token(client.get(_page(applicant)).text),
            "kind": "historical",
            "cvx": "03",
            "date": (TODAY + dt.timedelta(days=3)).isoformat(),
            "information_source": "01",
            "form": "historical",
        },
    )
    assert answer.status_code == 422
    assert "cannot be in the future" in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(VaccinationRecord)) == before


def test_the_queue_lists_who_waits_for_a_vaccination_review(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    html = signed_in("nurse").get("/vaccinations").get_data(as_text=True)
    assert applicant.family_name in html


def test_the_printable_record_has_a_row_per_vaccine_with_its_waiver(
    session: Session, nurse: Actor, rules: RuleBook, tmp_path: Path
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    records.record_vaccination(
        session,
        nurse,
        applicant.id,
        NewVaccination(kind=RecordKind.REFUSED, date=TODAY, cvx="115", refusal_reason="03"),
    )
    body = render_record(session, nurse, applicant.id, rules=rules, as_of=TODAY)
    assert body.startswith(b"%PDF")
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(body)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Vaccination record" in text
    assert "Measles" in text and "Refused" in text
    # A refusal is printed as a refusal, not as a waiver [S13f] (issue 14).
    assert "Refused (not a waiver)" in text and "refused by the applicant" in text
    assert applicant.family_name.upper() in text
    png = tmp_path / "record"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(png)], check=True
    )
    assert (tmp_path / "record-1.png").stat().st_size > 5_000


def test_the_pdf_route_has_a_generic_file_name(
    session: Session, nurse: Actor, rules: RuleBook, signed_in: Any
) -> None:
    applicant = _planned(session, nurse, rules, "US", "immigrant", dob="1995-03-01")
    answer = signed_in("nurse").get(_page(applicant) + "/record.pdf")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'inline; filename="vaccination-record.pdf"'
    assert answer.data.startswith(b"%PDF")
