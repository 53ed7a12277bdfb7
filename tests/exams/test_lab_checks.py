"""A lab result is checked against its order (the specimen number on the label), against itself
(values that contradict each other; the interpretation derived, not typed) and against time
(dates that cannot be true); a physician may override a derived interpretation with a reason.

Each refusal: a 422 with a stable problem code, the words next to the field, nothing written,
the audit chain intact. Clinical rules: syphilis reverse algorithm BRIEF 1.4 [S12c]; TST
cut-offs BRIEF 1.2-1.3 [C S3, S5d, S8]; IGRA cut-offs per assay (country_rules/labs/assays.toml).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pmha.core import audit
from pmha.core.errors import Forbidden, ValidationFailed
from pmha.exams import lab_service
from pmha.exams.commands import NewLabResult, Reinterpretation
from pmha.exams.labs import Interpretation, LabOrder, LabResult, OrderStatus
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate, NewResult
from pmha.workflow.models import StepState
from tests.conftest import csrf_token
from tests.factories import applicant_data, make_case

TODAY = date.today()
NO_TB = {"tb_history": False, "tb_contact": False, "tb_symptoms": False, "known_hiv": False,
         "extrapulmonary_tb": False}  # fmt: skip
BOTH_REACTIVE = {"treponemal": "reactive", "non_treponemal": "reactive", "titre": "1:64"}


@pytest.fixture()
def rules(app: Any) -> Any:
    return app.extensions["pmha.rules"]


@pytest.fixture()
def adult(session: Any, world: Any, rules: Any) -> Any:
    """A US refugee aged 18 to 44: syphilis serology is required [S12a, S12c]."""
    applicant = make_case(session, world.actor("nurse"), principal=applicant_data()).applicants[0]
    workflow.set_facts(
        session, world.actor("panel_physician"), rules, applicant.id, FactsUpdate(**dict(NO_TB))
    )
    return applicant


def order_of(session: Any, world: Any, rules: Any, applicant: Any, code: str) -> LabOrder:
    made = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, applicant.id, [code]
    )
    return made[0]


def results(session: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(LabResult)) or 0)


def step(session: Any, world: Any, rules: Any, applicant: Any, code: str) -> Any:
    found = workflow.current(session, world.actor("panel_physician"), rules, applicant.id)
    return next(s for s in found.steps if s.code == code)


def lab_result(
    session: Any, world: Any, rules: Any, order: LabOrder, details: dict[str, Any]
) -> LabResult:
    """The lab technician's result for the order, naming its specimen number, dated today."""
    return lab_service.record_result(
        session,
        world.actor("lab_technician"),
        rules,
        order.id,
        NewLabResult(specimen_number=order.accession, date=TODAY, details=details),
    )


def api_result(client: Any, world: Any, order: LabOrder, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/lab-orders/{order.id}/result",
        json={"date": TODAY.isoformat(), **body},
        headers=world.auth("lab_technician"),
    )


# --- the specimen number ------------------------------------------------------------------------


def test_a_result_naming_another_orders_specimen_is_refused(
    session: Any, world: Any, rules: Any, adult: Any, client: Any
) -> None:
    """Issue 14, 3: a lab result carries its order's specimen number; another's is refused."""
    syphilis = order_of(session, world, rules, adult, "syphilis_serology")
    other = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(given_names="Sami", dob="1990-01-01"),
    ).applicants[0]
    workflow.set_facts(
        session, world.actor("panel_physician"), rules, other.id, FactsUpdate(**dict(NO_TB))
    )
    theirs = order_of(session, world, rules, other, "syphilis_serology")
    session.commit()
    response = api_result(
        client,
        world,
        syphilis,
        {"specimen_number": theirs.accession, "details": {"treponemal": "non_reactive"}},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "labs.specimen_mismatch"
    assert "belongs to another order" in body["errors"]["specimen_number"][0]
    assert "Sami" not in response.get_data(as_text=True)  # nothing of the other person
    session.expire_all()
    assert results(session) == 0
    assert session.get(LabOrder, syphilis.id).status is OrderStatus.ORDERED
    assert audit.verify(session).ok


def test_an_unknown_or_missing_specimen_number_is_refused(
    session: Any, world: Any, rules: Any, adult: Any, client: Any
) -> None:
    order = order_of(session, world, rules, adult, "syphilis_serology")
    session.commit()
    details = {"treponemal": "non_reactive"}
    response = api_result(
        client, world, order, {"specimen_number": "L-XXXX-XXXX", "details": details}
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "labs.specimen_mismatch"
    assert "No order has the specimen number" in response.get_json()["detail"]
    response = api_result(client, world, order, {"details": details})
    assert response.status_code == 422
    assert "specimen_number" in response.get_json()["errors"]
    assert results(session) == 0


def test_the_number_is_read_as_written_on_the_label(
    session: Any, world: Any, rules: Any, adult: Any
) -> None:
    """Case and spaces around it do not matter; the result keeps the number it named."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    found = lab_service.record_result(
        session,
        world.actor("lab_technician"),
        rules,
        order.id,
        NewLabResult(
            specimen_number=f"  {order.accession.lower()} ",
            date=TODAY,
            details={"treponemal": "non_reactive"},
        ),
    )
    assert found.specimen_number == order.accession


def test_every_order_gets_its_own_specimen_number(
    session: Any, world: Any, rules: Any, adult: Any
) -> None:
    workflow.record_result(
        session,
        world.actor("radiologist"),
        rules,
        adult.id,
        NewResult(code="chest_xray", value="suggestive_of_tb", date=TODAY),
        owner=True,  # as the reading would
    )
    made = lab_service.order_tests(
        session, world.actor("panel_physician"), rules, adult.id, ["sputum_smear"]
    )
    numbers = {o.accession for o in made}
    assert len(numbers) == 3 and all(n.startswith("L-") for n in numbers)


# --- syphilis: derived, and contradictions refused [S12c] ---------------------------------------


def test_both_tests_reactive_with_a_titre_is_reactive_whatever_is_typed(
    session: Any, world: Any, rules: Any, adult: Any, client: Any
) -> None:
    """Issue 14's case: both tests reactive, titre 1:64, typed "non reactive": refused
    [S12c: reactive treponemal + reactive non-treponemal with titre -> Class A]."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    session.commit()
    body = {"specimen_number": order.accession, "value": "non_reactive", "details": BOTH_REACTIVE}
    response = api_result(client, world, order, body)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "labs.values_contradict"
    assert "The values give Reactive" in problem["errors"]["value"][0]
    assert results(session) == 0
    assert audit.verify(session).ok
    del body["value"]  # the interpretation follows from the values
    response = api_result(client, world, order, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.get_json()["result"]
    assert out["value"] == "reactive"
    assert out["interpretation"] == "derived"
    assert out["derived"] == "reactive" and "1:64" in out["derivation"]
    assert out["specimen_number"] == order.accession
    session.expire_all()
    assert step(session, world, rules, adult, "syphilis_serology").state == StepState.DONE


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"treponemal": "reactive", "non_treponemal": "non_reactive", "titre": "1:64",
          "second_treponemal": "reactive"}, "titre"),
        ({"treponemal": "non_reactive", "titre": "1:8"}, "titre"),
        ({"treponemal": "non_reactive", "second_treponemal": "reactive"}, "second_treponemal"),
    ],
    ids=["titre with a non-reactive RPR", "titre without an RPR", "second test after none"],
)  # fmt: skip
def test_contradictory_syphilis_values_are_refused(
    session: Any,
    world: Any,
    rules: Any,
    adult: Any,
    client: Any,
    details: dict[str, Any],
    field: str,
) -> None:
    """[S12c]: a titre belongs to a reactive non-treponemal test; a second treponemal test
    follows a reactive first test and a non-reactive non-treponemal test."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    session.commit()
    response = api_result(
        client, world, order, {"specimen_number": order.accession, "details": details}
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "labs.values_contradict"
    assert field in response.get_json()["errors"]
    assert results(session) == 0


@pytest.mark.parametrize("titre", ["8", "1/8", "1:x", ":8", "2:8"])
def test_a_titre_not_written_as_1_to_n_is_refused_in_words(titre: str) -> None:
    """A titre typed without its "1:" raised IndexError in the derivation (a 500 wherever the
    form's own pattern did not stop it first): now the derivation refuses it by name."""
    from pmha.exams.lab_values import Contradiction, syphilis

    with pytest.raises(Contradiction) as caught:
        syphilis({"treponemal": "reactive", "non_treponemal": "reactive", "titre": titre})
    assert "1:8" in str(caught.value.errors["titre"])


def test_missing_algorithm_steps_are_asked_for(
    session: Any, world: Any, rules: Any, adult: Any
) -> None:
    """[S12c]: reactive treponemal, non-reactive non-treponemal -> a second treponemal test."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    with pytest.raises(ValidationFailed) as caught:
        lab_result(
            session,
            world,
            rules,
            order,
            {"treponemal": "reactive", "non_treponemal": "non_reactive"},
        )
    assert caught.value.code == "validation.failed"
    assert "second_treponemal" in (caught.value.errors or {})
    assert results(session) == 0


def test_previously_treated_infection_is_derived_from_documented_treatment(
    session: Any, world: Any, rules: Any, adult: Any
) -> None:
    """[S12c]: reactive second treponemal + documented prior treatment -> no class."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    values = {"treponemal": "reactive", "non_treponemal": "non_reactive",
              "second_treponemal": "reactive", "treatment_documented": True}  # fmt: skip
    found = lab_result(session, world, rules, order, values)
    assert found.value == "reactive_previously_treated"


# --- override by a physician, with a reason ----------------------------------------------------


@pytest.fixture()
def disagreeing(session: Any, world: Any, rules: Any, adult: Any) -> LabOrder:
    """Treponemal tests that disagree: the values settle nothing; a physician reviews [S12c]."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    values = {"treponemal": "reactive", "non_treponemal": "non_reactive",
              "second_treponemal": "non_reactive"}  # fmt: skip
    found = lab_result(session, world, rules, order, values)
    assert found.value == "needs_review" and found.derived is None
    session.commit()
    return order


def test_values_that_settle_nothing_wait_for_the_physician(
    session: Any, world: Any, rules: Any, adult: Any, disagreeing: LabOrder
) -> None:
    assert step(session, world, rules, adult, "syphilis_serology").state != StepState.DONE


def test_a_physician_overrides_with_a_reason_and_the_plan_hears_it(
    session: Any, world: Any, rules: Any, adult: Any, disagreeing: LabOrder, client: Any
) -> None:
    url = f"/api/v1/lab-orders/{disagreeing.id}/interpretation"
    reason = "Second treponemal test negative; first judged a false positive"
    response = client.post(
        url,
        json={"value": "non_reactive", "reason": reason},
        headers=world.auth("panel_physician"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    out = response.get_json()["result"]
    assert out["value"] == "non_reactive" and out["interpretation"] == "overridden"
    assert out["override"]["reason"] == reason
    physician = world.users["panel_physician"]
    assert out["override"]["by"] == (
        f"{physician.full_name}, Panel physician, reg. {physician.registration_number}"
    )
    session.expire_all()
    assert step(session, world, rules, adult, "syphilis_serology").state == StepState.DONE
    assert audit.verify(session).ok


@pytest.mark.parametrize("reason", ["", "   ", "because"])
def test_an_override_without_a_reason_is_refused(
    session: Any,
    world: Any,
    rules: Any,
    disagreeing: LabOrder,
    client: Any,
    reason: str,
) -> None:
    response = client.post(
        f"/api/v1/lab-orders/{disagreeing.id}/interpretation",
        json={"value": "non_reactive", "reason": reason},
        headers=world.auth("panel_physician"),
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "labs.override_refused"
    assert "Say why" in response.get_json()["errors"]["reason"][0]
    session.expire_all()
    kept = session.scalar(select(LabResult).where(LabResult.order_id == disagreeing.id))
    assert kept.value == "needs_review" and kept.interpretation is Interpretation.DERIVED
    assert kept.override_reason is None


def test_only_a_physician_overrides(
    session: Any, world: Any, rules: Any, disagreeing: LabOrder
) -> None:
    with pytest.raises(Forbidden):
        lab_service.override_interpretation(
            session,
            world.actor("lab_technician"),
            rules,
            disagreeing.id,
            Reinterpretation(value="non_reactive", reason="the lab thinks it is negative"),
        )


def test_a_typed_result_has_nothing_to_override(
    session: Any, world: Any, rules: Any, adult: Any
) -> None:
    """Results typed before derivation (migration 0019) or of tests with no values."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    result = lab_result(session, world, rules, order, {"treponemal": "non_reactive"})
    result.interpretation = Interpretation.BEFORE_DERIVATION
    with pytest.raises(ValidationFailed) as caught:
        lab_service.override_interpretation(
            session,
            world.actor("panel_physician"),
            rules,
            order.id,
            Reinterpretation(value="reactive", reason="clinical signs of secondary syphilis"),
        )
    assert caught.value.code == "labs.override_refused"


# --- TST and IGRA through the service ------------------------------------------------------------


@pytest.fixture()
def contact_child(session: Any, world: Any, rules: Any) -> Any:
    """A 5-year-old contact of a TB case: an IGRA is required [C S8]."""
    applicant = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(
            dob=str(TODAY.replace(year=TODAY.year - 5)),
            given_names="Lina",
            given_names_original=None,
            family_name_original=None,
        ),
    ).applicants[0]
    workflow.set_facts(
        session,
        world.actor("panel_physician"),
        rules,
        applicant.id,
        FactsUpdate(**dict(NO_TB, tb_contact=True)),
    )
    return applicant


def test_an_igra_is_derived_from_its_assay_values(
    session: Any, world: Any, rules: Any, contact_child: Any, client: Any
) -> None:
    """QFT-Plus: TB2 minus nil 0.40 IU/mL >= 0.35 and >= 25% of nil -> positive [QFT-PI, U]."""
    order = order_of(session, world, rules, contact_child, "igra")
    session.commit()
    values = {"assay": "QFT-Plus", "nil": 0.1, "tb1": 0.2, "tb2": 0.5, "mitogen": 6.0}
    response = api_result(
        client,
        world,
        order,
        {"specimen_number": order.accession, "value": "negative", "details": values},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "labs.values_contradict"
    response = api_result(
        client, world, order, {"specimen_number": order.accession, "details": values}
    )
    assert response.status_code == 201
    assert response.get_json()["result"]["value"] == "positive"


def test_a_tst_keeps_its_mm_and_shows_the_cut_off_for_a_contact(
    session: Any, world: Any, rules: Any
) -> None:
    """A contact under 2: TST [S1]; positive at 5 mm for contacts [C S8, S6]."""
    baby = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(
            dob=str(TODAY.replace(year=TODAY.year - 1)),
            given_names_original=None,
            family_name_original=None,
        ),
    ).applicants[0]
    workflow.set_facts(
        session,
        world.actor("panel_physician"),
        rules,
        baby.id,
        FactsUpdate(**dict(NO_TB, tb_contact=True)),
    )
    order = order_of(session, world, rules, baby, "tst")
    found = lab_service.record_result(
        session,
        world.actor("nurse"),
        rules,
        order.id,
        NewLabResult(
            specimen_number=order.accession,
            value="6",
            date=TODAY,
            details={"placed_on": TODAY - timedelta(days=2), "read_on": TODAY},
        ),
    )
    assert found.value == "6" and found.derived == "positive"
    assert "5 mm" in (found.derivation or "")


# --- dates that cannot be true -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result_day", "collected", "field", "words"),
    [
        (TODAY + timedelta(days=1), None, "date", "in the future"),
        (TODAY - timedelta(days=20), None, "date", "before the test was ordered"),
        (TODAY - timedelta(days=5), TODAY - timedelta(days=2), "collected_on", "after its result"),
        (TODAY - timedelta(days=5), date(1980, 1, 1), "collected_on",
         "before the applicant was born"),
    ],
    ids=["result in the future", "result before its order", "specimen after its result",
         "specimen before birth"],
)  # fmt: skip
def test_dates_that_cannot_be_true_are_refused(
    session: Any,
    world: Any,
    rules: Any,
    adult: Any,
    result_day: date,
    collected: date | None,
    field: str,
    words: str,
) -> None:
    """Issue 14, 4: a result before its order, a specimen after its result, a result in the
    future, a specimen before birth (the adult was born in 1985)."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    order.ordered_at = datetime.now(UTC) - timedelta(days=10)
    session.flush()
    with pytest.raises(ValidationFailed) as caught:
        lab_service.record_result(
            session,
            world.actor("lab_technician"),
            rules,
            order.id,
            NewLabResult(
                specimen_number=order.accession,
                date=result_day,
                collected_on=collected,
                details={"treponemal": "non_reactive"},
            ),
        )
    assert words in (caught.value.errors or {})[field][0]
    assert results(session) == 0
    assert order.collected_on is None


# --- the same refusals on the Labs page ----------------------------------------------------------


def labs_url(applicant: Any, tail: str = "") -> str:
    return f"/cases/{applicant.case_id}/applicants/{applicant.id}/labs{tail}"


def page_post(client: Any, applicant: Any, tail: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(labs_url(applicant)).text)
    return client.post(labs_url(applicant, tail), data={**data, "csrf_token": token})


def test_the_page_refuses_a_titre_with_a_non_reactive_rpr_next_to_the_titre(
    session: Any, world: Any, rules: Any, adult: Any, signed_in: Any
) -> None:
    """[S12c]: a titre is measured on a reactive non-treponemal test only."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    session.commit()
    client = signed_in("lab_technician")
    form = {
        "order": str(order.id),
        "specimen_number": order.accession,
        "date": TODAY.isoformat(),
        "treponemal": "reactive",
        "non_treponemal": "non_reactive",
        "second_treponemal": "reactive",
        "titre": "1:64",
    }
    response = page_post(client, adult, "/results", form)
    assert response.status_code == 422
    text = response.text
    assert f'id="e-result-{order.id}-titre"' in text
    assert "A titre is measured only on a reactive non-treponemal test" in text
    assert f'id="f-result-{order.id}-titre" name="titre"' in text and 'value="1:64"' in text
    assert results(session) == 0
    assert audit.verify(session).ok
    form.update(non_treponemal="reactive", second_treponemal="")
    response = page_post(client, adult, "/results", form)
    assert response.status_code == 302
    page = client.get(labs_url(adult)).text
    assert "Derived from the values: Both tests reactive, titre 1:64." in page
    assert order.accession in page


def test_the_page_refuses_another_orders_specimen_number(
    session: Any, world: Any, rules: Any, adult: Any, signed_in: Any
) -> None:
    order = order_of(session, world, rules, adult, "syphilis_serology")
    session.commit()
    client = signed_in("lab_technician")
    form = {
        "order": str(order.id),
        "specimen_number": "L-AAAA-AAAA",
        "date": TODAY.isoformat(),
        "treponemal": "non_reactive",
    }
    response = page_post(client, adult, "/results", form)
    assert response.status_code == 422
    assert f'id="e-result-{order.id}-specimen_number"' in response.text
    assert "No order has the specimen number L-AAAA-AAAA" in response.text
    assert results(session) == 0


def test_the_page_overrides_only_with_a_reason_and_shows_who_and_why(
    session: Any, world: Any, rules: Any, adult: Any, disagreeing: LabOrder, signed_in: Any
) -> None:
    client = signed_in("panel_physician")
    page = client.get(labs_url(adult)).text
    assert "Needs a physician's review" in page and "Override the interpretation" in page
    form = {"order": str(disagreeing.id), "value": "non_reactive", "reason": ""}
    response = page_post(client, adult, "/interpretation", form)
    assert response.status_code == 422
    assert f'id="e-override-{disagreeing.id}-reason"' in response.text
    assert "Say why the interpretation differs" in response.text
    session.expire_all()
    assert session.scalar(select(LabResult.value)) == "needs_review"
    form["reason"] = "TP-PA non-reactive: the first EIA judged a false positive"
    response = page_post(client, adult, "/interpretation", form)
    assert response.status_code == 302
    page = client.get(labs_url(adult)).text
    physician = world.users["panel_physician"]
    assert f"Overridden by {physician.full_name}, Panel physician, reg. " in page
    assert "because “TP-PA non-reactive: the first EIA judged a false positive”" in page
    assert audit.verify(session).ok


def test_a_tsts_interpretation_is_not_overridden(session: Any, world: Any, rules: Any) -> None:
    """The plan reads a TST in mm against the rule file's cut-offs [C S8]: an override would
    change nothing the plan sees, so it is refused rather than shown and ignored."""
    baby = make_case(
        session,
        world.actor("nurse"),
        principal=applicant_data(
            dob=str(TODAY.replace(year=TODAY.year - 1)),
            given_names_original=None,
            family_name_original=None,
        ),
    ).applicants[0]
    workflow.set_facts(
        session,
        world.actor("panel_physician"),
        rules,
        baby.id,
        FactsUpdate(**dict(NO_TB, tb_contact=True)),
    )
    order = order_of(session, world, rules, baby, "tst")
    lab_service.record_result(
        session,
        world.actor("nurse"),
        rules,
        order.id,
        NewLabResult(
            specimen_number=order.accession,
            value="3",
            date=TODAY,
            details={"placed_on": TODAY - timedelta(days=2), "read_on": TODAY},
        ),
    )
    with pytest.raises(ValidationFailed) as caught:
        lab_service.override_interpretation(
            session,
            world.actor("panel_physician"),
            rules,
            order.id,
            Reinterpretation(
                value="positive", reason="induration re-measured at 6 mm by the physician"
            ),
        )
    assert caught.value.code == "labs.override_refused"
    assert "record a new TST" in caught.value.detail


def test_a_typed_interpretation_the_values_do_not_settle_is_refused(
    session: Any, world: Any, rules: Any, adult: Any
) -> None:
    """Treponemal tests that disagree settle nothing [S12c]: the lab leaves the interpretation
    to the physician rather than typing one."""
    order = order_of(session, world, rules, adult, "syphilis_serology")
    with pytest.raises(ValidationFailed) as caught:
        lab_service.record_result(
            session,
            world.actor("lab_technician"),
            rules,
            order.id,
            NewLabResult(
                specimen_number=order.accession,
                value="non_reactive",
                date=TODAY,
                details={
                    "treponemal": "reactive",
                    "non_treponemal": "non_reactive",
                    "second_treponemal": "non_reactive",
                },
            ),
        )
    assert caught.value.code == "labs.values_contradict"
    assert "a physician records it with a reason" in (caught.value.errors or {})["value"][0]
    assert results(session) == 0


def test_the_page_derives_an_igra_from_its_values(
    session: Any, world: Any, rules: Any, contact_child: Any, signed_in: Any
) -> None:
    """T-SPOT.TB: panel A minus nil 9 spots >= 8 -> positive [TSPOT-PI, U]."""
    order = order_of(session, world, rules, contact_child, "igra")
    session.commit()
    client = signed_in("lab_technician")
    form = {
        "order": str(order.id),
        "specimen_number": order.accession,
        "date": TODAY.isoformat(),
        "assay": "T-SPOT.TB",
        "nil": "1",
        "panel_a": "10",
        "panel_b": "2",
        "mitogen": "40",
        "tb1": "0.5",  # a QuantiFERON tube on a T-SPOT: refused, nothing written
    }
    response = page_post(client, contact_child, "/results", form)
    assert response.status_code == 422
    assert "T-SPOT.TB has no tb1 value." in response.text
    assert results(session) == 0
    del form["tb1"]
    response = page_post(client, contact_child, "/results", form)
    assert response.status_code == 302
    assert (
        "TB blood test (IGRA): result Positive recorded."
        in client.get(labs_url(contact_child)).text
    )
