"""Export in the browser: a physician builds a case's bundle and downloads it; the US receiving
authority uploads it, sees the travellers with their clearance and follow-up and opens their
PDFs; an administrator adds the authority's next certificate (rotation), a bad file refused."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from pmha.app import create_app
from pmha.core import migrate
from pmha.core.db import database
from tests import factories
from tests.conftest import config_for_tests
from tests.e2e.conftest import LiveServer
from tests.e2e.test_workflow import sign_in, sign_out
from tests.exports import keyring
from tests.exports.conftest import make_export_case

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def export_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """The app on a free port with a US case ready for export and the demo keys installed."""
    tmp = tmp_path_factory.mktemp("e2e-export")
    config = config_for_tests(f"sqlite:///{tmp / 'e2e.db'}", tmp / "var")
    app = create_app(config)
    db = database(app)
    with db.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with app.app_context(), db.transaction() as session:
        world = factories.build_world(session)
        case = make_export_case(app, session, world, Path(config.STORAGE_DIR)).case
        case_id = str(case.id)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-export", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}"), case_id, app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.engine.dispose()


def test_a_case_is_exported_and_imported_by_the_authority(
    page: Page, export_server, shoot, tmp_path: Path
) -> None:
    live, case_id, _ = export_server
    sign_in(page, live, "t_panel_physician")
    page.goto(live(f"/cases/{case_id}/exports"))
    expect(page.get_by_role("heading", name="Export to the receiving authority")).to_be_visible()
    shoot("before")
    page.get_by_role("button", name="Build the bundle").click()
    expect(page.get_by_text("Ready", exact=True)).to_be_visible()
    shoot("built")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download").click()
    download = caught.value
    assert re.fullmatch(r"[0-9a-f-]{36}\.p7m", download.suggested_filename)
    bundle = tmp_path / download.suggested_filename
    download.save_as(bundle)
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.get_by_text(re.compile(r"^Delivered \d{4}-"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^← Case")).click()
    expect(page.locator("#export-state")).to_contain_text("bundle delivered")
    shoot("workflow-export-state")
    sign_out(page)

    sign_in(page, live, "t_receiving_authority")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Arrivals").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Arrivals"))).to_be_visible()
    page.get_by_label("Import a bundle (.p7m file)").set_input_files(str(bundle))
    page.get_by_role("button", name="Verify and import").click()
    expect(page.get_by_role("status")).to_contain_text("verified and imported")
    expect(page.get_by_role("heading", name=re.compile(r"^Case IST-"))).to_be_visible()
    shoot("arrival")
    pdf = page.get_by_role("link", name="Vaccination record (PDF)").first
    opened = page.request.get(live(pdf.get_attribute("href") or ""))
    assert opened.ok and opened.headers["content-type"] == "application/pdf"
    assert opened.body().startswith(b"%PDF-")
    page.get_by_role("link", name="← Arrivals").click()
    expect(page.get_by_role("table")).to_contain_text("Haddad")
    shoot("arrivals")
    # The same bundle a second time is refused, in words, and nothing changes.
    page.get_by_label("Import a bundle (.p7m file)").set_input_files(str(bundle))
    page.get_by_role("button", name="Verify and import").click()
    expect(page.get_by_role("alert")).to_contain_text("imported already")
    shoot("second-import-refused")


def test_an_administrator_adds_the_authoritys_next_certificate(
    page: Page, export_server, shoot, tmp_path: Path
) -> None:
    live, _, _ = export_server
    sign_in(page, live, "t_admin")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Receiving authorities"
    ).click()
    expect(page.get_by_role("heading", name="Receiving authorities")).to_be_visible()
    expect(page.get_by_text("In use", exact=True).first).to_be_visible()
    shoot("registry")
    junk = tmp_path / "authority.pem"
    junk.write_bytes(b"this is not a certificate")
    page.get_by_label("Destination").select_option("US")
    page.get_by_label("Certificate file (PEM or DER)").set_input_files(str(junk))
    page.get_by_role("button", name="Add the certificate").click()
    expect(page.get_by_role("alert")).to_contain_text("not an X.509 certificate")
    shoot("bad-file-refused")
    nxt = keyring.pair("US authority 2027")
    der = tmp_path / "us-authority-2027.cer"
    der.write_bytes(nxt.certificate.public_bytes(serialization.Encoding.DER))
    start = dt.date.today() + dt.timedelta(days=30)
    page.get_by_label("Destination").select_option("US")
    page.get_by_label("Certificate file (PEM or DER)").set_input_files(str(der))
    page.get_by_label("First day of use").fill(start.isoformat())
    page.get_by_role("button", name="Add the certificate").click()
    expect(page.get_by_role("status")).to_contain_text(f"in use from {start.isoformat()}")
    expect(page.get_by_text(f"Used from {start.isoformat()}")).to_be_visible()
    shoot("rotation-scheduled")


def test_a_running_build_shows_its_progress_and_the_page_follows_it(
    page: Page, export_server, shoot
) -> None:
    """In-process jobs end before the page loads, so the job's row is moved here as a worker
    would move it: the page shows the step and the bar, and reloads itself until it is ready."""
    import uuid

    from pmha.cases.models import FamilyCase
    from pmha.exports.models import ExportJob, JobState

    live, case_id, app = export_server
    db = database(app)
    with app.app_context(), db.transaction() as s:
        job = ExportJob(
            case_id=uuid.UUID(case_id),
            site_id=s.get(FamilyCase, uuid.UUID(case_id)).site_id,  # type: ignore[union-attr]
            state=JobState.RUNNING,
            step="signing and encrypting",
            progress=60,
        )
        s.add(job)
        s.flush()
        job_id = job.id
    sign_in(page, live, "t_operations")
    page.goto(live(f"/cases/{case_id}/exports"))
    expect(page.get_by_text("Signing and encrypting…")).to_be_visible()
    expect(page.locator("progress#job-progress")).to_have_attribute("value", "60")
    expect(page.get_by_role("button", name="Build the bundle")).to_be_disabled()
    shoot("progress")
    with app.app_context(), db.transaction() as s:
        row = s.get(ExportJob, job_id)
        assert row is not None
        row.state, row.step, row.progress = JobState.FAILED, "failed", 60
        row.error_code = "exports.no_signing_key"
    # No click: the page reloads itself and shows the outcome in words.
    expect(page.get_by_text("This centre has no signing key.")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="Build the bundle")).to_be_enabled()
    shoot("failed-in-words")
