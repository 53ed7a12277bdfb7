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
    operation_id: str | None = None,
    body_content: dict[str, Any] | None = None,
    response_content: dict[str, Any] | None = None,
    path: dict[str, list[str]] | None = None,
) -> Callable[[F], F]:
    """Attach what the OpenAPI document says about an API view. `body_content` and
    `response_content` describe a body that is not JSON (media type -> OpenAPI media object);
    `path` lists the values a string path argument accepts (name -> values)."""

    def decorate(fn: F) -> F:
        fn.pmha_doc = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "response": response,
            "query": query,
            "status": status,
            "errors": errors,
            "tag": tag,
            "operation_id": operation_id,
            "body_content": body_content,
            "response_content": response_content,
            "path": path or {},
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


# StrictSchema refuses control characters (NUL and the like; tab and newlines pass) in every
# string: the document says so, so that what it allows is what is accepted (issue 19).
NO_CONTROL_CHARACTERS = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


# Dates from 1900 to 2100 (schemas.date_in_range; a date of birth is also from 1900 on).
DATE_1900_TO_2100 = r"^(19[0-9][0-9]|20[0-9][0-9]|2100)-"


def _validator_attributes(field: Any) -> dict[str, Any]:
    """What the shared validators of pmha.core.schemas accept, in JSON Schema words."""
    import pycountry

    from pmha.core import schemas

    out: dict[str, Any] = {}
    for check in getattr(field, "validators", ()):
        if check in (schemas.date_in_range, schemas.past_date_of_birth):
            out["pattern"] = DATE_1900_TO_2100
        elif check is schemas.reference:
            out["pattern"] = schemas._REFERENCE.pattern
        elif check in (schemas.country_code, schemas.nationality_code):
            codes = sorted(c.alpha_2 for c in pycountry.countries)
            if check is schemas.nationality_code:
                codes.append(schemas.STATELESS_OR_UNKNOWN)
            out["enum"] = codes
    return out


def _no_control_characters(self: Any, field: Any, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    from marshmallow import fields

    out = _validator_attributes(field)
    if (
        isinstance(field, fields.String)
        and not isinstance(field, fields.UUID)
        and "pattern" not in ret
        and "pattern" not in out
        and "enum" not in out
        and "enum" not in ret
    ):
        out["pattern"] = NO_CONTROL_CHARACTERS
    return out


def build_spec(app: Flask) -> dict[str, Any]:
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="PMHA API",
        version="1",
        openapi_version="3.0.3",
        plugins=[marshmallow],
        info={
            "description": "Migration health assessment. Authenticate with "
            "`Authorization: Bearer <token>` (see `pmha users token`)."
        },
    )
    assert marshmallow.converter is not None
    marshmallow.converter.add_attribute_function(_no_control_characters)  # type: ignore[no-untyped-call]
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
            if meta.get("operation_id"):
                op["operationId"] = meta["operation_id"]
            any_of = getattr(view, "pmha_any_permission", None)
            if any_of and not op["x-permissions"]:
                op["x-permissions"] = list(any_of)
                op["x-permissions-any"] = True  # one of them suffices
            params = [
                {
                    "in": "path",
                    "name": name,
                    "required": True,
                    "schema": (
                        {"type": "string", "enum": meta["path"][name]}
                        if name in meta.get("path", {})
                        else _path_type(rule, name)
                    ),
                }
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
            if meta.get("body_content"):
                op["requestBody"] = {"required": True, "content": meta["body_content"]}
            ok: dict[str, Any] = {"description": "Success"}
            if meta["response"] is not None:
                ok["content"] = {"application/json": {"schema": meta["response"]}}
            if meta.get("response_content"):
                ok["content"] = meta["response_content"]
            op["responses"][str(meta["status"])] = ok
            for code in sorted({401, 403, *meta["errors"]}):
                op["responses"][str(code)] = _problem(_ERROR_TEXT.get(code, "Error"))
            paths.setdefault(path, {})[method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
