"""The OpenAPI document, built from the API views' own schemas and permissions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema
from werkzeug.routing import UUIDConverter

F = TypeVar("F", bound=Callable[..., Any])

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, machine-readable"},
        "request_id": {"type": "string"},
        "errors": {"type": "object", "description": "field -> messages (422 only)"},
    },
    "required": ["type", "title", "status", "code", "request_id"],
}


def doc(
    summary: str,
    *,
    body: type[Schema] | None = None,
    response: type[Schema] | None = None,
    query: type[Schema] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    tag: str = "cases",
) -> Callable[[F], F]:
    """Attach what the OpenAPI document says about an API view."""

    def decorate(fn: F) -> F:
        fn.pmha_doc = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "response": response,
            "query": query,
            "status": status,
            "errors": errors,
            "tag": tag,
        }
        return fn

    return decorate


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


_ERROR_TEXT = {
    400: "Malformed request (e.g. body is not JSON)",
    401: "No or invalid bearer token",
    403: "Your role lacks the permission",
    404: "Not found, or not at one of your sites",
    409: "Stale version or possible duplicate",
    413: "Body too large",
    415: "Body is not application/json",
    422: "A field is not valid: see errors",
}


def _path_type(rule: Any, name: str) -> dict[str, str]:
    converter = rule._converters.get(name)  # werkzeug keeps each argument's converter here
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title="PMHA API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Migration health assessment. Authenticate with "
            "`Authorization: Bearer <token>` (see `pmha users token`)."
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "pmha_doc", None)
        if meta is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "summary": meta["summary"],
                "tags": [meta["tag"]],
                "security": [{"bearer": []}],
                "x-permissions": list(getattr(view, "pmha_permissions", ())),
                "responses": {},
            }
            params = [
                {"in": "path", "name": name, "required": True, "schema": _path_type(rule, name)}
                for name in sorted(rule.arguments)
            ]
            if meta["query"] is not None:
                params.append({"in": "query", "schema": meta["query"]})
            if params:
                op["parameters"] = params
            if meta["body"] is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": meta["body"]}},
                }
            ok: dict[str, Any] = {"description": "Success"}
            if meta["response"] is not None:
                ok["content"] = {"application/json": {"schema": meta["response"]}}
            op["responses"][str(meta["status"])] = ok
            for code in sorted({401, 403, *meta["errors"]}):
                op["responses"][str(code)] = _problem(_ERROR_TEXT.get(code, "Error"))
            paths.setdefault(path, {})[method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
