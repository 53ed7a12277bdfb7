"""Issue 16 in the browser: a nurse records a condition that changes the vaccine schedule (a
stem-cell transplant, by its name, with the day it happened) and sees the forecast follow the
risk schedule it selects, with why in words.

Source: AntigenSupportingData-Hib-508.xml, 'Hib risk 3-dose series' (indication 004 'Recipient
of a hematopoietic stem cell transplant'; dose 1 six months after 171, the transplant's date)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_vaccination import open_from_record, register
from tests.e2e.test_workflow import sign_in

pytestmark = pytest.mark.e2e


def test_nurse_adds_a_transplant_and_sees_why_the_schedule_changes(
    page: Page, live_server: LiveServer, shoot: Callable[[str], Path]
) -> None:
    sign_in(page, live_server, "t_nurse")
    register(page, "US", "immigrant", "Khalil", "Rami")
    open_from_record(page, "Rami", "Khalil")
    panel = page.locator("#conditions")
    expect(panel.get_by_role("heading", name="Conditions that change the schedule")).to_be_visible()
    expect(panel).to_contain_text("No condition recorded.")
    form = page.locator("#form-condition")
    form.get_by_label("Condition").select_option(
        label="Recipient of a hematopoietic stem cell transplant"
    )
    form.get_by_label("Until").fill("2026-09-01")  # before the begin: refused, named
    form.get_by_label("From").fill("2026-09-10")
    form.get_by_role("button", name="Add the condition").click()
    expect(page.locator("#e-condition-end")).to_have_text(
        "The date it ended is before the date it began."
    )
    form = page.locator("#form-condition")
    form.get_by_label("Until").fill("")
    form.get_by_role("button", name="Add the condition").click()
    expect(page.get_by_role("status")).to_contain_text("recorded")
    expect(page.locator("#conditions li")).to_contain_text(
        "Recipient of a hematopoietic stem cell transplant, since 10 September 2026"
    )
    page.locator("#forecast summary").click()
    why = page.locator("#forecast .schedule", has_text="Hib risk 3-dose series")
    expect(why).to_have_text(
        "Following the risk schedule 'Hib risk 3-dose series' because of: Recipient of a "
        "hematopoietic stem cell transplant (from 2026-09-10)."
    )
    page.locator("#conditions").scroll_into_view_if_needed()
    shoot("condition-and-why")
