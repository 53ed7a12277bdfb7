"""Configuration from the environment (PMHA_*), with embedded defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class ConfigError(RuntimeError):
    """The configuration cannot run: the message names the missing or wrong setting."""


def _secret_file(var_dir: Path, name: str) -> str:
    """A random secret kept under var/ so that the embedded default survives restarts."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
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
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    PAGE_SIZE_MAX: int = 100
    RULES_DIR: str = str(PROJECT_ROOT / "country_rules")
    STORAGE_DIR: str = ""  # X-ray files; the embedded default is var/storage
    CERTIFICATE_KEY: str = ""  # Ed25519 PEM signing travel certificates; dev: made under storage
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
        if self.production:
            missing = [
                "PMHA_" + name
                for name in ("DATABASE_URL", "BROKER_URL", "SECRET_KEY", "AUDIT_KEY", "STORAGE_DIR")
                if not getattr(self, name)
            ]
            if missing:
                raise ConfigError("production mode needs " + ", ".join(missing))
            if self.DATABASE_URL.startswith("sqlite"):
                raise ConfigError("production mode needs PostgreSQL in PMHA_DATABASE_URL")
            if len(self.SECRET_KEY) < 32 or len(self.AUDIT_KEY) < 32:
                raise ConfigError("PMHA_SECRET_KEY and PMHA_AUDIT_KEY need 32 characters or more")
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
