"""Facts: impossible or malformed values come back as field errors, never as a crash."""

from __future__ import annotations

from datetime import date

import pytest

from pmha.rules import Facts, FactsError, facts_to_dict, plan

BASE = {
    "dob": "1990-01-01",
    "exam_date": "2025-05-12",
    "sex": "female",
    "programme": "immigrant",
    "destination": "US",
    "exam_country": "TR",
}


def errors_of(**changes):
    data = {**BASE, **changes}
    data = {k: v for k, v in data.items() if v is not ...}
    with pytest.raises(FactsError) as caught:
        Facts.from_dict(data)
    return caught.value.errors


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"sex": "male", "gestation_weeks": 20}, "gestation_weeks", "male applicant"),
        ({"sex": "male", "pregnant": True}, "pregnant", "cannot be pregnant"),
        ({"gestation_weeks": 20, "pregnant": False}, "gestation_weeks", "not pregnant"),
        ({"pregnant": True, "gestation_weeks": 60}, "gestation_weeks", "0 to 45"),
        ({"exam_date": "1989-12-31"}, "exam_date", "before the date of birth"),
        ({"dob": "1850-01-01"}, "dob", "over 130"),
        ({"dob": "1990-02-30"}, "dob", "valid date"),
        ({"sex": "f"}, "sex", "Use one of"),
        ({"programme": "tourist"}, "programme", "Use one of"),
        ({"destination": "FR"}, "destination", "Use one of"),
        ({"exam_country": "tr"}, "exam_country", "capitals"),
        ({"exam_country": ...}, "exam_country", "Missing"),
        ({"colour": "blue"}, "colour", "Unknown field"),
        ({"tb_contact": "yes"}, "tb_contact", "true, false or null"),
        ({"departure_date": "2025-05-01"}, "departure_date", "before the exam date"),
        (
            {"results": {"igra": {"value": "posative", "date": "2025-05-12"}}},
            "results.igra.value",
            "Use one of",
        ),
        (
            {"results": {"tst": {"value": "big", "date": "2025-05-12"}}},
            "results.tst.value",
            "number",
        ),
        (
            {"results": {"igra": {"value": "positive", "date": "1980-01-01"}}},
            "results.igra.date",
            "before the date of birth",
        ),
        (
            {"results": {"xray": {"value": "normal", "date": "2025-05-12"}}},
            "results.xray",
            "Unknown requirement",
        ),
        ({"results": {"igra": {"value": "positive"}}}, "results.igra.date", "Missing"),
        ({"waivers": {"igra": "because"}}, "waivers.igra", "Use one of"),
        ({"deferred": ["xray"]}, "deferred", "Unknown requirement"),
    ],
)
def test_field_errors(changes, field, fragment):
    errors = errors_of(**changes)
    assert field in errors, errors
    assert any(fragment in message for message in errors[field]), errors


def test_not_an_object():
    with pytest.raises(FactsError) as caught:
        Facts.from_dict(["not", "facts"])
    assert caught.value.errors == {"_schema": ["Facts must be a JSON object."]}


def test_every_error_at_once():
    errors = errors_of(sex="male", gestation_weeks=20, exam_date="1980-01-01", programme="x")
    assert {"gestation_weeks", "exam_date", "programme"} <= set(errors)


def test_round_trip():
    data = {
        **BASE,
        "pregnant": True,
        "gestation_weeks": 12,
        "tb_contact": False,
        "departure_date": "2025-08-01",
        "results": {"tst": {"value": 12, "date": "2025-05-14", "treated": False}},
        "waivers": {"gonorrhea_naat": "refused"},
        "deferred": ["chest_xray"],
    }
    assert facts_to_dict(Facts.from_dict(data)) == data


def test_plan_checks_facts_built_directly(book):
    facts = Facts(
        dob=date(2000, 1, 1),
        exam_date=date(1999, 1, 1),
        sex="female",
        programme="immigrant",
        destination="US",
        exam_country="TR",
    )
    with pytest.raises(FactsError) as caught:
        plan(facts, book, date(2025, 1, 1))
    assert "exam_date" in caught.value.errors
