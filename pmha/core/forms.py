"""HTML forms validated by the same marshmallow schemas as the API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from pmha.core.errors import AppError


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"principal": {"dob": ["..."]}} -> {"principal.dob": ["..."]}, for inline errors."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_form"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.update(flatten(value, f"{prefix}.{i}"))
    else:
        out[prefix or "_form"] = [str(messages)]
    return out


def form_data(form: MultiDict[str, str], names: list[str]) -> dict[str, Any]:
    """The submitted values of the given fields; empty inputs count as not given."""
    data: dict[str, Any] = {}
    for name in names:
        value = form.get(name, "").strip()
        if value:
            data[name] = value
    return data


def load_form(schema: Schema, data: dict[str, Any]) -> tuple[Any, dict[str, list[str]]]:
    """What the schema loads (a dict, or a command its post_load builds; None when refused)
    and the refusals by field."""
    try:
        return schema.load(data), {}
    except ValidationError as exc:
        return None, flatten(exc.messages)


def app_error_fields(exc: AppError) -> dict[str, list[str]]:
    if exc.errors:
        return flatten(exc.errors)
    return {"_form": [exc.detail]}
