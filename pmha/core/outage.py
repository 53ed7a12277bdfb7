"""Outages of the database or the broker: a 503 with Retry-After, never a bare 500.

A request that meets a database that is down (connection refused, dropped, pool exhausted) or a
broker that is down answers problem+json 503 (API) or a short page (pages) asking to retry, and
logs one line with the error's type and the request id only: driver messages can carry SQL and
submitted values. The service recovers by itself: PostgreSQL connections are pinged before use
(pool_pre_ping in make_engine) and a dead one is replaced; every request's session is rolled back
and closed at teardown, so none stays stuck on a broken connection.
"""

from __future__ import annotations

import logging

from kombu.exceptions import OperationalError as BrokerOperationalError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from pmha.core.errors import AppError

log = logging.getLogger("pmha.http")

RETRY_AFTER = 30  # seconds: a restart of PostgreSQL or Redis

DATABASE_DOWN: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
)
BROKER_DOWN: tuple[type[Exception], ...] = (BrokerOperationalError,)
try:  # redis is there when the broker or the throttle's storage is Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    BROKER_DOWN += (RedisConnectionError, RedisTimeout)
except ImportError:  # pragma: no cover
    pass

OUTAGES = DATABASE_DOWN + BROKER_DOWN


class ServiceUnavailable(AppError):
    status = 503
    code = "service.unavailable"
    title = "Service unavailable"

    def __init__(
        self, detail: str | None = None, *, code: str | None = None, retry_after: int = RETRY_AFTER
    ) -> None:
        super().__init__(detail, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after


def unavailable(exc: BaseException, request_id: str) -> ServiceUnavailable:
    """The 503 for an outage, logged with the error's type only."""
    database = isinstance(exc, DATABASE_DOWN)
    cause = type(getattr(exc, "orig", None) or exc).__name__
    log.error(
        "%s unavailable: %s (%s) request_id=%s",
        "database" if database else "broker",
        type(exc).__name__,
        cause,
        request_id,
    )
    if database:
        return ServiceUnavailable(
            "The database cannot be reached just now. Nothing was saved; try again in a minute.",
            code="service.database_unavailable",
        )
    return ServiceUnavailable(
        "A background service cannot be reached just now. Try again in a minute.",
        code="service.broker_unavailable",
    )


# The page needs nothing but itself: base.html reads the signed-in user, from the database.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ error.title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>{{ error.title }}</h1><p>{{ error.detail }}</p>
<p>Reference for support: <code>{{ request_id }}</code></p>
<p><a href="">Try again</a></p></main></body></html>
"""
