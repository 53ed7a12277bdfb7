"""Script typed into every free-text field runs nowhere (issue 19: "A browser test that types
script into every free-text field of the demo and checks nothing runs"; OWASP ASVS 5.3.3,
output encoding for HTML; WSTG-INPV-01/02, reflected and stored cross-site scripting).

A user holding every centre role walks the pages with forms (registration, members, case, exam
sections, labs, vaccinations, TB, workflow, departures, vaccine stock, users, authorities,
search boxes). In every form it fills each free-text field (text inputs and text areas) with one
of the payloads below, gives required choices, dates and numbers a plausible value, and submits.
Then it opens the pages that show the data. The probe's own full name (in the header of every
page) and another user's are payloads too, stored before the walk. On every page:

- `window.__pwned` is undefined and no dialog opened;
- no element the payloads would create exists (an `<img src=x>`, an `<svg onload>`, an inline
  `<script>` mentioning `__pwned`), which would show a missing escape even where the Content
  Security Policy stops it from running;
- the browser reported no CSP violation (an injected inline script or handler would);
- a payload that is shown is shown literally, as text.

The CSP itself is checked too: a page's header forbids inline script, and the browser refuses an
inline script and an inline handler added to the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import and_, or_, select

from pmha.accounts import service as accounts
from pmha.core.auth import Role
from pmha.core.db import database
from tests import factories
from tests.e2e.conftest import LiveServer, fresh_app, serving

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror=window.__pwned=1>',
    "'><svg onload=window.__pwned=1>",
    "</textarea><script>window.__pwned=1</script>",
    "javascript:window.__pwned=1//",
    "';window.__pwned=1;//",
]
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.sample || '')));
"""
INJECTED = """() => {
  const found = [];
  document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]').forEach(
    el => found.push(el.outerHTML.slice(0, 120)));
  document.querySelectorAll('script:not([src])').forEach(el => {
    if (el.textContent.includes('__pwned')) found.push(el.outerHTML.slice(0, 120));
  });
  document.querySelectorAll('a[href^="javascript:"]').forEach(
    el => found.push(el.outerHTML.slice(0, 120)));
  return found;
}"""
OPEN_ALL = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"
# Forms that end the session or change access rather than record anything.
SKIP_ACTIONS = re.compile(r"logout|deactivate|activate|unlock|revoke|/password|language")
PROBE = "t_xss_probe"


def _probe_user(session: Any) -> None:
    """The probe: every centre role at IST. The name the header shows on every page is stored
    script, checked on each of them."""
    accounts.create_user(
        session,
        factories.SYSTEM,
        username=PROBE,
        full_name='Test probe "><img src=x onerror=window.__pwned=1>',
        password=factories.PASSWORD,
        roles=[r for r in Role if r is not Role.RECEIVING_AUTHORITY],
        site_codes=["IST"],
        registration_number="TEST-MD-4242",
    )


@pytest.fixture(scope="module")
def probe_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    app = fresh_app(tmp_path_factory, "e2e-xss")
    with app.app_context(), database(app).transaction() as session:
        world = factories.build_world(session)
        case = factories.make_case(session, world.actor("operations"))
        _probe_user(session)
        accounts.create_user(
            session,
            factories.SYSTEM,
            username="t_xss_named",
            full_name="<script>window.__pwned=1</script>",
            password=factories.PASSWORD,
            roles=[Role.NURSE],
            site_codes=["IST"],
        )
        assert case.principal is not None
        ids = {"case": str(case.id), "applicant": str(case.principal.id)}
    with serving(app, "e2e-xss-server") as server:
        yield server, ids


def _check(page: Page, where: str, problems: list[str]) -> None:
    state = page.evaluate(
        "() => ({pwned: typeof window.__pwned, csp: window.__cspViolations || []})"
    )
    if state["pwned"] != "undefined":
        problems.append(f"{where}: window.__pwned was set")
    if state["csp"]:
        problems.append(f"{where}: CSP violations {state['csp'][:3]}")
    for element in page.evaluate(INJECTED):
        problems.append(f"{where}: injected element {element}")


def _shown(page: Page) -> set[str]:
    """The payloads the page shows as they were typed: as text, or as a field's value."""
    text = page.locator("body").inner_text()
    values = page.evaluate(
        "() => Array.from(document.querySelectorAll('input, textarea'), el => el.value)"
    )
    return {p for p in PAYLOADS if p in text or p in values}


def _fill_form(form: Any, counter: Iterator[int]) -> int:
    """Fill a form's free-text fields with payloads and its required fields plausibly."""
    filled = 0
    fields = form.locator("input, textarea, select")
    for i in range(fields.count()):
        field = fields.nth(i)
        if not field.is_visible() or not field.is_enabled():
            continue
        tag = field.evaluate("el => el.tagName.toLowerCase()")
        kind = (field.get_attribute("type") or "text").lower()
        required = field.get_attribute("required") is not None
        if tag == "textarea" or (
            tag == "input" and kind in {"text", "search", "email", "url", "tel"}
        ):
            if field.get_attribute("readonly") is not None:
                continue
            field.fill(PAYLOADS[next(counter) % len(PAYLOADS)])
            filled += 1
        elif tag == "select" and required:
            options = field.locator("option")
            values = [options.nth(j).get_attribute("value") for j in range(options.count())]
            choice = next((v for v in values if v), None)
            if choice:
                field.select_option(choice)
        elif tag == "input" and kind == "date" and not field.input_value():
            field.fill("2026-12-01")
        elif tag == "input" and kind == "number" and required:
            field.fill("1")
        elif tag == "input" and kind == "datetime-local" and required:
            field.fill("2027-01-15T10:00")
    return filled


def _sign_in(page: Page, server: LiveServer) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.context.add_init_script(WATCH)
    page.goto(server("/login"))
    page.get_by_label("Username").fill(PROBE)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    return dialogs


@dataclass
class Walk:
    """What a walk over pages found: the problems, the payloads shown literally, the counts."""

    problems: list[str] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)
    fields_filled: int = 0
    forms_sent: int = 0
    pages: int = 0
    actions: set[str] = field(default_factory=set)


def _walk(
    page: Page, server: LiveServer, form_pages: list[str], show_pages: list[str], shoot: Any
) -> Walk:
    """Fill and send every form of form_pages, then open show_pages; check every page."""
    walk = Walk(pages=len(form_pages) + len(show_pages))
    counter = iter(range(10_000))
    for path in form_pages:
        page.goto(server(path))
        forms = page.locator("main form")
        for index in range(forms.count()):
            page.goto(server(path))
            page.evaluate(OPEN_ALL)  # forms folded in a disclosure too
            form = page.locator("main form").nth(index)
            action = form.get_attribute("action") or path
            if SKIP_ACTIONS.search(action) or not form.is_visible():
                continue
            filled = _fill_form(form, counter)
            if not filled:
                continue
            submit = form.locator("button[type=submit], button:not([type]), input[type=submit]")
            if not submit.count():
                continue
            walk.fields_filled += filled
            walk.forms_sent += 1
            walk.actions.add(re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", action))
            submit.first.click()
            page.wait_for_load_state("load")
            _check(page, f"after {action}", walk.problems)
            walk.shown |= _shown(page)
            if walk.forms_sent <= 12:
                step = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "", action.lower())
                shoot(re.sub(r"[^a-z0-9]+", "-", step)[-40:].strip("-") or "form")
    for path in show_pages:
        page.goto(server(path))
        _check(page, path, walk.problems)
        walk.shown |= _shown(page)
    return walk


def test_script_typed_into_every_free_text_field_never_runs(
    page: Page, probe_server: tuple[LiveServer, dict[str, str]], shoot: Any
) -> None:
    server, ids = probe_server
    dialogs = _sign_in(page, server)
    applicant = f"/cases/{ids['case']}/applicants/{ids['applicant']}"
    form_pages = [
        "/cases/new",
        f"/cases/{ids['case']}/members/new",
        f"/cases/{ids['case']}",
        f"{applicant}/exam",
        f"{applicant}/labs",
        f"{applicant}/vaccinations",
        f"{applicant}/tb",
        f"{applicant}/xrays",
        f"/cases/{ids['case']}/workflow",
        f"/cases/{ids['case']}/exports",
        "/cases",
        "/departures",
        "/vaccinations/stock",
        "/admin/users",
        f"/admin/users/{PROBE}",
        "/exports/authorities",
        "/arrivals",
        "/audit",
        "/verify",
    ]
    show_pages = [
        "/",
        "/cases",
        f"/cases/{ids['case']}",
        f"{applicant}/exam",
        f"{applicant}/labs",
        f"{applicant}/vaccinations",
        f"{applicant}/tb",
        f"{applicant}/documents",
        f"/cases/{ids['case']}/workflow",
        "/worklists/nurse",
        "/worklists/physician",
        "/worklists/lab",
        "/worklists/operations",
        "/vaccinations",
        "/vaccinations/stock",
        "/dot",
        "/departures",
        "/admin/users",
        f"/admin/users/{PROBE}",
        "/exports/authorities",
        "/audit",
    ]
    walk = _walk(page, server, form_pages, show_pages, shoot)
    for name in ("applicant-page", "case-page", "users-page"):
        target = {"applicant-page": f"{applicant}/exam", "case-page": f"/cases/{ids['case']}",
                  "users-page": "/admin/users"}[name]  # fmt: skip
        page.goto(server(target))
        shoot(name)

    print(
        f"\nscript injection: {walk.fields_filled} free-text fields in {walk.forms_sent} forms, "
        f"{walk.pages} pages checked; payloads shown literally: "
        f"{len(walk.shown)}/{len(PAYLOADS)}"
    )
    assert not dialogs, dialogs
    assert not walk.problems, "\n".join(walk.problems[:20])
    assert walk.forms_sent >= 10, "too few forms were exercised: the walk did not reach the pages"
    # Saved (as text, or as a field's value) or echoed back in a form error, what was typed
    # comes back as the text typed.
    assert len(walk.shown) == len(PAYLOADS), set(PAYLOADS) - walk.shown


@pytest.fixture(scope="module")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, list[str]]]]:
    """The demo centre (issue 19: "every free-text field of the demo"): the forms that only
    appear with its state, a TB episode under DOT, ordered labs, a flight with travellers,
    workflow steps that can be waived, and the probe holding every centre role at IST."""
    from pmha import demo
    from pmha.cases.models import Applicant, FamilyCase, Site
    from pmha.exams import lab_service
    from pmha.exams.labs import Interpretation, LabOrder, LabResult, OrderStatus
    from pmha.tb_dot.models import EpisodeStatus, TbEpisode
    from pmha.travel.models import Booking, Departure

    app = fresh_app(tmp_path_factory, "e2e-xss-demo")
    var = tmp_path_factory.mktemp("e2e-xss-demo-var")
    with (
        pytest.MonkeyPatch.context() as env,
        app.app_context(),
        database(app).transaction() as session,
    ):
        env.setenv("PMHA_VAR_DIR", str(var))  # the demo passwords file goes here
        storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
        assert demo.seed(session, families=8, rules=app.extensions["pmha.rules"], storage=storage)
        _probe_user(session)
        ist = select(Site.id).where(Site.code == "IST").scalar_subquery()
        at_ist = select(Applicant.id).join(FamilyCase).where(FamilyCase.site_id == ist)

        def one(query: Any) -> Any:
            return session.execute(query.limit(1)).first()

        tb = one(
            select(TbEpisode.applicant_id, Applicant.case_id)
            .join(Applicant, Applicant.id == TbEpisode.applicant_id)
            .where(TbEpisode.applicant_id.in_(at_ist), TbEpisode.status == EpisodeStatus.ACTIVE)
            .order_by(TbEpisode.diagnosed_on)
        )
        lab = one(
            select(LabOrder.applicant_id, Applicant.case_id)
            .join(Applicant, Applicant.id == LabOrder.applicant_id)
            .outerjoin(LabResult, LabResult.order_id == LabOrder.id)
            .where(
                LabOrder.applicant_id.in_(at_ist),
                # A page with a free-text lab form: an order waiting for its result, or a
                # derived interpretation a physician may override (with a reason).
                or_(
                    LabOrder.status.in_((OrderStatus.ORDERED, OrderStatus.COLLECTED)),
                    and_(
                        LabOrder.code.in_(lab_service.OVERRIDABLE),
                        LabResult.interpretation.in_(
                            (Interpretation.DERIVED, Interpretation.OVERRIDDEN)
                        ),
                    ),
                ),
            )
            .order_by(LabOrder.ordered_at, LabOrder.id)
        )
        flight = one(
            select(Departure.id, Booking.case_id)
            .join(Booking, Booking.departure_id == Departure.id)
            .join(FamilyCase, FamilyCase.id == Booking.case_id)
            .where(FamilyCase.site_id == ist)
        )
        cases = session.scalars(select(FamilyCase.id).where(FamilyCase.site_id == ist)).all()
        travellers = session.scalars(
            select(Applicant.id).where(Applicant.case_id == flight.case_id)
        ).all() if flight else []  # fmt: skip
        # DOT first: a walk that closes the episode on the TB page would leave no dose form.
        # The exam and vaccination forms are walked on a fresh case by the test above.
        pages: dict[str, list[str]] = {"form": ["/dot", "/dot/programme"], "show": []}
        for applicant_id, case_id in (tb, lab):
            base = f"/cases/{case_id}/applicants/{applicant_id}"
            pages["form"] += [f"{base}/labs", f"{base}/tb"]
            pages["show"] += [f"{base}/tb", f"{base}/labs", f"{base}/exam", f"{base}/documents"]
        pages["show"] += ["/dot", "/dot-list", "/worklists/nurse", "/worklists/lab"]
        if flight:
            pages["form"] += [f"/departures/{flight.id}"] + [
                f"/departures/{flight.id}/travellers/{t}" for t in travellers[:2]
            ]
            pages["show"] += [f"/departures/{flight.id}", f"/departures/{flight.id}/board"]
        for case_id in cases[:2]:
            pages["form"].append(f"/cases/{case_id}/workflow")
            pages["show"] += [f"/cases/{case_id}", f"/cases/{case_id}/workflow"]
        pages["show"] += ["/", "/audit", "/clearance-board", "/worklists/operations"]
        assert tb and lab and flight, "the demo has no DOT episode, lab order or flight at IST"
    with serving(app, "e2e-xss-demo-server") as server:
        yield server, pages


def test_script_typed_into_the_demos_forms_never_runs(
    page: Page, demo_server: tuple[LiveServer, dict[str, list[str]]], shoot: Any
) -> None:
    """The same probe over the demo's state: DOT doses and sputum notes, lab results and
    notes, fitness-to-travel checks and escorts on a flight, waiver and hold reasons on the
    workflow (what a fresh case does not show)."""
    server, pages = demo_server
    dialogs = _sign_in(page, server)
    walk = _walk(page, server, pages["form"], pages["show"], shoot)
    print(
        f"\nscript injection (demo): {walk.fields_filled} free-text fields in "
        f"{walk.forms_sent} forms, {walk.pages} pages checked: {sorted(walk.actions)}"
    )
    assert not dialogs, dialogs
    assert not walk.problems, "\n".join(walk.problems[:20])
    assert walk.forms_sent >= 15, "too few forms were exercised: the walk did not reach the pages"
    assert walk.shown, "no payload came back as the text typed"
    for where in ("/dot/", "/labs/", "/travellers/", "/workflow/steps/"):
        assert any(where in a for a in walk.actions), f"no form sent on {where}"


def test_the_content_security_policy_forbids_inline_script(
    page: Page, probe_server: tuple[LiveServer, dict[str, str]]
) -> None:
    server, _ = probe_server
    page.context.add_init_script(WATCH)
    response = page.goto(server("/login"))
    assert response is not None
    policy = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", policy)
    assert script_src and "'unsafe-inline'" not in script_src.group(1)
    assert "'unsafe-eval'" not in policy
    page.evaluate(
        """() => {
        const s = document.createElement('script');
        s.textContent = 'window.__pwned = 1';
        document.body.appendChild(s);
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.__pwned = 2');
        img.src = 'data:,not-an-image';
        document.body.appendChild(img);
    }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    violations = page.evaluate("window.__cspViolations")
    assert any(v.startswith("script-src") for v in violations), violations
