"""HTML forms validated by the same marshmallow schemas as the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import abort, make_response
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from pmha.core.db import get_session
from pmha.core.errors import AppError, Forbidden, NotFound

T = TypeVar("T")


@dataclass
class Failed:
    """A refused form: which one, what was sent, what is wrong by field, and the service's
    refusal when it was the service that refused (its details, e.g. duplicate candidates)."""

    target: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    problem: AppError | None = None

    @property
    def message(self) -> str:
        """What is wrong, in one message: the service's words, else the fields' messages."""
        if self.problem is not None:
            return self.problem.detail or self.problem.title
        return " ".join(self.messages)

    @property
    def messages(self) -> list[str]:
        """Every field's messages, in order, for a form that shows them in one place."""
        return [m for messages in self.errors.values() for m in messages]

    def on(self, name: str) -> Failed:
        """A refusal that names no field, shown on the field `name` (an upload's file...)."""
        if set(self.errors) == {"_form"}:
            return Failed(self.target, self.values, {name: self.errors["_form"]}, self.problem)
        return self

    def as_a_whole(self) -> Failed:
        """The refusal as one message about the whole form, for a form whose fields are not
        where the problem lies."""
        return Failed(self.target, self.values, {"_form": [self.message]}, self.problem)


def error_summary(
    failed: Failed | None, label: Callable[[str], str], *, prefix: str | None = None
) -> dict[str, Any]:
    """What a page's error summary shows of a refused form, to pass to its template: `failed`,
    and each field's messages and label, keyed by the field's id on the page ("<prefix>-<name>",
    the prefix being the form's target unless given; a message about the whole form keeps its
    "_" name and links nowhere)."""
    summary: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    if failed is not None:
        for name, messages in failed.errors.items():
            key = name if name.startswith("_") else f"{prefix or failed.target}-{name}"
            summary[key] = messages
            labels[key] = label(name)
    return shown(failed, summary, labels)


def sent_back(failed: Failed | None) -> dict[str, Any]:
    """A refused form as a page whose template reads `form` (the values sent) and `errors` (by
    field) takes it: empty when nothing was refused."""
    return {"form": failed.values if failed else {}, "errors": failed.errors if failed else {}}


def shown(
    failed: Failed | None, summary: dict[str, list[str]], labels: dict[str, str]
) -> dict[str, Any]:
    """A refused form as its page's template takes it: the form, and its error summary (the
    messages and labels by field id), for the macros in macros.html."""
    return {"failed": failed, "summary_errors": summary, "summary_labels": labels}


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


def form_load(
    target: str,
    values: dict[str, Any],
    page: Callable[[Failed], Any],
    schema: Schema,
    typed: Any = None,
    status: int = 422,
) -> Any:
    """The form loaded through the API's schema (`typed`: the values as the schema takes them;
    default, `values` as sent): a command where the schema builds one. Refused, it answers at
    once with `page(failed)`, the form shown again with its values and what is wrong by field."""
    loaded, errors = load_form(schema, values if typed is None else typed)
    if loaded is None:
        abort(make_response(_status(page(Failed(target, values, errors)), status)))
    return loaded


def form_action(
    target: str,
    values: dict[str, Any],
    act: Callable[[Any], T],
    page: Callable[[Failed], Any],
    *,
    schema: Schema | None = None,
    typed: Any = None,
    status: int | None = None,
) -> T:
    """A form's action, the HTML sibling of `pmha.core.endpoint.Api`: the form loaded through
    the API's schema (`form_load`), then `act(loaded)`, the service call, in a SAVEPOINT; what
    it returns.

    A refusal answers at once with `page(failed)` (a page function; the refusal sets its status)
    showing the form again, its values and what is wrong by field: the schema's (422) or the
    service's (its AppError's status), after which only the savepoint is rolled back. A
    Forbidden or NotFound answers as itself, not as a field error. `status` answers every
    refusal with one status."""
    loaded = None
    if schema is not None:
        loaded = form_load(target, values, page, schema, typed, status or 422)
    try:
        with get_session().begin_nested():
            return act(loaded)
    except (Forbidden, NotFound):
        raise
    except AppError as exc:
        failed = Failed(target, values, app_error_fields(exc), exc)
        abort(make_response(_status(page(failed), status or exc.status)))


def _status(answer: Any, status: int) -> Any:
    """A page function's answer with the refusal's status (a page answers 200 by default); a
    whole response (back to where the button was, with a message) keeps its own."""
    if isinstance(answer, Response):
        return answer
    body = answer[0] if isinstance(answer, tuple) else answer
    return body, status
