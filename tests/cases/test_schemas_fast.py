"""The direct dumpers give exactly what the marshmallow output schemas give (issue 20)."""

from __future__ import annotations

from pmha.cases import schemas, service
from pmha.cases.schemas import ApplicantIn
from tests.factories import applicant_data, loaded, make_case


def test_fast_dumps_equal_the_schemas(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse, external_ref=None, planned_departure=None)
    service.add_applicant(
        session,
        nurse,
        case.id,
        loaded(
            ApplicantIn,
            applicant_data(
                given_names="Layla",
                relationship="spouse",
                family_name_original=None,
                given_names_original=None,
                dob="1990-07-08",
                dob_estimated=True,
                acknowledge_duplicates=True,
                documents=[
                    {"doc_type": "passport", "number": "P123", "issuing_country": "SY",
                     "expiry_date": "2031-01-02"},
                    {"doc_type": "unhcr_registration", "number": "U-9", "issuing_country": "TR"},
                ],
            ),
        ),
    )  # fmt: skip
    session.flush()
    found = service.search_cases(session, nurse, q="haddad")
    assert found.items
    assert schemas.dump_page(found) == schemas.CasePage().dump(found)
    for item in found.items:
        assert schemas.dump_case(item) == schemas.CaseOut().dump(item)
        for applicant in item.applicants:
            assert schemas.dump_applicant(applicant) == schemas.ApplicantOut().dump(applicant)
    assert any(len(a.documents) == 2 for a in found.items[0].applicants)
