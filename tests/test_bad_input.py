"""Bad input on the write and search endpoints: a precise 4xx problem, and nothing written.

Every rejection is checked the same way (`Api.rejects`): the status, the problem+json body with
its stable `code`, unchanged row counts, versions and case counters, and an audit chain that
still verifies.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.models import Applicant, FamilyCase, IdentityDocument, Site
from pmha.cases.schemas import ApplicantIn
from pmha.core import audit
from pmha.core.audit import AuditEvent
from pmha.core.db import utcnow
from pmha.core.http import PROBLEM
from tests.conftest import csrf_token
from tests.factories import World, applicant_data, case_data, loaded, make_case

ON_POSTGRES = os.environ.get("PMHA_TEST_DATABASE_URL", "").startswith("postgresql")
MIB = 1024 * 1024
SCRIPT = "<script>alert(1)</script>"
SQL = "Robert'); DROP TABLE applicants;--"


@dataclass
class Target:
    world: World
    case: FamilyCase
    principal: Applicant
    child: Applicant  # holds a passport


@pytest.fixture()
def target(session: Session, world: World) -> Target:
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    child = cases.add_applicant(
        session,
        nurse,
        case.id,
        loaded(
            ApplicantIn,
            applicant_data(
                given_names="Yusuf",
                given_names_original=None,
                dob="2014-07-07",
                relationship="child",
                documents=[{"doc_type": "passport", "number": "N0000001", "issuing_country": "SY"}],
            ),
        ),
    )
    session.commit()
    assert case.principal is not None
    return Target(world, case, case.principal, child)


def snapshot(session: Session) -> dict[str, int]:
    """What a failed request must leave as it was."""

    def one(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return {
        "family_cases": one(select(func.count()).select_from(FamilyCase)),
        "applicants": one(select(func.count()).select_from(Applicant)),
        "identity_documents": one(select(func.count()).select_from(IdentityDocument)),
        "audit_events": one(select(func.count()).select_from(AuditEvent)),
        "case_versions": one(select(func.sum(FamilyCase.version))),
        "applicant_versions": one(select(func.sum(Applicant.version))),
        "case_numbers_issued": one(select(func.sum(Site.case_seq))),
    }


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert {"type", "title", "status", "detail", "code", "request_id"} <= set(body)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/{code}")
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def at(errors: dict[str, Any], path: str) -> list[str]:
    """The messages of one field: at(errors, "principal.documents.0.number")."""
    node: Any = errors
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, f"{path} not named in {errors}"
        node = node[part]
    assert node, f"{path} has no messages"
    return node  # type: ignore[no-any-return]


class Api:
    def __init__(self, client: FlaskClient, session: Session, target: Target) -> None:
        self.client, self.session, self.target = client, session, target

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.target.world.auth("nurse"), **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def rejects(self, method: str, url: str, status: int, code: str, **kwargs: Any) -> Any:
        """Send; expect this problem; check that nothing was written and the chain verifies."""
        before = snapshot(self.session)
        response = self.call(method, url, **kwargs)
        body = assert_problem(response, status, code)
        assert snapshot(self.session) == before, "a rejected request wrote something"
        assert audit.verify(self.session).ok
        return body

    def invalid(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        errors: dict[str, Any] = self.rejects(method, url, 422, "validation.failed", **kwargs)[
            "errors"
        ]
        return errors


@pytest.fixture()
def api(client: FlaskClient, session: Session, target: Target) -> Api:
    return Api(client, session, target)


# --- the endpoints, each with a body it accepts --------------------------------------------------


def _new_family(**principal: Any) -> dict[str, Any]:
    person = {"family_name": "Nasser", "given_names": "Layla", "family_name_original": None,
              "given_names_original": None, "dob": "1990-06-01", "sex": "female",
              "nationality": "AF"}  # fmt: skip
    return case_data(principal=applicant_data(**person | principal))


def _new_member(**overrides: Any) -> dict[str, Any]:
    return applicant_data(
        **{"given_names": "Sara", "given_names_original": None, "dob": "2016-02-02"}
        | {"sex": "female", "relationship": "child"}
        | overrides
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[Target], str]
    body: Callable[[Target], dict[str, Any]]
    ok: int
    person: str | None = None  # where the applicant's fields sit in the body ("" = top level)


ENDPOINTS = [
    Endpoint("create_case", "POST", lambda t: "/api/v1/cases", lambda t: _new_family(), 201,
             "principal."),
    Endpoint("add_applicant", "POST", lambda t: f"/api/v1/cases/{t.case.id}/applicants",
             lambda t: _new_member(), 201, ""),
    Endpoint("update_case", "PATCH", lambda t: f"/api/v1/cases/{t.case.id}",
             lambda t: {"version": t.case.version, "external_ref": "UNHCR-77"}, 200),
    Endpoint("update_applicant", "PATCH", lambda t: f"/api/v1/applicants/{t.child.id}",
             lambda t: {"version": t.child.version, "given_names": "Yusuf Ali"}, 200, ""),
    Endpoint("search", "POST", lambda t: "/api/v1/cases/search", lambda t: {"q": "Haddad"}, 200),
]  # fmt: skip
BY_NAME = {e.name: e for e in ENDPOINTS}
PERSON_ENDPOINTS = [e for e in ENDPOINTS if e.person is not None]


def _ids(endpoints: list[Endpoint]) -> list[Any]:
    return [pytest.param(e, id=e.name) for e in endpoints]


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of body with path ("principal.documents.0.number") set to value."""
    body = json.loads(json.dumps(body))
    parts = path.split(".")
    node: Any = body
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return body


@pytest.mark.parametrize("endpoint", _ids(ENDPOINTS))
def test_the_valid_body_is_accepted(api: Api, target: Target, endpoint: Endpoint) -> None:
    """The control: each failure below differs from this body in one place only."""
    response = api.call(endpoint.method, endpoint.url(target), json=endpoint.body(target))
    assert response.status_code == endpoint.ok, response.get_json()


# --- the body is not JSON, not an object, or too big ---------------------------------------------

MALFORMED = {
    "truncated": b'{"q": "Had',
    "single quotes": b"{'q': 'Haddad'}",
    "trailing comma": b'{"q": "Haddad",}',
    "empty": b"",
    "two documents": b'{"q": "a"}{"q": "b"}',
    "not utf-8": b'{"q": "\xff\xfe"}',
    "bare word": b"Haddad",
}


@pytest.mark.parametrize("sample", list(MALFORMED))
@pytest.mark.parametrize("endpoint", _ids(ENDPOINTS))
def test_malformed_json_is_400(api: Api, target: Target, endpoint: Endpoint, sample: str) -> None:
    api.rejects(
        endpoint.method,
        endpoint.url(target),
        400,
        "request.malformed_json",
        data=MALFORMED[sample],
        content_type="application/json",
    )


@pytest.mark.parametrize("endpoint", _ids([BY_NAME["search"], BY_NAME["create_case"]]))
def test_deeply_nested_json_is_400_not_500(api: Api, target: Target, endpoint: Endpoint) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000  # 200 kB: well under the size limit
    api.rejects(
        endpoint.method,
        endpoint.url(target),
        400,
        "request.malformed_json",
        data=deep,
        content_type="application/json",
    )


CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/json-patch+json",
    None,
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES, ids=str)
@pytest.mark.parametrize("endpoint", _ids(ENDPOINTS))
def test_a_body_that_is_not_json_is_415(
    api: Api, target: Target, endpoint: Endpoint, content_type: str | None
) -> None:
    api.rejects(
        endpoint.method,
        endpoint.url(target),
        415,
        "request.unsupported_media_type",
        data=json.dumps(endpoint.body(target)),
        content_type=content_type,
    )


NOT_OBJECTS = {"array": [], "array of object": [{"q": "x"}], "string": "Haddad", "number": 42,
               "true": True, "false": False}  # fmt: skip


@pytest.mark.parametrize("sample", list(NOT_OBJECTS))
@pytest.mark.parametrize("endpoint", _ids(ENDPOINTS))
def test_json_that_is_not_an_object_is_422(
    api: Api, target: Target, endpoint: Endpoint, sample: str
) -> None:
    errors = api.invalid(endpoint.method, endpoint.url(target), json=NOT_OBJECTS[sample])
    assert at(errors, "_schema")


def test_json_null_is_422_not_an_object(api: Api) -> None:
    api.invalid("POST", "/api/v1/cases/search", data=b"null", content_type="application/json")


@pytest.mark.parametrize("endpoint", _ids(ENDPOINTS))
def test_a_body_over_one_mib_is_413(api: Api, target: Target, endpoint: Endpoint) -> None:
    body = endpoint.body(target) | {"padding": "x" * MIB}
    api.rejects(endpoint.method, endpoint.url(target), 413, "request.too_large", json=body)


def test_a_body_just_under_one_mib_is_read_and_validated(api: Api) -> None:
    body = {"q": "Haddad", "padding": "x" * (MIB - 100)}
    assert len(json.dumps(body)) < MIB
    errors = api.invalid("POST", "/api/v1/cases/search", json=body)
    assert at(errors, "padding") == ["Unknown field."]


# --- field by field ------------------------------------------------------------------------------


UNKNOWN = [
    ("create_case", "shoe_size"),
    ("create_case", "principal.shoe_size"),
    ("create_case", "principal.documents.0.shoe_size"),
    ("create_case", "site_id"),
    ("add_applicant", "shoe_size"),
    ("add_applicant", "case_id"),
    ("add_applicant", "documents.0.shoe_size"),
    ("update_case", "case_number"),
    ("update_case", "site_id"),
    ("update_applicant", "id"),
    ("update_applicant", "search_text"),
    ("search", "site_id"),
    ("search", "name"),
]


def _with_document(body: dict[str, Any], prefix: str) -> dict[str, Any]:
    passport = {"doc_type": "passport", "number": "P1234567", "issuing_country": "SY"}
    return _with(body, f"{prefix}documents", [passport])


@pytest.mark.parametrize(("endpoint", "path"), UNKNOWN)
def test_an_unknown_field_is_422_naming_it(
    api: Api, target: Target, endpoint: str, path: str
) -> None:
    e = BY_NAME[endpoint]
    body = e.body(target)
    if ".documents." in f".{path}":
        body = _with_document(body, path.split("documents.")[0])
    errors = api.invalid(e.method, e.url(target), json=_with(body, path, 1))
    assert at(errors, path) == ["Unknown field."]


WRONG_TYPES = [
    ("create_case", "destination", 1),
    ("create_case", "planned_departure", "next spring"),
    ("create_case", "principal", "Omar Haddad"),
    ("create_case", "principal.family_name", ["Haddad"]),
    ("create_case", "principal.dob", 19850314),
    ("create_case", "principal.dob_estimated", "perhaps"),
    ("create_case", "principal.documents", "P1234567"),
    ("add_applicant", "family_name", 42),
    ("add_applicant", "given_names", {"first": "Sara"}),
    ("add_applicant", "dob", "14/03/1985"),
    ("add_applicant", "acknowledge_duplicates", "perhaps"),
    ("add_applicant", "documents", {"doc_type": "passport"}),
    ("update_case", "version", "one"),
    ("update_case", "version", True),
    ("update_case", "version", 1.5),
    ("update_case", "planned_departure", 20270301),
    ("update_case", "destination", None),
    ("update_applicant", "version", None),
    ("update_applicant", "sex", 1),
    ("update_applicant", "nationality", None),
    ("update_applicant", "family_name", None),
    ("update_applicant", "given_names", False),
    ("update_applicant", "dob", None),
    ("search", "q", 7),
    ("search", "q", ["Haddad"]),
    ("search", "page", "first"),
    ("search", "per_page", 2.5),
    ("search", "dob", "yesterday"),
    ("search", "case_number", {"startswith": "IST"}),
]


@pytest.mark.parametrize(("endpoint", "path", "value"), WRONG_TYPES, ids=str)
def test_a_wrong_type_is_422_naming_the_field(
    api: Api, target: Target, endpoint: str, path: str, value: Any
) -> None:
    e = BY_NAME[endpoint]
    errors = api.invalid(e.method, e.url(target), json=_with(e.body(target), path, value))
    assert at(errors, path)


@pytest.mark.parametrize(("endpoint", "path"), [("create_case", "principal"),
                                                 ("create_case", "destination"),
                                                 ("create_case", "principal.dob"),
                                                 ("add_applicant", "relationship"),
                                                 ("add_applicant", "nationality"),
                                                 ("update_case", "version"),
                                                 ("update_applicant", "version")])  # fmt: skip
def test_a_missing_required_field_is_422_naming_it(
    api: Api, target: Target, endpoint: str, path: str
) -> None:
    e = BY_NAME[endpoint]
    body = e.body(target)
    *parents, leaf = path.split(".")
    node = body
    for part in parents:
        node = node[part]
    del node[leaf]
    errors = api.invalid(e.method, e.url(target), json=body)
    assert at(errors, path)


def _dob_cases() -> list[Any]:
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    rows = []
    for e in PERSON_ENDPOINTS:
        for label, value in [("tomorrow", tomorrow), ("far future", "2999-01-01"),
                             ("1899-12-31", "1899-12-31"), ("year one", "0001-01-01")]:  # fmt: skip
            rows.append(pytest.param(e, value, id=f"{e.name}-{label}"))
    return rows


@pytest.mark.parametrize(("endpoint", "dob"), _dob_cases())
def test_a_date_of_birth_in_the_future_or_before_1900_is_422_naming_dob(
    api: Api, target: Target, endpoint: Endpoint, dob: str
) -> None:
    path = f"{endpoint.person}dob"
    errors = api.invalid(
        endpoint.method, endpoint.url(target), json=_with(endpoint.body(target), path, dob)
    )
    assert at(errors, path)


@pytest.mark.parametrize("dob", ["1900-01-01", "today"])
def test_the_date_of_birth_limits_themselves_are_accepted(
    api: Api, target: Target, dob: str
) -> None:
    value = utcnow().date().isoformat() if dob == "today" else dob
    body = _new_member(given_names="Newborn", dob=value)
    response = api.call("POST", f"/api/v1/cases/{target.case.id}/applicants", json=body)
    assert response.status_code == 201, response.get_json()


def test_a_search_date_of_birth_before_1900_is_422(api: Api) -> None:
    errors = api.invalid("POST", "/api/v1/cases/search", json={"dob": "1899-12-31"})
    assert at(errors, "dob")


HOSTILE_NAMES = {
    "markup": SCRIPT,
    "sql": SQL,
    "tags": "<b>Omar</b>",
    "nul": "Omar\x00",
    "newline": "Omar\nHaddad",
    "bidi override": "Omar\u202eHaddad",
    "formula": "=HYPERLINK(1)",
    "digits": "Omar2",
    "blank": "   ",
    "empty": "",
    "too long": "A" * 101,
}
NAME_FIELDS = ["family_name", "given_names", "family_name_original", "given_names_original"]


def _name_cases() -> list[Any]:
    rows = []
    for e in PERSON_ENDPOINTS:
        for i, (label, value) in enumerate(HOSTILE_NAMES.items()):
            field = NAME_FIELDS[i % len(NAME_FIELDS)]
            rows.append(pytest.param(e, field, value, id=f"{e.name}-{field}-{label}"))
    return rows


@pytest.mark.parametrize(("endpoint", "field", "value"), _name_cases())
def test_a_name_with_markup_sql_or_control_characters_is_422_naming_the_field(
    api: Api, target: Target, endpoint: Endpoint, field: str, value: str
) -> None:
    path = f"{endpoint.person}{field}"
    before = snapshot(api.session)
    response = api.call(
        endpoint.method, endpoint.url(target), json=_with(endpoint.body(target), path, value)
    )
    errors = assert_problem(response, 422, "validation.failed")["errors"]
    assert at(errors, path)
    if value.strip():
        assert value not in response.get_data(as_text=True), "the error body echoes the name"
    assert snapshot(api.session) == before
    assert audit.verify(api.session).ok


COUNTRIES = ["QQ", "xx", "sy", "SYR", "", "S", "12", "Syria"]  # XX: stateless or unknown


@pytest.mark.parametrize("code", COUNTRIES)
@pytest.mark.parametrize("endpoint", _ids(PERSON_ENDPOINTS))
def test_an_invalid_nationality_is_422(
    api: Api, target: Target, endpoint: Endpoint, code: str
) -> None:
    path = f"{endpoint.person}nationality"
    body = _with(endpoint.body(target), path, code)
    assert at(api.invalid(endpoint.method, endpoint.url(target), json=body), path)


@pytest.mark.parametrize("code", ["ZZ", "XX", "tr", "TUR"])
@pytest.mark.parametrize("endpoint", _ids(PERSON_ENDPOINTS))
def test_an_invalid_document_country_is_422(
    api: Api, target: Target, endpoint: Endpoint, code: str
) -> None:
    body = _with_document(endpoint.body(target), endpoint.person or "")
    path = f"{endpoint.person}documents.0.issuing_country"
    assert at(
        api.invalid(endpoint.method, endpoint.url(target), json=_with(body, path, code)), path
    )


ENUMS = [
    ("create_case", "destination", "MARS"),
    ("create_case", "destination", "us"),
    ("create_case", "programme", "tourist"),
    ("create_case", "principal.sex", "M"),
    ("create_case", "principal.relationship", "cousin"),
    ("add_applicant", "sex", "x"),
    ("add_applicant", "relationship", "cousin"),
    ("add_applicant", "relationship", "PRINCIPAL"),
    ("update_case", "destination", "FR"),
    ("update_case", "programme", ""),
    ("update_applicant", "sex", "Female"),
    ("update_applicant", "relationship", "neighbour"),
    ("search", "destination", "FR"),
]


@pytest.mark.parametrize(("endpoint", "path", "value"), ENUMS, ids=str)
def test_a_value_outside_its_enumeration_is_422(
    api: Api, target: Target, endpoint: str, path: str, value: str
) -> None:
    e = BY_NAME[endpoint]
    errors = api.invalid(e.method, e.url(target), json=_with(e.body(target), path, value))
    assert at(errors, path)


@pytest.mark.parametrize("endpoint", _ids(PERSON_ENDPOINTS))
@pytest.mark.parametrize("doc_type", ["library_card", "Passport"])
def test_an_invalid_document_type_is_422(
    api: Api, target: Target, endpoint: Endpoint, doc_type: str
) -> None:
    body = _with_document(endpoint.body(target), endpoint.person or "")
    path = f"{endpoint.person}documents.0.doc_type"
    errors = api.invalid(endpoint.method, endpoint.url(target), json=_with(body, path, doc_type))
    assert at(errors, path)


@pytest.mark.parametrize("endpoint", _ids(PERSON_ENDPOINTS))
def test_the_same_document_twice_is_422(api: Api, target: Target, endpoint: Endpoint) -> None:
    body = _with_document(endpoint.body(target), endpoint.person or "")
    documents = f"{endpoint.person}documents"
    passport = {"doc_type": "passport", "number": "P1234567", "issuing_country": "SY"}
    errors = api.invalid(
        endpoint.method, endpoint.url(target), json=_with(body, documents, [passport, passport])
    )
    assert at(errors, f"{documents}.1")


@pytest.mark.parametrize("ref", ["<b>x</b>", "x" * 41, "-leading-dash", "a;b"])
def test_an_invalid_external_reference_is_422(api: Api, target: Target, ref: str) -> None:
    body = {"version": target.case.version, "external_ref": ref}
    assert at(api.invalid("PATCH", f"/api/v1/cases/{target.case.id}", json=body), "external_ref")


# --- paths, paging and versions ------------------------------------------------------------------

BAD_IDS = ["not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g", "%27%20OR%201%3D1--"]
PATHS = [
    ("GET", "/api/v1/cases/{}"),
    ("PATCH", "/api/v1/cases/{}"),
    ("POST", "/api/v1/cases/{}/applicants"),
    ("GET", "/api/v1/applicants/{}"),
    ("PATCH", "/api/v1/applicants/{}"),
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(("method", "path"), PATHS, ids=lambda v: str(v))
def test_a_malformed_uuid_in_the_path_is_404(api: Api, method: str, path: str, bad: str) -> None:
    body = None if method == "GET" else {"version": 1}
    api.rejects(method, path.format(bad), 404, "not_found", json=body)


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [(m, p, "applicants.not_found" if "applicants/" in p else "cases.not_found") for m, p in PATHS],
    ids=str,
)
def test_an_unknown_uuid_in_the_path_is_404_with_the_record_code(
    api: Api, method: str, path: str, code: str
) -> None:
    body = None if method == "GET" else _new_member() if method == "POST" else {"version": 1}
    api.rejects(method, path.format("0b7f1c5e-8d2a-4c3e-9f00-5a1b2c3d4e5f"), 404, code, json=body)


PAGING = [("page", 0), ("page", -1), ("page", 100_001), ("per_page", 0), ("per_page", 101),
          ("per_page", 10**30), ("page", "1e3")]  # fmt: skip


@pytest.mark.parametrize(("name", "value"), PAGING, ids=str)
def test_search_paging_out_of_range_is_422(api: Api, name: str, value: Any) -> None:
    errors = api.invalid("POST", "/api/v1/cases/search", json={"q": "Haddad", name: value})
    assert at(errors, name)


@pytest.mark.parametrize(
    "query",
    ["page=0", "per_page=101", "per_page=abc", "page=1.5", "page=", "destination=FR", "q=Haddad"],
)
def test_list_query_arguments_out_of_range_are_422(api: Api, query: str) -> None:
    errors = api.invalid("GET", f"/api/v1/cases?{query}")
    assert at(errors, query.split("=")[0])


@pytest.mark.parametrize("record", ["case", "applicant"])
@pytest.mark.parametrize("delta", [-1, 1, 100])
def test_a_stale_version_is_409(api: Api, target: Target, record: str, delta: int) -> None:
    row = target.case if record == "case" else target.child
    url = f"/api/v1/{'cases' if record == 'case' else 'applicants'}/{row.id}"
    change = {"external_ref": "UNHCR-9"} if record == "case" else {"given_names": "Yusuf Ali"}
    body = api.rejects(
        "PATCH", url, 409, "conflict.stale_version", json={"version": row.version + delta, **change}
    )
    assert body["current_version"] == row.version


def test_the_second_of_two_edits_from_the_same_version_is_409(api: Api, target: Target) -> None:
    url = f"/api/v1/applicants/{target.child.id}"
    read_version = target.child.version
    first = api.call("PATCH", url, json={"version": read_version, "given_names": "Yusuf Ali"})
    assert first.status_code == 200
    body = api.rejects(
        "PATCH", url, 409, "conflict.stale_version", json={"version": read_version, "sex": "female"}
    )
    assert body["current_version"] == read_version + 1


def test_a_second_principal_is_422(api: Api, target: Target) -> None:
    errors = api.invalid(
        "POST",
        f"/api/v1/cases/{target.case.id}/applicants",
        json=_new_member(relationship="principal"),
    )
    assert at(errors, "relationship")


def test_making_a_member_principal_beside_the_principal_is_422(api: Api, target: Target) -> None:
    body = {"version": target.child.version, "relationship": "principal"}
    errors = api.invalid("PATCH", f"/api/v1/applicants/{target.child.id}", json=body)
    assert at(errors, "relationship")


def test_demoting_the_principal_is_422(api: Api, target: Target) -> None:
    body = {"version": target.principal.version, "relationship": "spouse"}
    errors = api.invalid("PATCH", f"/api/v1/applicants/{target.principal.id}", json=body)
    assert at(errors, "relationship")


def test_a_case_whose_first_applicant_is_not_principal_is_422(api: Api) -> None:
    errors = api.invalid("POST", "/api/v1/cases", json=_new_family(relationship="spouse"))
    assert at(errors, "principal.relationship")


# --- search terms are data, never SQL or patterns ------------------------------------------------


@pytest.fixture()
def three_families(session: Session, target: Target) -> list[FamilyCase]:
    nurse = target.world.actor("nurse")
    for family, given in [("O'Brien", "Sean"), ("Nasser", "Layla")]:
        make_case(
            session,
            nurse,
            principal=applicant_data(
                family_name=family,
                given_names=given,
                family_name_original=None,
                given_names_original=None,
                dob="1970-01-01",
            ),
        )
    session.commit()
    return list(session.scalars(select(FamilyCase)))


def _search(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.call("POST", "/api/v1/cases/search", json=body)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


@pytest.mark.parametrize(
    "body",
    [{"q": "%"}, {"q": "_"}, {"q": "%%"}, {"q": "%_%"}, {"q": "\\"}, {"q": "/"}, {"q": "*"},
     {"case_number": "%"}, {"case_number": "_"}, {"case_number": "IST-00000_"},
     {"case_number": "IST%"}],
    ids=lambda b: "-".join(f"{k}={v}" for k, v in b.items()),
)  # fmt: skip
def test_like_wildcards_in_a_search_match_nothing(
    api: Api, three_families: list[FamilyCase], body: dict[str, Any]
) -> None:
    assert _search(api, body)["total"] == 0


def test_an_apostrophe_matches_only_names_that_have_one(
    api: Api, three_families: list[FamilyCase]
) -> None:
    result = _search(api, {"q": "'"})
    assert [c["applicants"][0]["family_name"] for c in result["items"]] == ["O'Brien"]


@pytest.mark.parametrize(
    "q", ["' OR '1'='1", "x' OR 1=1 --", "'; DROP TABLE applicants;--", '" OR ""="', "1) OR (1=1"]
)
def test_sql_in_a_search_is_a_search_term(
    api: Api, session: Session, three_families: list[FamilyCase], q: str
) -> None:
    before = snapshot(session)
    result = _search(api, {"q": q})
    assert result["total"] < len(three_families)
    after = snapshot(session)
    assert after["applicants"] == before["applicants"] == 4
    assert after["audit_events"] == before["audit_events"] + 1  # the search itself


@pytest.mark.parametrize("field", ["q", "case_number"])
def test_a_nul_character_in_a_search_term_is_422(api: Api, field: str) -> None:
    errors = api.invalid("POST", "/api/v1/cases/search", json={field: "IST\x00"})
    assert at(errors, field)


# --- nothing submitted comes back in an error body or goes into a log line -----------------------


def test_rejected_values_appear_in_no_error_body_and_no_log_line(
    api: Api, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker_family, marker_given, marker_dob = "Zabrowskiq", "Quenbyrth", "2999-04-05"
    submitted = [marker_family, marker_given, marker_dob, SCRIPT, SQL, "Vexhollow"]
    case_url = f"/api/v1/cases/{target.case.id}"
    requests: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/cases",
         _new_family(family_name=marker_family, given_names=marker_given, dob=marker_dob)),
        ("POST", "/api/v1/cases", _new_family(family_name=SCRIPT)),
        ("POST", f"{case_url}/applicants", _new_member(given_names=SQL)),
        ("POST", f"{case_url}/applicants",
         _new_member(family_name=marker_family, sex="Vexhollow")),
        ("PATCH", f"/api/v1/applicants/{target.child.id}",
         {"version": 99, "family_name": marker_family, "given_names": marker_given}),
        ("PATCH", case_url, {"version": target.case.version, "external_ref": SCRIPT}),
        ("POST", "/api/v1/cases/search", {"q": marker_family, "per_page": 1000}),
        ("POST", "/api/v1/cases/search", {"q": marker_given * 12}),
    ]  # fmt: skip
    bodies = []
    for method, url, body in requests:
        response = api.call(method, url, json=body)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        bodies.append(response.get_data(as_text=True))
    raw_request = json.dumps(requests[0][2]).encode()
    response = api.call("POST", "/api/v1/cases", data=raw_request[:-3], content_type="text/plain")
    bodies.append(response.get_data(as_text=True))
    response = api.call(
        "POST", "/api/v1/cases", data=raw_request[:-3], content_type="application/json"
    )
    bodies.append(response.get_data(as_text=True))

    assert caplog.records, "the requests were logged"
    for value in submitted:
        assert all(value not in body for body in bodies), f"an error body contains {value!r}"
        assert value not in caplog.text, f"a log line contains {value!r}"
    assert audit.verify(api.session).ok


def test_a_nul_character_in_a_sign_in_username_is_a_failed_sign_in(
    client: FlaskClient, world: World, session: Session
) -> None:
    page = client.get("/login")
    before = snapshot(session)
    response = client.post(
        "/login",
        data={
            "username": "t_nurse\x00",
            "password": "correct-horse-battery",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 401
    # The failed attempt is audited (and committed on purpose), nothing else.
    assert snapshot(session) == before | {"audit_events": before["audit_events"] + 1}
    assert audit.verify(session).ok
