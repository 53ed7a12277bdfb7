"""Bundles over the API (issue 17, "Bundles over the API"): the centre builds and downloads a
bundle, the authority imports and reads it through the API alone, every token sees only its own
destination's bundles, and bad uploads are refused as problem+json with nothing written.

Problem details per RFC 9457 (the house style's one error envelope); the sealed bundle is a CMS
EnvelopedData (RFC 5652), served as application/pkcs7-mime (RFC 8551 section 3.2)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from pmha.accounts import service as accounts
from pmha.core import file_crypto
from pmha.core.auth import Role
from pmha.core.http import PROBLEM
from pmha.exports import build, receive
from pmha.exports.models import ExportLogEntry, ImportedBundle, ImportedTraveller
from tests.exports import keyring
from tests.exports.conftest import build_now
from tests.factories import PASSWORD, SYSTEM

P7M = "application/pkcs7-mime"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[-800:]
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


def install_ca(session) -> None:
    """The CA authority's own key pair, and its trust in the test centre (one database)."""
    from pmha.exports import keys
    from pmha.exports.models import Purpose

    centre, _ = keyring.pem(keyring.pair("PMHA IST test centre"))
    keys.add_certificate(
        session, keyring.SYSTEM, Purpose.TRUSTED_SENDER, centre, destination="CA", sender_code="IST"
    )
    cert, key = keyring.pem(keyring.pair("CA authority"))
    keys.add_certificate(session, keyring.SYSTEM, Purpose.ENCRYPTION, cert, destination="CA")
    keys.add_certificate(
        session, keyring.SYSTEM, Purpose.DECRYPTION, cert, key_pem=key, destination="CA"
    )


def imported(session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(ImportedBundle)),
        session.scalar(select(func.count()).select_from(ImportedTraveller)),
    )


@pytest.fixture()
def other_authority(session, world) -> dict[str, str]:
    """A second receiving authority (CA), with its own key pair and trust in the centre."""
    user = accounts.create_user(
        session,
        SYSTEM,
        username="t_ca_authority",
        full_name="Test CA authority",
        password=PASSWORD,
        roles=[Role.RECEIVING_AUTHORITY],
        site_codes=[],
        destination="CA",
    )
    token = accounts.create_token(session, SYSTEM, user, "tests")
    install_ca(session)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_an_authority_imports_and_reads_a_bundle_through_the_api_alone(
    client, session, world, export_case, other_authority
):
    centre, authority = world.auth("panel_physician"), world.auth("receiving_authority")
    case = export_case.case

    # The centre asks for the bundle: a job, whose progress it follows at the Location given.
    started = client.post(f"/api/v1/cases/{case.id}/bundles", headers=centre)
    assert started.status_code == 202, started.get_data(as_text=True)
    assert started.json["state"] in ("queued", "running", "done")
    job = client.get(started.headers["Location"], headers=centre)
    assert job.status_code == 200
    assert job.json["state"] == "done", job.json
    assert job.json["progress"] == 100
    bundle_id = job.json["bundle_id"]
    listed = client.get(f"/api/v1/cases/{case.id}/bundles", headers=centre).json
    assert [b["id"] for b in listed["bundles"]] == [bundle_id]
    assert [e["event"] for e in listed["bundles"][0]["events"]] == ["created"]

    # The authority finds it among the bundles addressed to it and downloads it.
    mine = client.get("/api/v1/bundles", headers=authority).json["items"]
    assert [b["id"] for b in mine] == [bundle_id]
    assert mine[0]["acknowledged"] is False
    download = client.get(f"/api/v1/bundles/{bundle_id}/content", headers=authority)
    assert download.status_code == 200
    assert download.mimetype == P7M
    disposition = download.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="bundle-[0-9a-f-]{36}\.p7m"', disposition)
    for a in case.applicants:
        assert a.family_name not in disposition
    data = download.data
    assert data == file_crypto.read(build.bundle_path(export_case.storage, job.json["bundle_id"]))

    # It imports it by upload (the raw body), lists its arrivals and reads a summary.
    done = client.post("/api/v1/arrivals", headers=authority, data=data, content_type=P7M)
    assert done.status_code == 201, done.get_data(as_text=True)
    arrival = done.json
    assert arrival["id"] == bundle_id and arrival["case_number"] == case.case_number
    assert len(arrival["travellers"]) == 2
    assert client.get(done.headers["Location"], headers=authority).json["id"] == bundle_id
    rows = client.get("/api/v1/arrivals", headers=authority).json["items"]
    assert {r["given_names"] for r in rows} == {a.given_names for a in case.applicants}
    found = client.post("/api/v1/arrivals/search", headers=authority, json={"name": "yusuf"})
    assert [r["given_names"] for r in found.json["items"]] == ["Yusuf"]
    principal = next(r for r in rows if r["given_names"] != "Yusuf")
    read = client.get(f"/api/v1/arrival-travellers/{principal['traveller_id']}", headers=authority)
    assert read.status_code == 200
    summary = read.json
    assert summary["birth_date"] and summary["clearance_text"]
    items = [i for s in summary["sections"] for i in s["items"]]
    groups = {i["group"] for i in items}
    assert {"result", "vaccination", "image"} <= groups, groups
    syphilis = [i for i in items if i["group"] == "result" and "yphilis" in i["name"]]
    assert syphilis and syphilis[0]["value"], items  # the lab result, with its value in words
    vaccines = [i for i in items if i["group"] == "vaccination"]
    assert any("MMR" in i["name"] or "measles" in i["name"].lower() for i in vaccines), vaccines
    assert isinstance(summary["classifications"], list)
    fhir = client.get(
        f"/api/v1/arrival-travellers/{principal['traveller_id']}/fhir", headers=authority
    )
    assert fhir.mimetype == "application/fhir+json" and fhir.json["resourceType"] == "Bundle"

    # It acknowledges the bundle; the centre sees the acknowledgement in its log.
    ack = client.post(
        f"/api/v1/bundles/{bundle_id}/events", headers=authority, json={"event": "acknowledged"}
    )
    assert ack.status_code == 201 and ack.json["acknowledged"] is True
    events = client.get(f"/api/v1/bundles/{bundle_id}", headers=centre).json["events"]
    assert [e["event"] for e in events] == ["created", "downloaded", "acknowledged"]
    assert events[-1]["actor"] == "t_receiving_authority"

    # The other authority sees none of it, and a 404 on every id.
    assert client.get("/api/v1/arrivals", headers=other_authority).json["items"] == []
    assert client.get("/api/v1/bundles", headers=other_authority).json["items"] == []
    for url, code in (
        (f"/api/v1/arrivals/{bundle_id}", "exports.arrival_not_found"),
        (f"/api/v1/arrival-travellers/{principal['traveller_id']}", "exports.traveller_not_found"),
        (f"/api/v1/arrival-travellers/{principal['traveller_id']}/fhir",
         "exports.traveller_not_found"),
        (f"/api/v1/bundles/{bundle_id}", "exports.bundle_not_found"),
        (f"/api/v1/bundles/{bundle_id}/content", "exports.bundle_not_found"),
    ):  # fmt: skip
        problem(client.get(url, headers=other_authority), 404, code)
    problem(
        client.post(
            f"/api/v1/bundles/{bundle_id}/events",
            headers=other_authority,
            json={"event": "acknowledged"},
        ),
        404,
        "exports.bundle_not_found",
    )
    # Nor can it open the US bundle: it was sealed for the US authority's certificate.
    refused = client.post("/api/v1/arrivals", headers=other_authority, data=data, content_type=P7M)
    problem(refused, 422, "exports.wrong_recipient")


def test_a_centre_token_cannot_import_and_an_authority_token_cannot_build(
    client, session, world, export_case
):
    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    for role in ("panel_physician", "operations", "nurse"):
        response = client.post(
            "/api/v1/arrivals", headers=world.auth(role), data=data, content_type=P7M
        )
        problem(response, 403, "auth.forbidden")
    authority = world.auth("receiving_authority")
    problem(
        client.post(f"/api/v1/cases/{export_case.case.id}/bundles", headers=authority),
        403,
        "auth.forbidden",
    )
    # An authority records its acknowledgement, never a delivery (the centre's word).
    response = client.post(
        f"/api/v1/bundles/{job.bundle_id}/events", headers=authority, json={"event": "delivered"}
    )
    assert problem(response, 422, "validation.failed")["errors"]["event"]
    assert imported(session) == (0, 0)
    session.expire_all()
    assert [e.event.value for e in session.scalars(select(ExportLogEntry))] == ["created"]


def test_the_centre_downloads_its_bundle_with_a_filename_naming_no_one(
    client, session, world, export_case
):
    job = build_now(export_case, session, world)
    response = client.get(
        f"/api/v1/bundles/{job.bundle_id}/content", headers=world.auth("operations")
    )
    assert response.status_code == 200 and response.mimetype == P7M
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="bundle-{job.bundle_id}.p7m"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    session.expire_all()
    events = [e.event.value for e in session.scalars(select(ExportLogEntry))]
    assert sorted(events) == ["created", "downloaded"]


def test_a_multipart_upload_imports_too(client, session, world, export_case):
    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    response = client.post(
        "/api/v1/arrivals",
        headers=world.auth("receiving_authority"),
        data={"file": (io.BytesIO(data), "bundle.p7m")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert imported(session) == (1, 2)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"garbage, not a bundle", P7M, 422, "exports.malformed"),
        (b"", P7M, 422, "exports.empty"),
        (b"{}", "application/json", 415, "request.unsupported_media_type"),
        ({"other": (io.BytesIO(b"x"), "b.p7m")}, "multipart/form-data", 422, "exports.no_file"),
    ],
    ids=["not a bundle", "empty", "json", "multipart without its file"],
)
def test_a_bad_upload_is_a_problem_and_nothing_is_written(
    client, session, world, body, content_type, status, code
):
    keyring.install(session, world)
    session.commit()
    response = client.post(
        "/api/v1/arrivals",
        headers=world.auth("receiving_authority"),
        data=body,
        content_type=content_type,
    )
    problem(response, status, code)
    assert imported(session) == (0, 0)


def test_a_duplicate_import_is_a_409_and_the_first_stays_whole(client, session, world, export_case):
    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    authority = world.auth("receiving_authority")
    first = client.post("/api/v1/arrivals", headers=authority, data=data, content_type=P7M)
    assert first.status_code == 201
    again = client.post("/api/v1/arrivals", headers=authority, data=data, content_type=P7M)
    problem(again, 409, "exports.already_imported")
    assert imported(session) == (1, 2)


def test_an_oversized_upload_is_a_413_before_it_is_read(
    client, session, world, export_case, monkeypatch
):
    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    monkeypatch.setattr(receive, "MAX_ENVELOPE", 1024)  # the limit is 1 GiB; a small one here
    response = client.post(
        "/api/v1/arrivals",
        headers=world.auth("receiving_authority"),
        data=data + b"\0" * (80 * 1024),
        content_type=P7M,
    )
    problem(response, 413, "request.too_large")
    assert imported(session) == (0, 0)


def test_a_bundle_for_another_destination_is_refused(client, session, world, export_case):
    """The CA authority, holding a key of its own, cannot open a bundle sealed for the US."""
    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    install_ca(session)
    user = world.users["receiving_authority"]
    user.destination = "CA"
    session.commit()
    response = client.post(
        "/api/v1/arrivals",
        headers=world.auth("receiving_authority"),
        data=data,
        content_type=P7M,
    )
    problem(response, 422, "exports.wrong_recipient")
    assert imported(session) == (0, 0)


def test_arrivals_filter_by_travel_date_and_refuse_a_reversed_range(
    client, session, world, export_case
):
    import datetime as dt

    job = build_now(export_case, session, world)
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    authority = world.auth("receiving_authority")
    assert client.post("/api/v1/arrivals", headers=authority, data=data, content_type=P7M)
    today = dt.datetime.now(dt.UTC).date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    listed = client.get(f"/api/v1/arrivals?from={today.isoformat()}", headers=authority)
    assert len(listed.json["items"]) == 2  # no flight in this bundle: the import's date
    assert client.get(f"/api/v1/arrivals?from={tomorrow}", headers=authority).json["items"] == []
    reversed_range = client.get(
        f"/api/v1/arrivals?from={tomorrow}&to={today.isoformat()}", headers=authority
    )
    assert "to" in problem(reversed_range, 422, "validation.failed")["errors"]
    unknown = client.post("/api/v1/arrivals/search", headers=authority, json={"surname": "x"})
    assert "surname" in problem(unknown, 422, "validation.failed")["errors"]


def test_the_bundle_endpoints_are_in_the_openapi_document_with_operation_ids(client):
    spec = client.get("/api/openapi.json").json
    ops = {
        op["operationId"]
        for path in spec["paths"].values()
        for op in path.values()
        if "operationId" in op
    }
    assert {
        "listCaseBundles",
        "createCaseBundle",
        "readExportJob",
        "listAuthorityBundles",
        "readBundle",
        "downloadBundle",
        "recordBundleEvent",
        "importBundle",
        "listArrivals",
        "searchArrivals",
        "readArrival",
        "readArrivalTraveller",
    } <= ops
    upload = spec["paths"]["/api/v1/arrivals"]["post"]["requestBody"]["content"]
    assert {P7M, "multipart/form-data"} <= set(upload)
    download = spec["paths"]["/api/v1/bundles/{bundle_id}/content"]["get"]["responses"]["200"]
    assert P7M in download["content"]
    summary = spec["components"]["schemas"]["TravellerSummary"]
    assert {"sections", "classifications", "flight"} <= set(summary["properties"])
