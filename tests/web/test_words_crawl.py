"""Issue 18, "Done when": "No page a user can reach shows a rule id, a permission name, an internal
code or a validator's raw text (a test crawls every page of the demo as each role and checks)."

The crawl signs in as each demo user, starts at Today, follows every same-site link (GET only) up
to a page budget, strips the markup and looks for the text the issue names: rule ids
("us.tb.cxr.adult"), permission names ("cases:read"), the vocabulary's raw codes (VOCABULARY.md:
requirement codes, statuses, "NIP001") and marshmallow's messages ("Missing data for required
field.")."""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pmha.core.auth import PERMISSIONS
from tests.conftest import login

# Requirement codes and statuses from /work/shared/domain/VOCABULARY.md: snake_case ones only, as
# single words such as "pending" or "fit" are also English.
VOCABULARY = str.split(
    "medical_history physical_exam mental_health vaccination_review chest_xray chest_xray_lateral "
    "sputum_smear sputum_culture tb_naat syphilis_serology gonorrhea_naat hiv_test "
    "pre_test_counselling post_test_counselling hbv_test hcv_test serum_creatinine pregnancy_test "
    "presumptive_treatment specialist_referral tb_treatment_dot medical_escort not_required "
    "class_a class_a_waiver class_b0 class_b1_pulmonary class_b1_extrapulmonary class_b2_ltbi "
    "class_b3_contact not_issued confirmed_or_suspected_tb testing_postponed medical_surveillance "
    "health_undertaking deferred_until_treated treatment_completed treatment_failed "
    "lost_to_follow_up not_evaluated self_administered adverse_event not_age_appropriate "
    "insufficient_interval not_routinely_available not_flu_season religious_or_moral_waiver "
    "evidence_of_immunity cleared_with_conditions travel_hold not_cleared fit_with_conditions "
    "fit_with_escort fit_with_medical_escort panel_physician lab_technician dot_worker "
    "receiving_authority in_progress not_done"
)
RAW_VALIDATOR = (
    "Missing data for required field",
    "Must be greater than",
    "Must be less than",
    "Length must be between",
    "Not a valid",
    "Field may not be null",
    "Shorter than minimum length",
    "Longer than maximum length",
    "Unknown field",
    "does not allow",
    "pending: awaiting",
    "under dot",
)
RULE_ID = re.compile(r"\b(?:us|ca|au|nz|gb)\.[a-z_]+\.[a-z0-9_.]+\b")
PERMISSION = re.compile("|".join(re.escape(p) for p in PERMISSIONS))
CODE = re.compile(r"\b(?:" + "|".join(VOCABULARY) + r"|NIP001)\b")
# Any other snake_case word a reader would see ("not_done", "lab_result"): code, not English.
SNAKE = re.compile(r"(?<![\w./@-])[a-z]+(?:_[a-z0-9]+)+(?![\w./@-])")

# Pages owned by other issue-18 helpers (or issue 17's) that still show raw text: the integrator
# fixes them or hands them back. Path pattern -> why it is allowed for now.
KNOWN_OFFENDERS: dict[str, str] = {}

SKIP = re.compile(
    r"/logout|\.pdf$|/pdf\b|/download|/export|\.(?:png|jpg|dcm|json|xml|hl7|csv|zip|ico)$|/api/|"
    r"/static/|/files/|/image|/preview|/bundle|/letter|/certificate"
)
PAGE_BUDGET = 70


def text_of(page: str) -> str:
    """What a reader sees: no scripts, no tags, no attribute values (ids and names are code). The
    physician's "Details" disclosure of rule ids and sources is allowed them by the issue."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r'(?is)<details class="rule-details[^"]*">.*?</details>', " ", page)
    page = re.sub(r"(?s)<[^>]*>", " ", page)
    return html.unescape(page)


def offences(text: str) -> list[str]:
    """Each offending piece of text with a little of what surrounds it, to find it by."""
    text = " ".join(text.split())
    found = [
        f"{m.group(0)!r} in '…{text[max(0, m.start() - 40) : m.end() + 20]}…'"
        for rx in (RULE_ID, PERMISSION, CODE, SNAKE)
        for m in rx.finditer(text)
    ]
    found += [f"{s!r}" for s in RAW_VALIDATOR if s in text]
    return found


def links(page: str) -> list[str]:
    out = []
    for href in re.findall(r'<a\b[^>]*\bhref="([^"]+)"', page):
        href = urldefrag(html.unescape(href))[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/") or SKIP.search(parts.path):
            continue
        out.append(href)
    return out


def pattern(path: str) -> str:
    """/cases/1b2c.../steps -> /cases/*/steps: one visit per kind of page is not enough, but the
    budget is spent evenly across kinds."""
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+", "*", path)


def crawl(client: FlaskClient, budget: int = PAGE_BUDGET) -> dict[str, list[str]]:
    """Path -> offending snippets for every page reached from Today."""
    seen: set[str] = set()
    per_kind: dict[str, int] = {}
    queue = deque(["/"])
    bad: dict[str, list[str]] = {}
    visited = 0
    while queue and visited < budget:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        kind = pattern(urlsplit(path).path)
        if per_kind.get(kind, 0) >= 3:
            continue
        per_kind[kind] = per_kind.get(kind, 0) + 1
        try:
            response = client.get(path)
        except Exception as exc:  # a page that fails outright is reported with the rest
            bad[path] = [f"error {type(exc).__name__}"]
            continue
        visited += 1
        if response.status_code >= 500:
            bad[path] = [f"HTTP {response.status_code}"]
            continue
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        found = offences(text_of(response.text))
        if found and not any(re.search(p, path) for p in KNOWN_OFFENDERS):
            bad[path] = sorted(set(found))
        queue.extend(links(response.text))
    return bad


ROLES = ["panel_physician", "nurse", "radiologist", "lab_technician", "operations", "dot_worker",
         "receiving_authority", "auditor", "admin"]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_no_page_shows_codes_or_raw_validator_text(
    app: Flask, client: FlaskClient, demo_users: dict[str, tuple[str, str]], role: str
) -> None:
    username, password = demo_users[role]
    assert login(client, username, password).status_code == 302
    bad = crawl(client)
    assert not bad, "\n".join(f"{p}: {', '.join(s)}" for p, s in bad.items())


def test_the_checks_catch_what_the_issue_names() -> None:
    """The issue's own examples are caught, and plain sentences are not."""
    issue = [
        "Your role does not allow cases:read.",
        "NIP001 01 to 08",
        "pending: awaiting tb treatment under dot",
        "us.tb.cxr.adult",
        "Temperature c: Must be greater than or equal to 30",
        "Length must be between 1 and 100.",
        "Missing data for required field.",
    ]
    for raw in issue:
        assert offences(raw), raw
    assert not offences("Waiting for TB treatment under directly observed therapy. Cleared.")
