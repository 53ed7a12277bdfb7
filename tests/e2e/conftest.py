"""Browser fixtures: the real app served over HTTP from its own committed SQLite file, and the
system's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from werkzeug.serving import make_server

from pmha.app import create_app
from pmha.core import migrate
from pmha.core.db import database
from tests import factories
from tests.conftest import config_for_tests

CHROMIUM = os.environ.get("PMHA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The laptop screen a clinic desk typically has.
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# axe-core from the npm registry, pinned by tests/e2e/axe/package-lock.json (setup.sh installs it)
AXE = Path(__file__).resolve().parent / "axe"


@dataclass
class LiveServer:
    url: str

    def __call__(self, path: str) -> str:
        return self.url + path


def fresh_app(tmp_path_factory: pytest.TempPathFactory, name: str) -> Flask:
    """The app on a fresh migrated database file of its own.

    A browser only sees committed data, so the browser tests cannot use the rolled-back
    `connection` fixture: each module seeds its own database and serves it."""
    tmp = tmp_path_factory.mktemp(name)
    app = create_app(config_for_tests(f"sqlite:///{tmp / 'e2e.db'}", tmp / "var"))
    with database(app).engine.begin() as conn:
        migrate.upgrade(connection=conn)
    return app


@contextmanager
def serving(app: Flask, name: str = "e2e-server") -> Iterator[LiveServer]:
    """Serve the app on a free localhost port, in a thread, until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        database(app).engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with one user per role, served on a fresh migrated database file."""
    app = fresh_app(tmp_path_factory, "e2e")
    with app.app_context(), database(app).transaction() as session:
        factories.build_world(session)
    with serving(app) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no system Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test, at laptop size."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture()
def shoot(page: Page, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """shoot("step-name") saves a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    counter = iter(range(1, 100))

    def take(step: str) -> Path:
        path = SCREENSHOTS / f"{prefix}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js, installed on first use (npm ci, as package-lock.json pins it)."""
    subprocess.run(["bash", str(AXE / "setup.sh")], check=True)
    return (AXE / "node_modules" / "axe-core" / "axe.min.js").read_text()


def axe_violations(page: Page, source: str) -> list[str]:
    """Run axe-core (all its rules: WCAG 2.x A and AA, and best practices) on the page as it is
    now; one line for each serious or critical violation: its rule, impact, help text and the
    first elements it names."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # evaluated, not a <script> tag: the pages' Content-Security-Policy forbids inline ones
        page.evaluate(source + "\n;undefined")
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture()
def check_accessibility(page: Page, axe_source: str):  # type: ignore[no-untyped-def]
    """check_accessibility() fails the test on any serious or critical axe-core violation of
    the page as it is now."""

    def check(what: str = "") -> None:
        problems = axe_violations(page, axe_source)
        assert not problems, f"{what or page.url}: " + "; ".join(problems)

    return check
