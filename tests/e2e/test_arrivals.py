"""The analyst's journey at a receiving health department (issue 17): import a bundle, find a
traveller by name and by travel date, open the arrival and read the results, classifications
and vaccinations in words; a reversed date range is refused next to its field."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from pmha.app import create_app
from pmha.core import file_crypto, migrate
from pmha.core.db import database
from pmha.exports import build, service
from pmha.exports.models import ExportJob
from tests import factories
from tests.conftest import config_for_tests
from tests.e2e.conftest import LiveServer
from tests.e2e.test_workflow import sign_in
from tests.exports.conftest import make_export_case
from tests.exports.rich_case import DEPARTS, enrich

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def arrivals_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    """The app on a free port, and a sealed bundle of a US family booked on a flight (a Class B
    mental health finding, vital signs, a read chest X-ray, a syphilis test, MMR)."""
    tmp = tmp_path_factory.mktemp("e2e-arrivals")
    config = config_for_tests(f"sqlite:///{tmp / 'e2e.db'}", tmp / "var")
    app = create_app(config)
    db = database(app)
    with db.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        case = make_export_case(app, session, world, Path(config.STORAGE_DIR)).case
        enrich(app, session, world, case)
        job_id = service.request_export(session, world.actor("panel_physician"), case.id).id
    with app.app_context(), db.transaction() as session:  # the job ran in-process at commit
        job = session.get(ExportJob, job_id)
        assert job is not None and job.bundle_id is not None, job and job.error_code
        data = file_crypto.read(build.bundle_path(Path(config.STORAGE_DIR), job.bundle_id))
    bundle = tmp / "bundle.p7m"
    bundle.write_bytes(data)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-arrivals", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}"), bundle
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.engine.dispose()


def test_an_analyst_imports_finds_and_reads_an_arrival(page: Page, arrivals_server, shoot) -> None:
    live, bundle = arrivals_server
    sign_in(page, live, "t_receiving_authority")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Arrivals").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Arrivals"))).to_be_visible()
    shoot("empty")
    page.get_by_label("Import a bundle (.p7m file)").set_input_files(str(bundle))
    page.get_by_role("button", name="Verify and import").click()
    expect(page.get_by_role("status")).to_contain_text("verified and imported")
    expect(page.get_by_text(f"Flight TK 1, departs {DEPARTS:%Y-%m-%d %H:%M} UTC")).to_be_visible()
    page.get_by_role("link", name="← Arrivals").click()

    # The list: when they travel, on what, and what the centre found, in words.
    table = page.locator("#arrivals")
    expect(table).to_contain_text(f"{DEPARTS:%Y-%m-%d}")
    expect(table).to_contain_text("TK 1")
    expect(table).to_contain_text("Mental health: Class B")
    expect(table.locator("tbody tr")).to_have_count(2)
    shoot("list")

    # Find the child by name: one row.
    page.get_by_label("Name or case number").fill("yusuf")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 traveller matches your search.")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(1)
    assert "yusuf" not in page.url.lower()  # names stay out of URLs
    shoot("found-by-name")

    # A reversed range is refused next to its field; the flight's day finds both.
    page.get_by_label("Name or case number").fill("")
    page.get_by_label("Travel date from").fill(f"{DEPARTS:%Y-%m-%d}")
    page.get_by_label("Travel date to").fill("2020-01-01")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#e-to")).to_contain_text("The end of the range is before its start.")
    shoot("reversed-range")
    page.get_by_label("Travel date to").fill(f"{DEPARTS:%Y-%m-%d}")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("2 travellers match your search.")).to_be_visible()

    # Open the principal: the results, classification and vaccination, read from the summary.
    page.get_by_role("link", name="Haddad, Omar").click()
    traveller = page.locator("section.arrival-traveller").filter(has_text="Haddad, Omar")
    expect(traveller.get_by_role("heading", name="Results")).to_be_visible()
    expect(traveller).to_contain_text("Mental health: Class B")
    expect(traveller).to_contain_text(re.compile(r"[Ss]yphilis"))
    expect(traveller).to_contain_text(re.compile(r"[Nn]on[- ]?reactive"))
    expect(traveller).to_contain_text("120 / 80 mmHg")
    expect(traveller).to_contain_text("MMR")
    expect(traveller.get_by_role("link", name="Download the image (DICOM)")).to_be_visible()
    shoot("arrival")
