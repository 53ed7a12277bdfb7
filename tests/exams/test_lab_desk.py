"""Labs with values (issue 18): a quantitative result keeps each value with its UCUM unit, the
reference range that applied and its flag, the specimen and the performing laboratory; the
lab technician records consent; the lab worklist lists only orders awaiting a specimen or a
result, each linking to its form. Ranges: pmha/exams/lab_ranges.py (Mayo Clinic Laboratories
CRTS1; Simerville et al., Am Fam Physician 2005, Table 2). UCUM: https://ucum.org/ucum."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from pmha.exams import lab_ranges
from pmha.exams.labs import LabMeasurement, LabOrder, LabResult, OrderStatus
from pmha.workflow import service as workflow
from tests.conftest import csrf_token
from tests.factories import applicant_data, make_case

TODAY = date.today().isoformat()


def _order(session: Any, world: Any, applicant: Any, code: str) -> LabOrder:
    order = LabOrder(
        applicant_id=applicant.id,
        code=code,
        specimen=1,
        status=OrderStatus.ORDERED,
        ordered_by=world.users["panel_physician"].id,
    )
    session.add(order)
    session.commit()
    return order


def _au(session: Any, world: Any, app: Any, **data: Any) -> Any:
    """An applicant bound for Australia (serum creatinine from 15 years) or Canada (urinalysis
    from 5 years): country_rules/AU.toml, CA.toml."""
    who = "foreign" if data.pop("foreign", False) else "nurse"
    where = data.pop("destination", "AU")
    applicant = make_case(
        session, world.actor(who), destination=where, principal=applicant_data(**data)
    ).applicants[0]
    doctor = world.actor("foreign" if who == "foreign" else "panel_physician")
    workflow.current(session, doctor, app.extensions["pmha.rules"], applicant.id)
    session.commit()
    return applicant


@pytest.fixture()
def adult(session: Any, world: Any, app: Any) -> Any:
    return _au(session, world, app)


def _labs(applicant: Any) -> str:
    return f"/cases/{applicant.case_id}/applicants/{applicant.id}/labs"


def _post_result(client: Any, applicant: Any, order: LabOrder, **values: str) -> Any:
    page = client.get(_labs(applicant))
    body = {
        "order": str(order.id),
        "specimen_number": order.accession,
        "date": TODAY,
        "performing_lab": "Istanbul central laboratory",
        "csrf_token": csrf_token(page.text),
        **values,
    }
    return client.post(_labs(applicant) + "/results", data=body)


def _summary(html: str) -> str:
    return html[html.find("error-summary") :][:1500]


@pytest.fixture()
def to_canada(session: Any, world: Any, app: Any) -> Any:
    return _au(session, world, app, destination="CA")


def test_flag_against_the_range() -> None:
    creatinine = lab_ranges.PANELS["serum_creatinine"].analytes[0]
    assert lab_ranges.reference_range(creatinine, "male", 40) == (65, 119)
    assert lab_ranges.reference_range(creatinine, "male", 10) is None  # adult range only
    assert lab_ranges.flag(130, 65, 119) == "H"
    assert lab_ranges.flag(60, 65, 119) == "L"
    assert lab_ranges.flag(119, 65, 119) == "N"


def test_creatinine_value_units_range_and_flag(
    client: Any, signed_in: Any, session: Any, world: Any, adult: Any
) -> None:
    order = _order(session, world, adult, "serum_creatinine")
    signed_in("lab_technician")
    answer = _post_result(client, adult, order, creatinine="130")
    assert answer.status_code == 302, answer.text[
        answer.text.find("error-summary") : answer.text.find("error-summary") + 1500
    ]
    result = session.scalar(select(LabResult).where(LabResult.order_id == order.id))
    assert result.value == "abnormal" and result.performing_lab == "Istanbul central laboratory"
    (m,) = session.scalars(select(LabMeasurement).where(LabMeasurement.result_id == result.id))
    assert (m.analyte, m.value, m.unit, m.reference_low, m.reference_high, m.flag) == (
        "creatinine", 130, "umol/L", 65, 119, "H",
    )  # fmt: skip
    page = client.get(_labs(adult)).text
    assert "130 µmol/L" in page and "65 to 119" in page and "H · high" in page
    assert "Serum (venous blood)" in page and order.accession in page


def test_implausible_value_is_refused_and_nothing_written(
    client: Any, signed_in: Any, session: Any, world: Any, to_canada: Any
) -> None:
    adult = to_canada
    order = _order(session, world, adult, "urinalysis")
    signed_in("lab_technician")
    answer = _post_result(
        client, adult, order, protein="0", glucose="0", blood="0", ph="14", specific_gravity="1.02"
    )
    assert answer.status_code == 422
    assert "pH 14 cannot be right" in answer.text
    assert session.scalar(select(func.count()).select_from(LabResult)) == 0
    assert session.scalar(select(func.count()).select_from(LabMeasurement)) == 0
    missing = _post_result(client, adult, order, protein="0")
    assert missing.status_code == 422 and "Give the glucose value in mg/dL." in missing.text


def test_urinalysis_in_range_is_normal(
    client: Any, signed_in: Any, session: Any, world: Any, to_canada: Any
) -> None:
    adult = to_canada
    order = _order(session, world, adult, "urinalysis")
    signed_in("lab_technician")
    answer = _post_result(
        client, adult, order, protein="0", glucose="0", blood="0", ph="6", specific_gravity="1.015"
    )
    assert answer.status_code == 302, answer.text[
        answer.text.find("error-summary") : answer.text.find("error-summary") + 1500
    ]
    result = session.scalar(select(LabResult).where(LabResult.order_id == order.id))
    assert result.value == "normal" and result.interpretation.value == "derived"
    assert session.scalar(select(func.count()).select_from(LabMeasurement)) == 5


def test_a_child_has_no_adult_range_and_the_interpretation_is_typed(
    client: Any, signed_in: Any, session: Any, world: Any, app: Any
) -> None:
    sixteen = date.today().replace(year=date.today().year - 16, day=1).isoformat()
    child = _au(session, world, app, dob=sixteen)
    order = _order(session, world, child, "serum_creatinine")
    signed_in("lab_technician")
    refused = _post_result(client, child, order, creatinine="40")
    assert refused.status_code == 422 and "No reference range applies" in refused.text
    answer = _post_result(client, child, order, creatinine="40", value="normal")
    assert answer.status_code == 302
    m = session.scalar(select(LabMeasurement))
    assert m.flag is None and m.reference_low is None


def test_the_lab_technician_records_consent(
    client: Any, signed_in: Any, session: Any, adult: Any
) -> None:
    signed_in("lab_technician")
    page = client.get(_labs(adult))
    assert "Record consent" in page.text
    answer = client.post(
        _labs(adult) + "/consents",
        data={
            "kind": "hiv_test",
            "given": "yes",
            "date": TODAY,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert answer.status_code == 302


def test_worklist_lists_only_open_orders_of_my_sites(
    client: Any, signed_in: Any, session: Any, world: Any, adult: Any, app: Any
) -> None:
    waiting = _order(session, world, adult, "serum_creatinine")
    done = _order(session, world, adult, "urinalysis")
    done.status = OrderStatus.RESULTED
    other = _au(session, world, app, family_name="Foreigner", foreign=True)
    _order(session, world, other, "serum_creatinine")
    session.commit()
    signed_in("lab_technician")
    page = client.get("/worklists/lab/orders").text
    assert waiting.accession in page and done.accession not in page
    assert "Foreigner" not in page
    assert f"#o-{waiting.id}" in page and "Awaiting specimen" in page


def test_specimen_taken_moves_the_order_to_awaiting_result(
    client: Any, signed_in: Any, session: Any, world: Any, adult: Any
) -> None:
    order = _order(session, world, adult, "serum_creatinine")
    signed_in("lab_technician")
    page = client.get("/worklists/lab/orders")
    assert "Specimen taken" in page.text
    url = f"/worklists/lab/orders/{order.id}/collected"
    answer = client.post(url, data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 302
    session.refresh(order)
    assert order.status == OrderStatus.COLLECTED and order.collected_on == date.today()
    assert "Awaiting result" in client.get("/worklists/lab/orders").text
    again = client.post(url, data={"csrf_token": csrf_token(page.text)})
    assert again.status_code == 409 and "already collected: nothing was changed" in again.text


def test_the_api_takes_and_gives_the_values(
    client: Any, session: Any, world: Any, adult: Any
) -> None:
    order = _order(session, world, adult, "serum_creatinine")
    body = {
        "specimen_number": order.accession,
        "date": TODAY,
        "measurements": {"creatinine": 50},
        "performing_lab": "Ankara reference laboratory",
    }
    answer = client.post(
        f"/api/v1/lab-orders/{order.id}/result", json=body, headers=world.auth("lab_technician")
    )
    assert answer.status_code == 201, answer.json
    result = answer.json["result"]
    assert result["value"] == "abnormal" and result["performing_lab"] == body["performing_lab"]
    assert result["measurements"] == [
        {
            "analyte": "creatinine",
            "value": 50.0,
            "unit": "umol/L",
            "reference_range": {"low": 65.0, "high": 119.0},
            "flag": "L",
        }
    ]
    listed = client.get(f"/api/v1/applicants/{adult.id}/labs", headers=world.auth("nurse"))
    assert listed.json["orders"][0]["result"]["measurements"][0]["flag"] == "L"
    other = _order(session, world, adult, "pregnancy_test")
    refused = client.post(
        f"/api/v1/lab-orders/{other.id}/result",
        json={**body, "specimen_number": other.accession, "measurements": {"creatinine": 50}},
        headers=world.auth("lab_technician"),
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["measurements"] == ["This test records no measured values."]
