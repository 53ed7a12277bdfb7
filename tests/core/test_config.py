"""Configuration: embedded defaults for a laptop; production refuses to start half-configured."""

from __future__ import annotations

import pytest

from pmha.config import Config, ConfigError

STRONG = "x" * 40


def test_embedded_default_is_sqlite_with_generated_secrets(tmp_path):
    config = Config.from_env(environ={"PMHA_VAR_DIR": str(tmp_path)})
    assert config.DATABASE_URL == f"sqlite:///{tmp_path / 'pmha.db'}"
    assert config.jobs_in_process
    again = Config.from_env(environ={"PMHA_VAR_DIR": str(tmp_path)})
    assert again.SECRET_KEY == config.SECRET_KEY  # sessions survive a restart


@pytest.mark.parametrize(
    "missing",
    [
        "PMHA_DATABASE_URL",
        "PMHA_BROKER_URL",
        "PMHA_SECRET_KEY",
        "PMHA_AUDIT_KEY",
        "PMHA_STORAGE_DIR",
    ],
)
def test_production_refuses_to_start_without(missing):
    env = {
        "PMHA_ENV": "production",
        "PMHA_DATABASE_URL": "postgresql+psycopg://db/pmha",
        "PMHA_BROKER_URL": "redis://cache:6379/0",
        "PMHA_SECRET_KEY": STRONG,
        "PMHA_AUDIT_KEY": STRONG,
        "PMHA_STORAGE_DIR": "/srv/pmha/storage",
    }
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        Config.from_env(environ=env)


def test_production_refuses_sqlite_and_weak_secrets():
    base = {
        "PMHA_ENV": "production",
        "PMHA_BROKER_URL": "redis://c",
        "PMHA_AUDIT_KEY": STRONG,
        "PMHA_STORAGE_DIR": "/srv/pmha/storage",
        "PMHA_FILE_KEYS": "k1:" + "A" * 43 + "=",
    }
    with pytest.raises(ConfigError, match="PostgreSQL"):
        Config.from_env(
            environ={**base, "PMHA_DATABASE_URL": "sqlite:///x.db", "PMHA_SECRET_KEY": STRONG}
        )
    with pytest.raises(ConfigError, match="32"):
        Config.from_env(
            environ={**base, "PMHA_DATABASE_URL": "postgresql://db/p", "PMHA_SECRET_KEY": "short"}
        )


def test_bad_number_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="PMHA_LOCKOUT_THRESHOLD"):
        Config.from_env(environ={"PMHA_VAR_DIR": str(tmp_path), "PMHA_LOCKOUT_THRESHOLD": "five"})


def test_unknown_env_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="PMHA_ENV"):
        Config.from_env(environ={"PMHA_VAR_DIR": str(tmp_path), "PMHA_ENV": "staging"})


def test_a_mistyped_time_zone_stops_the_service_in_words() -> None:
    """Issue 18: pages show each site's local time; a zone that does not exist must not
    silently fall back (every time shown an hour or more off)."""
    with pytest.raises(ConfigError, match="'Europe/Istambul' is not a time zone"):
        Config.from_env(environ={"PMHA_TIME_ZONE": "Europe/Istambul"})
    with pytest.raises(ConfigError, match=r"SITE_TIME_ZONES \(IST\)"):
        Config.from_env(environ={"PMHA_SITE_TIME_ZONES": "IST=Mars/Olympus"})
    ok = Config.from_env(environ={"PMHA_SITE_TIME_ZONES": "IST=Europe/Istanbul,ANK=Asia/Baku"})
    assert ok.SITE_TIME_ZONES.startswith("IST=")
