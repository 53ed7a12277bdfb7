"""Domain errors and their RFC 9457 problem form. No health data ever goes into a message."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error a client can act on. `code` is stable and machine-readable."""

    status = 400
    code = "request.invalid"
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        self.errors = errors
        self.extra = extra or {}

    def problem(self, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://pmha.example.org/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "request_id": request_id,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status = 400
    code = "request.invalid"
    title = "Bad request"


class Unauthenticated(AppError):
    status = 401
    code = "auth.unauthenticated"
    title = "Authentication required"


class Forbidden(AppError):
    status = 403
    code = "auth.forbidden"
    title = "Not allowed for your role"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class StaleVersion(Conflict):
    code = "conflict.stale_version"
    title = "The record was changed by someone else"


class PayloadTooLarge(AppError):
    status = 413
    code = "request.too_large"
    title = "Request body too large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "request.unsupported_media_type"
    title = "Unsupported media type"


class ValidationFailed(AppError):
    status = 422
    code = "validation.failed"
    title = "Some fields are not valid"


class TooManyRequests(AppError):
    status = 429
    code = "request.too_many"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class LockedOut(AppError):
    status = 423
    code = "auth.locked"
    title = "Account locked"
