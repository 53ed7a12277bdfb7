"""The export job in a real Celery worker that is killed mid-way: no duplicate, no partial file.

Runs in CI's PostgreSQL + Redis pass (PMHA_TEST_BROKER_URL); skipped without a broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from pmha.app import create_app
from pmha.core import file_crypto, migrate
from pmha.core.db import database
from pmha.exports import build, envelope, receive, service
from pmha.exports.models import ExportBundle, ExportJob, JobState
from tests import factories
from tests.conftest import config_for_tests
from tests.exports import keyring
from tests.exports.conftest import make_export_case

ROOT = Path(__file__).resolve().parents[2]


def _worker(env: dict[str, str], queue: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("fault_worker.py")), "--pool=solo",
         "-Q", queue, "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel=WARNING"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.worker
def test_a_worker_killed_mid_way_leaves_one_whole_bundle(
    empty_database_url, tmp_path: Path, monkeypatch
):
    broker = os.environ.get("PMHA_TEST_BROKER_URL")
    if not broker:
        pytest.skip("needs PMHA_TEST_BROKER_URL (CI's PostgreSQL + Redis run sets it)")
    var = tmp_path / "var"
    config = config_for_tests(empty_database_url, var, BROKER_URL=broker)
    app = create_app(config)
    db = database(app)
    with db.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    storage = Path(config.STORAGE_DIR)
    monkeypatch.setattr(service, "enqueue_after_commit", lambda *a, **k: None)
    with app.app_context(), db.transaction() as s:
        world = factories.build_world(s)
        exported = make_export_case(app, s, world, storage)
        job_id = service.request_export(s, world.actor("panel_physician"), exported.case.id).id

    queue = f"pmha-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PMHA_ENV": "development",
        "PMHA_DATABASE_URL": empty_database_url,
        "PMHA_BROKER_URL": broker,
        "PMHA_VAR_DIR": str(var),
        "PMHA_STORAGE_DIR": str(storage),
        "PMHA_AUDIT_KEY": config.AUDIT_KEY,
        "PMHA_SECRET_KEY": config.SECRET_KEY,
        "PMHA_TEST_CRASH_MARKER": str(tmp_path / "crashed"),
    }
    client = Celery("pmha-test-client", broker=broker, backend=broker)
    first = _worker(env, queue, "first")
    second = None
    try:
        result = client.send_task("pmha.exports.build_bundle", args=[str(job_id)], queue=queue)
        output = first.communicate(timeout=120)[0].decode(errors="replace")
        assert first.returncode == -9, output  # killed, half-way through writing the bundle
        folder = storage / "exports"
        left = [p.name for p in folder.iterdir()]
        assert len(left) == 1 and left[0].startswith(".") and left[0].endswith(".p7m.tmp")
        assert not list(folder.glob("*.p7m")), "a partial bundle is visible"
        with db.transaction() as s:
            assert s.get(ExportJob, job_id).state == JobState.RUNNING
            assert s.scalar(select(func.count()).select_from(ExportBundle)) == 0

        second = _worker(env, queue, "second")  # gets the unacknowledged job back
        bundle_id = result.get(timeout=120)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.communicate(timeout=60)
        client.close()

    with db.transaction() as s:
        job = s.get(ExportJob, job_id)
        assert job.state == JobState.DONE and str(job.bundle_id) == bundle_id
        assert job.attempts == 2
        assert s.scalar(select(func.count()).select_from(ExportBundle)) == 1
    # the only visible file is the whole bundle (the killed write's temporary file is hidden)
    visible = [p.name for p in (storage / "exports").iterdir() if not p.name.startswith(".")]
    assert visible == [f"{bundle_id}.p7m"]
    data = file_crypto.read(build.bundle_path(storage, uuid.UUID(bundle_id)))
    signed = envelope.decrypt(data, [keyring.pair("US authority")])
    content = envelope.verify(signed, [keyring.pair("PMHA IST test centre").certificate]).content
    receive.check_manifest(receive.unpack(content))
    db.engine.dispose()
