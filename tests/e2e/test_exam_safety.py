"""Exam record safety in the browser (issue 14, part 5): a physician's typed history survives
another section's save; leaving with unsaved text asks first; signing shows what is signed and
asks for the password (a wrong one refused in words); the signed record names the physician
with role and registration number; pregnancy is not asked of a man; a mental health class other
than the implied one asks for the reason before signing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_exam import SIGNER, register
from tests.e2e.test_workflow import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

HISTORY_TEXT = "Appendectomy 2009; malaria 2015, treated"


def test_typed_history_survives_another_sections_save_and_signing_asks_for_the_password(
    page: Page, live_server, shoot
) -> None:
    sign_in(page, live_server, "t_panel_physician")
    register(page)  # Jawad Sultani, a man
    page.get_by_role("link", name="Exam record of Jawad Sultani").click()
    history = page.locator("#sec-medical_history")
    # Pregnancy is not asked of a male applicant (issue 14 §4).
    expect(history.get_by_role("group", name="Pregnant")).to_have_count(0)
    expect(history.get_by_label("Weeks of gestation")).to_have_count(0)

    # The physician types history text, then saves the physical exam section, not the history.
    history.get_by_label("Past illnesses and operations").fill(HISTORY_TEXT)
    physical = page.locator("#sec-physical_exam")
    physical.get_by_label("Temperature").fill("36.9")
    physical.get_by_label("Height").fill("174")
    physical.get_by_label("Weight").fill("71")
    physical.get_by_label("Overall result of the examination").select_option("normal")
    physical.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").first).to_contain_text("Physical examination: draft saved.")

    # The history text is still in its field, and the page says it is not saved yet.
    history = page.locator("#sec-medical_history")
    expect(history.get_by_label("Past illnesses and operations")).to_have_value(HISTORY_TEXT)
    expect(history.locator(".unsaved-notice")).to_contain_text("not saved yet")
    history.scroll_into_view_if_needed()
    shoot("history-kept-after-physical-saved")

    # Leaving with unsaved text asks first (beforeunload); dismissing stays on the page.
    tabs = page.get_by_role("navigation", name="Clinical record")
    asked: list[str] = []

    def stay(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    tabs.get_by_role("link", name="Labs").click(no_wait_after=True)
    page.wait_for_function("document.readyState === 'complete'")
    assert asked == ["beforeunload"]
    expect(history.get_by_label("Past illnesses and operations")).to_have_value(HISTORY_TEXT)

    # Sign the physical exam: the signing page shows what is signed and who signs.
    page.locator("#sec-physical_exam").get_by_role("button", name="Save and sign").click()
    expect(page.get_by_role("heading", name=re.compile("^Sign: Physical"))).to_be_visible()
    expect(page.locator(".sign-summary")).to_contain_text("36.9 °C")
    expect(page.locator("#signer-line")).to_have_text(SIGNER)
    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#e-password")).to_contain_text(
        "Your password was not accepted, so nothing was signed."
    )
    shoot("sign-wrong-password")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Physical examination: signed.")
    signed = page.locator("#sec-physical_exam")
    expect(signed).to_contain_text(f"Signed by {SIGNER}")
    # and the history text typed before all this is still there
    expect(
        page.locator("#sec-medical_history").get_by_label("Past illnesses and operations")
    ).to_have_value(HISTORY_TEXT)
    signed.scroll_into_view_if_needed()
    shoot("physical-signed-by-professional")

    # Mental health: the answers imply Class A; "No class" needs a reason, asked before signing.
    history = page.locator("#sec-medical_history")
    history.get_by_role("button", name="Save draft").click()  # keep the history as a draft
    mental = page.locator("#sec-mental_health")
    for question in ("A physical or mental disorder is present",
                     "With harmful behaviour (current or likely to recur)"):  # fmt: skip
        mental.get_by_role("group", name=question).get_by_label("Yes", exact=True).check()
    mental.get_by_label("Physician's classification").select_option("none")
    # said at once, before anything is saved or signed
    expect(mental.locator("#implied-live")).to_contain_text(
        "The answers imply Class A; you chose No class: give your reason"
    )
    mental.get_by_label("Physician's classification").scroll_into_view_if_needed()
    shoot("mental-health-implied-live")
    mental.get_by_role("button", name="Save draft").click()
    mental = page.locator("#sec-mental_health")
    expect(mental).to_contain_text(
        "The saved answers imply Class A; you chose No class: give your reason"
    )
    mental.get_by_role("button", name="Save and sign").click()
    expect(page.locator("#h-classification_reason")).to_contain_text(
        "The answers imply Class A; you chose No class: give your reason."
    )
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#e-classification_reason")).to_be_visible()
    shoot("mental-health-reason-asked")
    page.get_by_label("Reason for the class you chose").fill(
        "Single episode during detention, resolved; psychiatrist's report attached"
    )
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Mental health evaluation: signed.")
    expect(
        page.locator("#sec-medical_history").get_by_label("Past illnesses and operations")
    ).to_have_value(HISTORY_TEXT)
