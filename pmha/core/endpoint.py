"""One decorator per API handler (issue 21): the route, the permission it needs and its
OpenAPI entry, with the error statuses derived from what the operation takes. The summary is the
handler's docstring, so the words a caller reads sit with the code they describe.

    api = Api(bp, tag="vaccines")

    @api.create("/vaccine-lots", "vaccines:write", body=LotIn, response=LotOut, also=(409,))
    def receive_lot() -> Any:
        \"\"\"Receive a lot into a site's stock; a lot already held is a 409.\"\"\"
        ...

Derived statuses: a JSON body can be malformed (400), of another media type (415) or invalid
(422), and one whose schema carries `version` can be stale (409); a query can be invalid (422);
a path naming a record can name none of the caller's (404). `also` adds what the operation can
answer besides (a 409 for a state conflict, a 413 for an upload...). 401 and 403 are on every
operation (pmha.core.openapi)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response
from marshmallow import Schema

from pmha.core.auth import Permission, actor, guard
from pmha.core.db import get_session
from pmha.core.http import load_args, load_json
from pmha.core.openapi import doc

F = TypeVar("F", bound=Callable[..., Any])


def derived_errors(rule: str, body: type[Schema] | None, query: type[Schema] | None) -> set[int]:
    """The error statuses an operation can answer from what it takes (see the module's doc)."""
    found: set[int] = set()
    if body is not None:
        found |= {400, 415, 422}
        if "version" in body._declared_fields:
            found.add(409)
    if query is not None:
        found.add(422)
    if "<" in rule:
        found.add(404)
    return found


class Api:
    """A domain's API routes on its blueprint, each declared by one decorator."""

    def __init__(
        self, bp: Blueprint, *, tag: str, operation_ids: bool = False, prefix: str = ""
    ) -> None:
        """`operation_ids`: each operation's id is its handler's name in camelCase (an API
        whose clients generate code from the document), unless the route names another.
        `prefix` starts every rule (see `under`)."""
        self.bp, self.tag, self.operation_ids, self.prefix = bp, tag, operation_ids, prefix

    def under(self, prefix: str) -> Api:
        """The routes under one resource, e.g. `api.under("/applicants/<uuid:applicant_id>")`:
        their rules are written from there on."""
        return Api(
            self.bp, tag=self.tag, operation_ids=self.operation_ids, prefix=self.prefix + prefix
        )

    def get(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        return self.route("GET", rule, permission, **options)

    def post(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        return self.route("POST", rule, permission, **options)

    def create(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        """A POST that makes a record: 201 Created."""
        return self.route("POST", rule, permission, status=201, **options)

    def put(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        return self.route("PUT", rule, permission, **options)

    def patch(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        return self.route("PATCH", rule, permission, **options)

    def delete(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        return self.route("DELETE", rule, permission, **options)

    def route(
        self,
        method: str,
        rule: str,
        permission: Permission,
        *,
        body: type[Schema] | None = None,
        response: type[Schema] | None = None,
        query: type[Schema] | None = None,
        status: int = 200,
        also: tuple[int, ...] = (),
        tag: str | None = None,
        operation_id: str | None = None,
        body_content: dict[str, Any] | None = None,
        response_content: dict[str, Any] | None = None,
        path: dict[str, list[str]] | None = None,
        summary: str | None = None,
    ) -> Callable[[F], F]:
        """Register the handler: `permission` is checked first (a tuple: any one of them);
        its docstring is the summary unless `summary` is given (a handler whose docstring
        speaks to developers)."""

        rule = self.prefix + rule

        def decorate(fn: F) -> F:
            said = summary or " ".join((inspect.getdoc(fn) or "").split())
            if not said:
                raise TypeError(f"{fn.__name__}: an API handler's docstring is its summary")
            errors = derived_errors(rule, body, query) | set(also)
            view: Any = doc(
                said,
                body=body,
                response=response,
                query=query,
                status=status,
                errors=tuple(sorted(errors)),
                tag=tag or self.tag,
                operation_id=operation_id or self._operation_id(fn),
                body_content=body_content,
                response_content=response_content,
                path=path,
            )(fn)
            view = guard(permission)(_prepared(view, body, query, status))
            self.bp.route(rule, methods=[method])(view)
            return view  # type: ignore[no-any-return]

        return decorate

    def _operation_id(self, fn: Callable[..., Any]) -> str | None:
        return _camel(fn.__name__) if self.operation_ids else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _prepared(fn: Any, body: type[Schema] | None, query: type[Schema] | None, status: int) -> Any:
    """The handler given what it names: `db` (the request's session), `me` (the caller), `body`
    (the JSON body as its schema loads it: a command where the schema builds one) and `args`
    (the query); a body it returns alone is answered with the operation's status."""
    wanted = set(inspect.signature(fn).parameters)
    if not wanted & {"db", "me", "body", "args"} and status == 200:
        return fn

    @functools.wraps(fn)
    def handler(**path: Any) -> Any:
        given: dict[str, Any] = {}
        if "db" in wanted:
            given["db"] = get_session()
        if "me" in wanted:
            given["me"] = actor()
        if "body" in wanted and body is not None:
            given["body"] = load_json(body())
        if "args" in wanted and query is not None:
            given["args"] = load_args(query())
        out = fn(**given, **path)
        if status != 200 and not isinstance(out, (tuple, Response)):
            return out, status
        return out

    return handler
