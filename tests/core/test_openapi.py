"""The OpenAPI document is valid and describes every API route from its own schemas."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_openapi_document_is_valid(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    validate(response.json)


def test_every_api_route_is_documented_with_its_permission(app, client):
    spec = client.get("/api/openapi.json").json
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = spec["paths"][path][method.lower()]
            assert op["summary"]
            assert op["x-permissions"], f"{method} {path} names no permission"
            assert "401" in op["responses"] and "403" in op["responses"]


def test_case_create_documents_its_body_and_problem_responses(client):
    spec = client.get("/api/openapi.json").json
    op = spec["paths"]["/api/v1/cases"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("CaseIn")
    assert "application/problem+json" in op["responses"]["422"]["content"]
    case_in = spec["components"]["schemas"]["CaseIn"]
    assert {"destination", "programme", "principal"} <= set(case_in["required"])


def test_human_docs_page_lists_the_endpoints(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/v1/cases/search" in page.text
