"""A syphilis result in the browser: the lab technician types the tube's specimen number and the
test values; a titre with a non-reactive non-treponemal test (RPR) is refused in words next to
the titre, and nothing is recorded; the consistent values are accepted and the page shows the
interpretation derived from them, not typed (issue 14; reverse algorithm BRIEF 1.4 [S12c]:
reactive treponemal + reactive non-treponemal with a titre -> reactive, Class A)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_exam import register
from tests.e2e.test_workflow import sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_a_contradictory_syphilis_result_is_refused_then_the_consistent_one_derived(
    page: Page, live_server, shoot
) -> None:
    # The physician registers an adult (18-44: syphilis serology required [S12a, S12c]) and
    # orders the test from the Labs tab.
    sign_in(page, live_server, "t_panel_physician")
    register(page)
    page.get_by_role("link", name="Exam record of Jawad Sultani").click()
    page.get_by_role("navigation", name="Clinical record").get_by_role("link", name="Labs").click()
    page.get_by_label("Syphilis blood test").check()
    page.get_by_role("button", name="Order the ticked tests").click()
    expect(page.get_by_role("status")).to_contain_text("Ordered: Syphilis blood test.")
    labs_url = page.url.split("#")[0]
    sign_out(page)

    # The lab technician opens the Labs tab; the order's row shows its specimen number.
    sign_in(page, live_server, "t_lab_technician")
    page.goto(labs_url)
    row = page.locator("table.orders tbody tr").filter(has_text="Syphilis blood test")
    number = row.locator("code.accession").inner_text()
    assert re.fullmatch(r"L-[A-Z0-9]{4}-[A-Z0-9]{4}", number)
    expect(row).not_to_contain_text("Result…")  # no interpretation to type: it is derived

    # Treponemal reactive, RPR non-reactive, yet a titre of 1:64: values that cannot all be true.
    row.get_by_label("Specimen number").fill(number)
    row.get_by_label("Treponemal", exact=True).select_option("reactive")
    row.get_by_label("Non-treponemal", exact=True).select_option("non_reactive")
    row.get_by_label(re.compile("^Titre")).fill("1:64")
    row.get_by_role("button", name="Record the Syphilis blood test result").click()

    row = page.locator("table.orders tbody tr").filter(has_text="Syphilis blood test")
    titre = row.get_by_label(re.compile("^Titre"))
    expect(titre).to_have_attribute("aria-invalid", "true")
    message = row.locator("p.error[id$='-titre']")
    expect(message).to_have_text(
        "A titre is measured only on a reactive non-treponemal test (RPR or VDRL): "
        "the non-treponemal test here is non-reactive."
    )
    expect(titre).to_have_attribute("aria-describedby", message.get_attribute("id") or "")
    expect(page.get_by_role("alert")).to_contain_text("Titre")  # the summary names the field
    expect(titre).to_have_value("1:64")  # what was typed is kept, to correct
    expect(row).not_to_contain_text("Resulted")
    shoot("titre-with-a-non-reactive-rpr-refused")

    # The RPR was in fact reactive: the result is accepted and its interpretation derived.
    row.get_by_label("Non-treponemal", exact=True).select_option("reactive")
    row.get_by_role("button", name="Record the Syphilis blood test result").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Syphilis blood test: result Reactive recorded."
    )
    row = page.locator("table.orders tbody tr").filter(has_text="Syphilis blood test")
    expect(row).to_contain_text("Resulted")
    expect(row.locator("strong.result")).to_have_text("Reactive")
    expect(row).to_contain_text("Derived from the values: Both tests reactive, titre 1:64.")
    shoot("derived-reactive")
