"""The service refuses to start on broken rule files, naming the file and the key."""

from __future__ import annotations

import shutil

import pytest

from pmha.app import create_app
from pmha.config import PROJECT_ROOT, ConfigError
from tests.conftest import config_for_tests


def test_app_loads_every_destination(app):
    assert set(app.extensions["pmha.rules"].destinations) == {"US", "CA", "AU", "NZ", "GB"}


def test_broken_rule_file_stops_the_service(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "country_rules", rules)
    path = rules / "US.toml"
    path.write_text(path.read_text().replace("effective_from", "efective_from", 1))
    config = config_for_tests(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, RULES_DIR=str(rules))
    with pytest.raises(ConfigError) as exc:
        create_app(config)
    assert "US.toml" in str(exc.value)
    assert "efective_from" in str(exc.value)
