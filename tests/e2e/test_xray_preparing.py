"""A chest X-ray whose previews are still being made (issue 20): the upload stores the original
and queues a job for the preview, the thumbnail and the de-identified copy. Here the app has a
broker and no worker, so the job waits: the viewer shows the image at full resolution from the
original at once, the studies list says "Preparing the image…", and when the job has run the
thumbnail appears by itself, without a reload. Synthetic people only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pmha.app import create_app
from pmha.core import migrate
from pmha.core.db import database
from pmha.exams import radiology
from tests import factories
from tests.conftest import config_for_tests
from tests.e2e.conftest import serving
from tests.e2e.test_workflow import sign_in
from tests.exams import dicom_factory

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, str]]:
    """The app with a broker nobody consumes (jobs wait), one applicant, served."""
    tmp = tmp_path_factory.mktemp("e2e-xray-queued")
    app = create_app(
        config_for_tests(
            f"sqlite:///{tmp / 'e2e.db'}",
            tmp / "var",
            BROKER_URL="memory://localhost/",
            RESULT_BACKEND="cache+memory://",
        )
    )
    with database(app).engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with app.app_context(), database(app).transaction() as session:
        world = factories.build_world(session)
        applicant = factories.make_case(
            session, world.actor("nurse"), principal=factories.applicant_data()
        ).applicants[0]
        page = f"/cases/{applicant.case_id}/applicants/{applicant.id}/xrays"
    with serving(app, "e2e-xray-queued") as server:
        yield app, server, page


def test_the_thumbnail_appears_once_its_job_has_run(
    page: Page, queued: tuple[Any, Any, str], shoot: Any, tmp_path: Path
) -> None:
    app, server, xrays = queued
    image = tmp_path / "chest.dcm"
    image.write_bytes(dicom_factory.make(rows=512, columns=420))
    sign_in(page, server, "t_radiologist")
    page.goto(server(xrays))
    page.get_by_label("Upload a chest X-ray (DICOM file)").set_input_files(str(image))
    page.get_by_role("button", name="Upload the X-ray", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Chest X-ray uploaded")
    # The viewer reads the original: the full resolution shows while the preview is made.
    expect(page.locator(".cxr-viewer canvas")).to_be_visible()
    expect(page.locator("[data-xray-preparing]")).to_be_hidden()

    page.goto(server(xrays))
    expect(page.get_by_text("Preparing the image…")).to_be_visible()
    expect(page.get_by_role("img", name="Chest X-ray thumbnail")).to_have_count(0)
    shoot("preparing")

    # The worker's turn: the job as it runs it.
    storage = Path(app.extensions["pmha.config"].STORAGE_DIR)
    with app.app_context(), database(app).transaction() as session:
        [study_id] = session.scalars(select(radiology.XrayStudy.id))
        assert radiology.prepare(session, study_id, storage) == "ready"

    thumbnail = page.get_by_role("img", name="Chest X-ray thumbnail")
    expect(thumbnail).to_be_visible(timeout=15_000)  # no reload: the page asked again
    page.wait_for_function("document.querySelector('img.thumb').naturalWidth > 0")
    expect(page.get_by_text("Preparing the image…")).to_have_count(0)
    shoot("prepared")
