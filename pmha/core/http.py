"""The edges of a request: request ids, JSON input, problem+json output, commit, safe logging."""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from pmha.core import outage
from pmha.core.auth import is_api_request
from pmha.core.errors import (
    AppError,
    BadRequest,
    Conflict,
    PayloadTooLarge,
    StaleVersion,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)

C = TypeVar("C")  # a command a schema builds
log = logging.getLogger("pmha.http")

PROBLEM = "application/problem+json"
_HTTP_CODES = {
    400: "request.invalid",
    401: "auth.unauthenticated",
    403: "auth.forbidden",
    404: "not_found",
    405: "request.method_not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "request.too_many",
}


def request_id() -> str:
    rid: str | None = g.get("request_id")
    if rid is None:
        rid = uuid.uuid4().hex
        g.request_id = rid
    return rid


def client_ip() -> str | None:
    return request.remote_addr


def problem_response(error: AppError) -> Response:
    response = jsonify(error.problem(request_id()))
    response.status_code = error.status
    response.mimetype = PROBLEM
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="pmha"'
    return response


def load_command(schema: Schema, kind: type[C]) -> C:
    """The JSON body as the command the schema's post_load builds (issue 21): what a service
    verb takes, typed; any fault is a 4xx naming the field."""
    loaded: Any = _load_body(schema, partial=False)
    if not isinstance(loaded, kind):  # a schema without its post_load: a programming error
        raise TypeError(f"{type(schema).__name__} does not build a {kind.__name__}")
    return loaded


def load_json(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """Parse and validate the JSON body; any fault is a 4xx naming the field."""
    loaded: dict[str, Any] = _load_body(schema, partial=partial)
    return loaded


def _load_body(schema: Schema, *, partial: bool) -> Any:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        data = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise BadRequest("The body is not valid JSON.", code="request.malformed_json") from None
    if not isinstance(data, dict):
        raise ValidationFailed(errors={"_schema": ["The body must be a JSON object."]})
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise ValidationFailed(errors=_messages(exc.messages)) from None


def load_args(schema: Schema) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise ValidationFailed(errors=_messages(exc.messages)) from None
    return loaded


def _messages(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}


def _commit(response: Response) -> Response:
    """One transaction per request, committed here, at the edge, only when it succeeded."""
    session = g.get("pmha_session")
    if session is None:
        return response
    if response.status_code >= 400:
        session.rollback()
        return response
    try:
        session.commit()
    except (StaleDataError, IntegrityError) as exc:
        session.rollback()
        error: AppError = (
            StaleVersion()
            if isinstance(exc, StaleDataError)
            else Conflict(
                "The change conflicts with data saved meanwhile.", code="conflict.integrity"
            )
        )
        log.warning("commit refused: %s request_id=%s", type(exc).__name__, request_id())
        return _error_response(error)
    except outage.OUTAGES as exc:  # the database went away before the commit: nothing saved
        _discard(session)
        return _error_response(outage.unavailable(exc, request_id()))
    return response


def _discard(session: Any) -> None:
    try:
        session.rollback()
    except Exception as exc:  # the connection is gone (the pool replaces it), or committed
        log.info("rollback after an outage: %s", type(exc).__name__)
    finally:
        session.close()


def _security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    # No page needs the camera, microphone, location, payment or USB: say so to the browser.
    h.setdefault(
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    )
    if current_app.extensions["pmha.config"].production:
        # Production runs behind TLS only (README, Production): browsers must never fall back.
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if not request.path.startswith("/static/"):
        h["Cache-Control"] = "no-store"
    h["X-Request-ID"] = request_id()
    return response


def _log_request(response: Response) -> Response:
    # The route pattern, never the URL with its query string (search terms are identifying).
    rule = request.url_rule.rule if request.url_rule else "<unmatched>"
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    log.info(
        "%s %s %s %.1fms request_id=%s",
        request.method,
        rule,
        response.status_code,
        elapsed,
        request_id(),
    )
    return response


def _error_response(error: AppError) -> Response:
    if is_api_request():
        response = problem_response(error)
    elif isinstance(error, Unauthenticated):
        return redirect(url_for("accounts.login", next=request.path))  # type: ignore[return-value]
    elif isinstance(error, outage.ServiceUnavailable):
        # Without the context processors: they read the signed-in user from the database.
        page = current_app.jinja_env.from_string(outage.PAGE)
        html = page.render(error=error, request_id=request_id())
        response = Response(html, status=error.status, mimetype="text/html")
    else:
        html = render_template("error.html", error=error, request_id=request_id())
        response = Response(html, status=error.status, mimetype="text/html")
    if isinstance(error, TooManyRequests | outage.ServiceUnavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _from_http(exc: HTTPException) -> AppError:
    status = exc.code or 500
    error: AppError = (
        PayloadTooLarge("The request body is larger than this endpoint accepts.")
        if status == 413
        else AppError(exc.description or exc.name)
    )
    error.status = status
    error.title = exc.name
    error.code = _HTTP_CODES.get(status, f"http.{status}")
    if exc.__class__.__name__ == "CSRFError":
        error.code = "auth.csrf_failed"
        error.detail = "The form expired or was not sent from this site. Reload and try again."
    return error


def init_http(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        # A request may run inside an outer app context (tests, CLI): never inherit its state.
        for key in ("pmha_actor", "pmha_session", "request_id"):
            g.pop(key, None)
        g.started = time.perf_counter()
        request_id()

    # after_request runs last-registered first: commit, then headers, then the log line.
    app.after_request(_log_request)
    app.after_request(_security_headers)
    app.after_request(_commit)

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Response:
        return _error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        response = _error_response(_from_http(exc))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            # RFC 9110 §15.5.6: a 405 names the methods the resource supports.
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    def _outage(exc: Exception) -> Response:
        # A database or broker outage: 503 and Retry-After, and this request's session let go.
        session = g.pop("pmha_session", None)
        if session is not None:
            _discard(session)
        return _error_response(outage.unavailable(exc, request_id()))

    for outage_error in outage.OUTAGES:
        app.register_error_handler(outage_error, _outage)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Response:
        # Type and frames only: messages of driver errors can carry submitted values.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error("unhandled %s request_id=%s\n%s", type(exc).__name__, request_id(), frames)
        error = AppError("Something went wrong on our side. Quote the request id to support.")
        error.status, error.code, error.title = 500, "server.error", "Internal error"
        return _error_response(error)
