"""form_action, the HTML sibling of the API's endpoint decorator (issue 21): the form loads through
the API's schema; the service call runs in a SAVEPOINT, so that a refusal rolls back only itself;
the page is shown again with the errors by field, at the refusal's status."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from marshmallow import fields, validate
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from pmha.cases.models import Site
from pmha.core.db import get_session
from pmha.core.errors import Conflict, NotFound, ValidationFailed
from pmha.core.forms import Failed, form_action
from pmha.core.schemas import StrictSchema


class NameForm(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=20))


def _site(code: str) -> Site:
    return Site(code=code, name=f"Site {code}", country="TR")


def _refusal(call: Any) -> HTTPException:
    with pytest.raises(HTTPException) as refused:
        call()
    return refused.value


def _codes() -> set[str]:
    return set(get_session().scalars(select(Site.code).where(Site.code.like("F%"))))


def test_a_refused_call_rolls_back_only_itself(app: Flask) -> None:
    shown: list[Failed] = []

    def act(_: None) -> None:
        get_session().add(_site("F2"))
        get_session().flush()
        raise ValidationFailed("The name is taken.", errors={"name": ["The name is taken."]})

    with app.test_request_context("/", method="POST"):
        get_session().add(_site("F1"))  # what the request did before the form's action
        get_session().flush()
        refused = _refusal(
            lambda: form_action("site", {"name": "x"}, act, lambda f: shown.append(f) or "page")
        )
        assert refused.get_response().status_code == 422
        assert _codes() == {"F1"}
        get_session().rollback()
    assert shown[0].target == "site" and shown[0].values == {"name": "x"}
    assert shown[0].errors == {"name": ["The name is taken."]}


def test_a_schema_refusal_shows_the_form_again_at_422(app: Flask) -> None:
    called: list[Any] = []
    shown: list[Failed] = []
    with app.test_request_context("/", method="POST"):
        refused = _refusal(
            lambda: form_action(
                "name",
                {"name": ""},
                called.append,
                lambda f: shown.append(f) or ("page", 200),
                schema=NameForm(),
            )
        )
        assert refused.get_response().status_code == 422
    assert called == []
    assert list(shown[0].errors) == ["name"]


def test_the_service_status_and_problem_reach_the_page(app: Flask) -> None:
    shown: list[Failed] = []

    def act(_: None) -> None:
        raise Conflict("Already done.", code="test.conflict")

    with app.test_request_context("/", method="POST"):
        refused = _refusal(lambda: form_action("x", {}, act, lambda f: shown.append(f) or "page"))
        assert refused.get_response().status_code == 409
    assert isinstance(shown[0].problem, Conflict)
    assert shown[0].errors == {"_form": ["Already done."]}
    assert shown[0].message == "Already done."


def test_not_found_answers_as_itself_not_as_a_field_error(app: Flask) -> None:
    def act(_: None) -> None:
        raise NotFound("No such applicant.")

    with app.test_request_context("/", method="POST"), pytest.raises(NotFound):
        form_action("x", {}, act, lambda f: "page")


def test_an_accepted_call_returns_what_the_service_returns_and_keeps_it(app: Flask) -> None:
    with app.test_request_context("/", method="POST"):
        made = form_action(
            "name",
            {"name": "F3"},
            lambda data: get_session().merge(_site(data["name"])),
            lambda f: "page",
            schema=NameForm(),
        )
        get_session().flush()
        assert made.code == "F3" and _codes() == {"F3"}
        get_session().rollback()
