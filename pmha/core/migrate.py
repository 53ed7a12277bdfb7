"""Run Alembic migrations from code (CLI, tests), on a URL or an open connection."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(
    url: str | None = None, connection: Connection | None = None, rev: str = "head"
) -> None:
    # One "Running upgrade" line per revision (30 and more) would push the demo users that
    # `make run` prints off the screen (issue 18); the CLI says when the schema is current.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    command.upgrade(alembic_config(url, connection), rev)


def downgrade(
    url: str | None = None, connection: Connection | None = None, rev: str = "base"
) -> None:
    command.downgrade(alembic_config(url, connection), rev)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave PostgreSQL-only objects (trigram indexes, made by hand in migrations) out of
    autogenerate's comparison: the models are engine-neutral."""
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))
