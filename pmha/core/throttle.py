"""Throttling failed sign-ins and token uses, per client address and per account (ASVS 2.2.1).

The account lockout stops guessing one account's password; it does not stop one client trying
thirty usernames. Failures are counted in a moving window with `limits` (the library under
Flask-Limiter): in memory for `make run`, in Redis in production (shared by every worker). Over
the limit, the caller gets 429 with Retry-After before any password is checked.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from pmha.core.errors import TooManyRequests


@dataclass(frozen=True)
class Rule:
    scope: str  # "client" or "account"
    limit: RateLimitItem


class Throttle:
    """`check` before the attempt (429 when a key is over its limit), `failed` after a failure.
    An empty limit switches that scope off."""

    def __init__(self, storage_url: str, *, per_client: str, per_account: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))
        self._rules = {
            scope: parse(text)
            for scope, text in (("client", per_client), ("account", per_account))
            if text.strip()
        }

    def _keys(
        self, kind: str, client: str | None, account: str | None
    ) -> list[tuple[RateLimitItem, str]]:
        keys = []
        if client and "client" in self._rules:
            keys.append((self._rules["client"], f"{kind}:client:{client}"))
        if account and "account" in self._rules:
            keys.append((self._rules["account"], f"{kind}:account:{account.strip().lower()}"))
        return keys

    def check(self, kind: str, *, client: str | None, account: str | None = None) -> None:
        for limit, key in self._keys(kind, client, account):
            if not self._limiter.test(limit, key):
                reset = self._limiter.get_window_stats(limit, key).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise TooManyRequests(
                    "Too many failed attempts from here. Wait "
                    f"{_minutes(wait)} before trying again.",
                    retry_after=wait,
                )

    def failed(self, kind: str, *, client: str | None, account: str | None = None) -> None:
        for limit, key in self._keys(kind, client, account):
            self._limiter.hit(limit, key)


def _minutes(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
