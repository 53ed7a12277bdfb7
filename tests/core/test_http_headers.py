"""Issue 19: a 405 names the allowed methods (RFC 9110 §15.5.6); every answer carries a
Permissions-Policy; production answers carry HSTS (RFC 6797); `pmha demo seed` refuses in words
in production instead of crashing."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient


def test_a_405_names_the_allowed_methods(client: FlaskClient) -> None:
    answer = client.delete("/login")
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}
    api = client.put("/api/v1/cases")
    assert api.status_code == 405 and "GET" in api.headers["Allow"]
    assert api.mimetype == "application/problem+json"


def test_permissions_policy_on_every_answer_and_hsts_only_in_production(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = client.get("/login")
    assert "camera=()" in page.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in page.headers
    monkeypatch.setattr(app.extensions["pmha.config"], "ENV", "production")
    secure = client.get("/login")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_demo_seed_refuses_in_production_in_words(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pmha import cli

    monkeypatch.setattr(cli, "_app", lambda: app)
    monkeypatch.setattr(app.extensions["pmha.config"], "ENV", "production")
    result: Any = CliRunner().invoke(cli.main, ["demo", "seed"])
    assert result.exit_code == 2
    assert "never seeded into production" in result.output
    assert "Traceback" not in result.output
