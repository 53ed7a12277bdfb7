"""Local time on the pages (issue 18, "Time"): each site has a time zone; pages show and accept
local time; the database and the API keep UTC (ISO 8601 with its offset).

A site's zone is configuration, not a column: PMHA_SITE_TIME_ZONES ("IST=Europe/Istanbul,
ANK=Europe/Istanbul") names zones by site code, and PMHA_TIME_ZONE (default Europe/Istanbul) is
the zone of every other site. A page is shown in the zone of the signed-in user's first site (by
code); a user with no site (admin, auditor) sees the default zone."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import select

from pmha.core.auth import current_actor
from pmha.core.db import get_session, utcnow

DEFAULT_ZONE = "Europe/Istanbul"


def _setting(name: str, default: str) -> str:
    """PMHA_<name> from the app's configuration (its `extra`, for tests) or the environment."""
    config = current_app.extensions.get("pmha.config")
    value = getattr(config, name, None) or (getattr(config, "extra", None) or {}).get(name)
    return str(value or os.environ.get("PMHA_" + name) or default)


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def site_zones() -> dict[str, str]:
    """'IST=Europe/Istanbul, ANK=Europe/Istanbul' -> {'IST': 'Europe/Istanbul', ...}."""
    raw = _setting("SITE_TIME_ZONES", "")
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {code.strip().upper(): zone.strip() for code, zone in pairs}


def site_zone(site_code: str | None) -> ZoneInfo:
    default = _setting("TIME_ZONE", DEFAULT_ZONE)
    return zone_named(site_zones().get((site_code or "").upper(), default))


def page_zone() -> ZoneInfo:
    """The zone of the signed-in user's site, found once per request."""
    if not has_request_context():
        return site_zone(None)
    if "pmha_zone" not in g:
        code = None
        me = current_actor(optional=True)
        if me is not None and me.site_ids:
            from pmha.cases.models import Site  # a lookup of codes only, no health data

            codes = sorted(get_session().scalars(select(Site.code).where(Site.id.in_(me.site_ids))))
            code = codes[0] if codes else None
        g.pmha_zone = site_zone(code)
    zone: ZoneInfo = g.pmha_zone
    return zone


def to_local(moment: datetime) -> datetime:
    """A stored moment (UTC; a naive one is read as UTC) in the page's zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(page_zone())


def local(moment: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """The `local` filter: '2026-12-07 10:30' in the site's time. Dates pass through."""
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return moment.strftime(fmt if "%H" not in fmt else "%Y-%m-%d")
    return to_local(moment).strftime(fmt)


def local_input(moment: datetime | None) -> str:
    """The value of a datetime-local input showing a stored moment."""
    return local(moment, "%Y-%m-%dT%H:%M") if moment else ""


def from_local(text: str) -> datetime:
    """A datetime-local input (site time) as an aware UTC moment; an explicit offset is kept.
    Raises ValueError on text that is not a date and time."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=page_zone())
    return moment.astimezone(UTC)


def zone_name() -> str:
    """'UTC+3' for a label such as 'Departs at (local time, UTC+3)'."""
    offset = utcnow().astimezone(page_zone()).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"


def relative_day(day: date | datetime | None, today: date | None = None) -> str:
    """'today', 'tomorrow', 'in 2 days', 'yesterday', '3 days ago' (never 'in -2531 days')."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = to_local(day).date()
    if today is None:
        today = to_local(utcnow()).date()
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    if delta > 0:
        return f"in {delta} days" if delta < 60 else f"in {round(delta / 30.44)} months"
    if -delta < 60:
        return f"{-delta} days ago"
    if -delta < 730:
        return f"{round(-delta / 30.44)} months ago"
    return f"{round(-delta / 365.25)} years ago"


def init_localtime(app: Flask) -> None:
    app.add_template_filter(local, "local")
    app.add_template_filter(local_input, "local_input")
    app.add_template_filter(relative_day, "relative_day")
    app.add_template_global(zone_name, "zone_name")
