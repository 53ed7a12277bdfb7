"""Configuration from the environment (PMHA_*), with embedded defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmha.core.file_crypto import FileKeyError, new_key_text, parse_keys

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class ConfigError(RuntimeError):
    """The configuration cannot run: the message names the missing or wrong setting."""


def _secret_file(var_dir: Path, name: str, new_value: str = "") -> str:
    """A random secret kept under var/ so that the embedded default survives restarts."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = new_value or secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


@dataclass
class Config:
    ENV: str = "development"
    VAR_DIR: str = str(DEFAULT_VAR_DIR)
    DATABASE_URL: str = ""
    BROKER_URL: str = ""
    RESULT_BACKEND: str = ""
    SECRET_KEY: str = ""
    AUDIT_KEY: str = ""
    SESSION_IDLE_MINUTES: int = 30
    SESSION_MAX_HOURS: int = 12
    LOCKOUT_THRESHOLD: int = 5
    LOCKOUT_MINUTES: int = 15
    # Failed sign-ins and token uses counted per client address and per account (pmha.core.
    # throttle; "" switches one off); where the counts live: memory, or Redis in production
    # (default: the broker's Redis when the broker is Redis).
    THROTTLE_PER_CLIENT: str = "20 per 10 minutes"
    THROTTLE_PER_ACCOUNT: str = "10 per 10 minutes"
    THROTTLE_STORAGE_URL: str = ""
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    PAGE_SIZE_MAX: int = 100
    RULES_DIR: str = str(PROJECT_ROOT / "country_rules")
    STORAGE_DIR: str = ""  # X-ray files; the embedded default is var/storage
    # Stored files are encrypted at rest (pmha.core.file_crypto): 'id:base64 of 32 bytes', comma-
    # separated, the first one current (`pmha files new-key`); dev: made under VAR_DIR.
    FILE_KEYS: str = ""
    CERTIFICATE_KEY: str = ""  # Ed25519 PEM signing travel certificates; dev: made under storage
    # Public keys (PEM, one after another) of the certificate keys rotated out: still published
    CERTIFICATE_OLD_KEYS: str = ""
    # Where the public reaches this service: printed on certificates (…/verify)
    PUBLIC_URL: str = "http://127.0.0.1:5000"
    # Where PMHA's own FHIR code and identifier systems live (default PUBLIC_URL + /fhir): a URI
    # under a domain the centre owns (pmha.exports.fhir.common.code_system_base)
    CODE_SYSTEM_BASE: str = ""
    # Pages show and accept a site's local time (pmha.web.localtime): the default zone, and zones
    # by site code ("IST=Europe/Istanbul,ANK=Europe/Istanbul"). Storage and the API stay UTC.
    TIME_ZONE: str = "Europe/Istanbul"
    SITE_TIME_ZONES: str = ""
    # Jobs (pmha.core.outbox): a running job beats every JOB_HEARTBEAT_SECONDS; the sweep
    # re-queues one whose heartbeat is JOB_STALE_SECONDS old (its worker died) and sends again a
    # job queued for JOB_QUEUED_RESEND_SECONDS (its message lost); Redis hands an unacknowledged
    # message to another worker after JOB_VISIBILITY_SECONDS (longer than the longest job).
    JOB_HEARTBEAT_SECONDS: int = 15
    JOB_STALE_SECONDS: int = 120
    JOB_QUEUED_RESEND_SECONDS: int = 1800
    JOB_VISIBILITY_SECONDS: int = 1800
    BENCH_ENDPOINTS: bool = False
    TESTING: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, prefix: str = "PMHA_", environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(prefix + f.name)
            if raw is None:
                continue
            default = f.default
            if isinstance(default, bool):
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int):
                try:
                    values[f.name] = int(raw)
                except ValueError as exc:
                    raise ConfigError(f"{prefix}{f.name} must be a whole number") from exc
            else:
                values[f.name] = raw
        config = cls(**values)
        config.finish()
        return config

    @property
    def production(self) -> bool:
        return self.ENV == "production"

    def finish(self) -> None:
        """Fill embedded defaults, or refuse to run in production without real settings."""
        if self.ENV not in {"development", "production", "test"}:
            raise ConfigError("PMHA_ENV must be development, production or test")
        self._check_time_zones()
        if self.production:
            missing = [
                "PMHA_" + name
                for name in (
                    "DATABASE_URL",
                    "BROKER_URL",
                    "SECRET_KEY",
                    "AUDIT_KEY",
                    "STORAGE_DIR",
                    "FILE_KEYS",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ConfigError("production mode needs " + ", ".join(missing))
            if self.DATABASE_URL.startswith("sqlite"):
                raise ConfigError("production mode needs PostgreSQL in PMHA_DATABASE_URL")
            if len(self.SECRET_KEY) < 32 or len(self.AUDIT_KEY) < 32:
                raise ConfigError("PMHA_SECRET_KEY and PMHA_AUDIT_KEY need 32 characters or more")
            self._check_file_keys()
            return
        var_dir = Path(self.VAR_DIR)
        if not self.DATABASE_URL:
            var_dir.mkdir(parents=True, exist_ok=True)
            self.DATABASE_URL = f"sqlite:///{var_dir / 'pmha.db'}"
        if not self.STORAGE_DIR:
            self.STORAGE_DIR = str(var_dir / "storage")
        if not self.SECRET_KEY:
            self.SECRET_KEY = _secret_file(var_dir, "secret_key")
        if not self.AUDIT_KEY:
            self.AUDIT_KEY = _secret_file(var_dir, "audit_key")
        if not self.FILE_KEYS:
            self.FILE_KEYS = _secret_file(var_dir, "file_keys", new_key_text("dev1"))
        self._check_file_keys()

    def _check_file_keys(self) -> None:
        try:
            parse_keys(self.FILE_KEYS)
        except FileKeyError as exc:
            raise ConfigError(f"PMHA_FILE_KEYS: {exc}") from None

    def _check_time_zones(self) -> None:
        """A mistyped zone must stop the service, not show every time an hour off."""
        zones = {"PMHA_TIME_ZONE": self.TIME_ZONE}
        for item in filter(None, (part.strip() for part in self.SITE_TIME_ZONES.split(","))):
            code, sep, zone = item.partition("=")
            if not sep or not code.strip():
                raise ConfigError("PMHA_SITE_TIME_ZONES is 'SITE=Area/City,...'")
            zones[f"PMHA_SITE_TIME_ZONES ({code.strip()})"] = zone.strip()
        for name, zone in zones.items():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"{name}: {zone!r} is not a time zone (e.g. Europe/Istanbul)"
                ) from None

    @property
    def throttle_storage(self) -> str:
        if self.THROTTLE_STORAGE_URL:
            return self.THROTTLE_STORAGE_URL
        if self.BROKER_URL.startswith(("redis://", "rediss://")):
            return self.BROKER_URL
        return "memory://"

    @property
    def jobs_in_process(self) -> bool:
        return not self.BROKER_URL

    def flask_settings(self) -> dict[str, Any]:
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "MAX_CONTENT_LENGTH": self.MAX_CONTENT_LENGTH,
            "TESTING": self.TESTING,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.production,
            "SESSION_COOKIE_NAME": "pmha_session",
            "WTF_CSRF_TIME_LIMIT": None,
            "WTF_CSRF_ENABLED": True,
            **self.extra,
        }
