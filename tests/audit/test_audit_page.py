"""The auditor's page: it searches the trail and checks the chain, and bad filters are not 500s."""

from __future__ import annotations

import os
from typing import Any

import pytest

ON_POSTGRES = os.environ.get("PMHA_TEST_DATABASE_URL", "").startswith("postgresql")


def test_the_auditor_sees_events_and_an_intact_chain(signed_in: Any) -> None:
    client = signed_in("auditor")
    response = client.get("/audit", query_string={"action": "create", "verify": "1"})
    assert response.status_code == 200
    assert "Chain verified:" in response.text
    assert "<td>create</td>" in response.text
    assert "<td>read</td>" not in response.text


@pytest.mark.parametrize("bad", [{"since": "yesterday"}, {"page": "0"}, {"actor_name": "x" * 61}])
def test_an_invalid_filter_is_422_on_the_page(signed_in: Any, bad: dict[str, str]) -> None:
    response = signed_in("auditor").get("/audit", query_string=bad)
    assert response.status_code == 422


@pytest.mark.parametrize("name", ["actor_name", "action", "record_type", "record_id"])
def test_a_nul_character_in_a_filter_is_not_a_server_error(signed_in: Any, name: str) -> None:
    response = signed_in("auditor").get("/audit", query_string={name: "t_nurse\x00"})
    assert response.status_code in (200, 422)
