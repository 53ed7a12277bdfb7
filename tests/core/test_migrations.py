"""Migrations build the schema from empty on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pmha.core import migrate
from pmha.core.db import Base, database, make_engine
from pmha.models import load_all


def test_models_match_the_migrations(app):
    load_all()
    with database(app).engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": migrate.include_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_downgrade_upgrade_from_empty(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        tables = set(inspect(engine).get_table_names())
        assert {"sites", "family_cases", "applicants", "users", "audit_events"} <= tables
        with engine.begin() as conn:
            migrate.downgrade(connection=conn)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        assert "audit_events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
