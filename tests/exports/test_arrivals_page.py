"""The arrivals page an analyst can use (issue 17): travel date and flight, a search by name and
date range (POSTed: names stay out of URLs), and each traveller's summary read from the FHIR
resources (results with values and units, classifications in words, vaccinations, images),
never from the narrative XHTML. Element names: FHIR R4 (https://hl7.org/fhir/R4/)."""

from __future__ import annotations

import re

from pmha.core import file_crypto
from pmha.exports import build, receive
from pmha.exports.models import ImportedTraveller
from tests.conftest import csrf_token
from tests.exports.conftest import build_now
from tests.exports.rich_case import DEPARTS, enrich


def post(client, url, data):
    page = client.get("/arrivals")
    return client.post(url, data={**data, "csrf_token": csrf_token(page.text)})


def imported(app, session, world, export_case):
    enrich(app, session, world, export_case.case)
    job = build_now(export_case, session, world)
    assert job.bundle_id, job.error_code
    data = file_crypto.read(build.bundle_path(export_case.storage, job.bundle_id))
    row = receive.import_bundle(
        session, world.actor("receiving_authority"), data, export_case.storage
    )
    session.commit()
    return row


def test_the_list_shows_the_flight_and_travel_date(app, signed_in, session, world, export_case):
    row = imported(app, session, world, export_case)
    assert row.flight == "TK 1" and row.departs_at == DEPARTS
    page = signed_in("receiving_authority").get("/arrivals")
    assert page.status_code == 200
    assert DEPARTS.strftime("%Y-%m-%d") in page.text
    assert f"TK 1, departs {DEPARTS:%H:%M} UTC" in page.text
    assert "Mental health: Class B" in page.text  # the classification in words, not a code
    assert "class_b" not in page.text


def test_a_search_by_name_and_date_narrows_the_list(app, signed_in, session, world, export_case):
    imported(app, session, world, export_case)
    client = signed_in("receiving_authority")
    found = post(client, "/arrivals/search", {"name": "yusuf"})
    assert found.status_code == 200
    assert "1 traveller matches your search." in found.text
    assert found.text.count('href="/arrivals/') == 1
    day = DEPARTS.date().isoformat()
    both = post(client, "/arrivals/search", {"from": day, "to": day})
    assert "2 travellers match your search." in both.text
    later = (DEPARTS.date().replace(year=DEPARTS.year + 1)).isoformat()
    none = post(client, "/arrivals/search", {"from": later})
    assert "No arrival matches your search." in none.text


def test_a_reversed_date_range_is_refused_next_to_its_field(
    app, signed_in, session, world, export_case
):
    client = signed_in("receiving_authority")
    response = post(client, "/arrivals/search", {"from": "2026-05-02", "to": "2026-05-01"})
    assert response.status_code == 422
    assert 'id="e-to"' in response.text
    assert "The end of the range is before its start." in response.text
    bad = post(client, "/arrivals/search", {"from": "02/05/2026"})
    assert bad.status_code == 422 and 'id="e-from"' in bad.text


def test_an_arrival_shows_results_classifications_vaccinations_and_images(
    app, signed_in, session, world, export_case
):
    row = imported(app, session, world, export_case)
    page = signed_in("receiving_authority").get(f"/arrivals/{row.id}")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert f"Flight TK 1, departs {DEPARTS:%Y-%m-%d %H:%M} UTC" in text
    assert "Mental health: Class B" in text
    assert re.search(r"[Ss]yphilis", text)  # the lab result, by name
    assert re.search(r"[Nn]on[- ]?reactive", text)  # and its value in words
    assert re.search(r"Body temperature.*36\.8", text)  # a vital sign with its unit
    assert "MMR" in text or "measles" in text.lower()  # the vaccination
    assert "Chest X-ray" in text and "Download the image (DICOM)" in text
    assert "Vaccination record (PDF)" in page.text


def test_foreign_markup_is_never_rendered(app, signed_in, session, world, export_case):
    """The narrative (Composition/resource `text.div`) is not read; coded text is escaped."""
    row = imported(app, session, world, export_case)
    traveller = session.query(ImportedTraveller).filter_by(import_id=row.id).first()
    document = dict(traveller.fhir)
    evil = "<script>alert(1)</script>"
    entries = [dict(e) for e in document["entry"]]
    for e in entries:
        e["resource"] = {**e["resource"], "text": {"status": "generated", "div": evil}}
    entries.append(
        {
            "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
            "resource": {
                "resourceType": "Observation",
                "id": "00000000-0000-4000-8000-000000000001",
                "status": "final",
                "code": {"text": '<img src=x onerror="alert(2)">'},
                "valueString": evil,
            },
        }
    )
    traveller.fhir = {**document, "entry": entries}
    session.commit()
    page = signed_in("receiving_authority").get(f"/arrivals/{row.id}")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;img src=x" in page.text  # shown as text, under "Other entries"
    assert "Other entries" in page.text
