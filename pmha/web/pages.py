"""One decorator per HTML page (issue 21), the sibling of `pmha.core.endpoint.Api`: the route,
the permission it needs, and the records its path names, loaded for the caller.

    record_pages = Pages(bp, prefix=RECORD)

    @record_pages.page("/labs", "labs:read", endpoint="labs")
    def _page(applicant: Applicant, failed: Failed | None = None, status: int = 200) -> Any:
        ...  # the labs page, with a refused form when there is one

    @record_pages.post("/labs/orders", "exams:write")
    def order_tests(applicant: Applicant) -> Any:
        ...

A handler that names `applicant` is given the applicant of the path's `case_id` and
`applicant_id`, at one of the caller's sites and in that case (a 404 otherwise); it names
`case_id` or `applicant_id` too only where it uses them. The form on the page goes through
`pmha.core.forms.form_action`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint

from pmha.core.auth import Permission, guard
from pmha.web.record import applicant_of

F = TypeVar("F", bound=Callable[..., Any])

# The pages of one applicant's clinical record (exam, labs, X-rays, vaccinations, TB...).
RECORD = "/cases/<uuid:case_id>/applicants/<uuid:applicant_id>"


class Pages:
    """A blueprint's HTML pages, each declared by one decorator; `prefix` starts every rule."""

    def __init__(self, bp: Blueprint, *, prefix: str = "") -> None:
        self.bp, self.prefix = bp, prefix

    def get(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        return self.route(rule, permission, methods=("GET",), **options)

    def post(self, rule: str, permission: Permission, **options: Any) -> Callable[[F], F]:
        return self.route(rule, permission, methods=("POST",), **options)

    def page(self, rule: str, permission: Permission, *, endpoint: str) -> Callable[[F], F]:
        """Decorates a page function: a GET of `rule` shows it, given what the path names (and
        the applicant, where it takes one) and its defaults for the rest (no refused form, 200).
        The function is left as it is, for the form handlers that show the page again."""

        def decorate(fn: F) -> F:
            self.get(rule, permission, endpoint=endpoint)(fn)
            return fn

        return decorate

    def route(
        self,
        rule: str,
        permission: Permission,
        *,
        methods: tuple[str, ...],
        endpoint: str | None = None,
    ) -> Callable[[F], F]:
        """Register the page: `permission` is checked first (a tuple: any one of them; None:
        the handler carries its own check, e.g. any signed-in user, or the page is public)."""

        def decorate(fn: F) -> F:
            view: Any = guard(permission)(_given(fn))
            self.bp.route(self.prefix + rule, methods=list(methods), endpoint=endpoint)(view)
            return view  # type: ignore[no-any-return]

        return decorate


def _given(fn: Any) -> Any:
    """The handler given what it names of the path, and `applicant` loaded from it."""
    wanted = set(inspect.signature(fn).parameters)
    if "applicant" not in wanted:
        return fn

    @functools.wraps(fn)
    def handler(**path: Any) -> Any:
        applicant = applicant_of(path["case_id"], path["applicant_id"])
        return fn(applicant=applicant, **{k: v for k, v in path.items() if k in wanted})

    return handler
