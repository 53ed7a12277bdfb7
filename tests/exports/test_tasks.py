"""The bundle job: plain ids as its only argument, retried on transient database errors only,
and no identity in its arguments, URLs or log lines."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from celery.exceptions import Retry
from sqlalchemy.exc import OperationalError

from pmha.core import file_crypto
from pmha.exports import build, service, tasks
from tests.exports.conftest import build_now


def test_the_job_is_queued_with_its_id_only(session, world, export_case, monkeypatch):
    queued = []
    monkeypatch.setattr(service, "enqueue_after_commit", lambda s, task, *a: queued.append(a))
    job = service.request_export(session, world.actor("operations"), export_case.case.id)
    assert queued == [(str(job.id),)]
    sent = json.dumps(queued)  # JSON serialisable, and nothing about the travellers
    for a in export_case.case.applicants:
        assert a.family_name not in sent and a.dob.isoformat() not in sent
    assert str(export_case.case.id) not in sent and export_case.case.case_number not in sent


def test_a_transient_database_error_is_retried(app, monkeypatch):
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(build, "run", flaky)
    with app.app_context(), pytest.raises(Retry) as caught:
        tasks.build_bundle.apply(args=[str(uuid.uuid4())], throw=False)
    assert isinstance(caught.value.exc, OperationalError)  # retried, not failed
    assert len(calls) >= 2  # eagerly, Celery ran it again before raising its Retry
    assert tasks.build_bundle.max_retries == 5 and tasks.build_bundle.retry_backoff


@pytest.mark.parametrize("error", [ValueError("a bug"), KeyError("missing")])
def test_other_errors_are_not_retried(app, monkeypatch, error):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise error

    monkeypatch.setattr(build, "run", broken)
    with app.app_context():
        result = tasks.build_bundle.apply(args=[str(uuid.uuid4())], throw=False)
    assert result.state == "FAILURE"
    assert len(calls) == 1


def test_a_content_error_fails_the_job_without_a_retry(session, world, export_case, monkeypatch):
    from pmha.core.errors import ValidationFailed
    from pmha.exports.models import JobState

    def bad_part(ex):
        raise ValidationFailed("no", code="exports.invalid_content")

    monkeypatch.setattr(build, "CONTRIBUTORS", (bad_part,))
    job = build_now(export_case, session, world)
    assert job.state == JobState.FAILED and job.error_code == "exports.invalid_content"
    assert job.attempts == 1


def test_the_pages_urls_carry_only_ids(app, signed_in, session, world, export_case):
    from pmha.exports import receive
    from tests.conftest import login

    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    row = receive.import_bundle(
        session, world.actor("receiving_authority"), data, export_case.storage
    )
    session.commit()
    pages = [signed_in("operations").get(f"/cases/{export_case.case.id}/exports").text]
    authority = app.test_client()
    login(authority, world.users["receiving_authority"].username)
    pages += [authority.get("/arrivals").text, authority.get(f"/arrivals/{row.id}").text]
    urls = [u for page in pages for u in re.findall(r'(?:href|action)="([^"]+)"', page)]
    assert any("/arrivals/" in u for u in urls) and any("/download" in u for u in urls)
    for a in export_case.case.applicants:
        for url in urls:
            assert a.family_name.lower() not in url.lower()
            assert a.dob.isoformat() not in url
