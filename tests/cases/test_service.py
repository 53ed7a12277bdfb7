"""Case service verbs against a real database: numbering, duplicates, search, locking, sites."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from pmha.cases import service
from pmha.cases.models import Applicant
from pmha.cases.schemas import ApplicantIn, ApplicantUpdate, CaseUpdate
from pmha.core.errors import NotFound, StaleVersion, ValidationFailed
from tests.factories import applicant_data, loaded, make_case


def member(**overrides):
    return loaded(ApplicantIn, applicant_data(relationship="child", **overrides))


def test_case_numbers_follow_the_site_sequence(session, world):
    nurse = world.actor("nurse")
    first = make_case(session, nurse)
    second = make_case(
        session, nurse, principal=applicant_data(family_name="Khalil", dob="1990-05-05")
    )
    assert (first.case_number, second.case_number) == ("IST-000001", "IST-000002")


@pytest.mark.parametrize(
    "variant",
    [
        {"family_name": "Hadad", "given_names": "Umar"},  # another transliteration
        {"family_name": "Haddad", "given_names": "Omar", "family_name_original": None},
        {"family_name": "Xx", "given_names": "Yy", "family_name_original": "حداد"},  # script
        {"family_name": "Omar", "given_names": "Haddad"},  # fields swapped
    ],
)
def test_duplicate_is_reported_with_its_candidate(session, world, variant):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    original = {"given_names_original": "عمر"} if variant.get("family_name") == "Xx" else {}
    data = member(**variant, **original)
    with pytest.raises(service.PossibleDuplicate) as exc:
        service.add_applicant(session, nurse, case.id, data)
    assert exc.value.extra["candidates"][0]["case_number"] == case.case_number


def test_duplicate_acknowledged_is_registered(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    data = member(family_name="Hadad", acknowledge_duplicates=True)
    assert service.add_applicant(session, nurse, case.id, data).id


def test_same_name_other_birth_date_is_not_a_duplicate(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    assert service.add_applicant(session, nurse, case.id, member(dob="2015-06-01")).id


def test_estimated_birth_date_matches_within_the_year(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    with pytest.raises(service.PossibleDuplicate):
        service.add_applicant(session, nurse, case.id, member(dob="1985-01-01", dob_estimated=True))


def test_duplicates_at_another_site_are_not_shown(session, world):
    make_case(session, world.actor("nurse"))
    foreign = world.actor("foreign")
    other = make_case(
        session, foreign, principal=applicant_data(family_name="Nasser", dob="1990-01-02")
    )
    assert service.add_applicant(session, foreign, other.id, member()).id


def test_second_principal_is_refused(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    data = loaded(ApplicantIn, applicant_data(given_names="Huda", sex="female", dob="1990-02-02"))
    with pytest.raises(ValidationFailed) as exc:
        service.add_applicant(session, nurse, case.id, data)
    assert "relationship" in exc.value.errors


def test_another_sites_case_does_not_exist_for_you(session, world):
    case = make_case(session, world.actor("nurse"))
    with pytest.raises(NotFound):
        service.get_case(session, world.actor("foreign"), case.id)
    with pytest.raises(NotFound):
        service.get_applicant(session, world.actor("foreign"), case.applicants[0].id)


def test_stale_case_update_is_a_conflict(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    service.update_case(
        session, nurse, case.id, loaded(CaseUpdate, {"version": 1, "programme": "immigrant"})
    )
    with pytest.raises(StaleVersion):
        service.update_case(
            session, nurse, case.id, loaded(CaseUpdate, {"version": 1, "destination": "CA"})
        )


def test_applicant_update_reindexes_search(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    applicant = case.applicants[0]
    service.update_applicant(
        session,
        nurse,
        applicant.id,
        loaded(ApplicantUpdate, {"version": 1, "family_name": "Darwish"}),
    )
    page = service.search_cases(session, nurse, q="darwish")
    assert [c.id for c in page.items] == [case.id]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({"q": "haddad"}, True),
        ({"q": "HADDAD omar"}, True),
        ({"q": "Hadad"}, True),  # transliteration-tolerant
        ({"q": "حداد"}, True),  # original script
        ({"q": "khalil"}, False),
        ({"case_number": "IST-0000"}, True),
        ({"case_number": "ANK"}, False),
        ({"dob": "1985-03-14"}, True),
        ({"dob": "1985-03-15"}, False),
        ({"q": "%"}, False),  # LIKE wildcards are literal
        ({"q": "_"}, False),
    ],
)
def test_search(session, world, query, found):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    if "dob" in query:
        from datetime import date

        query = {"dob": date.fromisoformat(query["dob"])}
    page = service.search_cases(session, nurse, **query)
    assert ([c.id for c in page.items] == [case.id]) is found


def test_search_pages(session, world):
    nurse = world.actor("nurse")
    for i, name in enumerate(["Haddad", "Hadad", "Haddad"]):
        make_case(
            session,
            nurse,
            principal=applicant_data(
                family_name=name, dob=f"198{i}-01-02", acknowledge_duplicates=True
            ),
        )
    first = service.search_cases(session, nurse, q="haddad", per_page=2)
    second = service.search_cases(session, nurse, q="haddad", per_page=2, page=2)
    assert first.total == 3 and len(first.items) == 2 and len(second.items) == 1
    assert session.scalar(select(func.count()).select_from(Applicant)) == 3


def test_stateless_or_unknown_nationality_is_recorded_as_xx(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse, principal=applicant_data(nationality="XX"))
    assert case.applicants[0].nationality == "XX"
    with pytest.raises(Exception, match="alpha-2"):
        loaded(
            ApplicantIn,
            applicant_data(
                documents=[{"doc_type": "passport", "number": "P1", "issuing_country": "XX"}]
            ),
        )


def test_a_planned_departure_in_the_past_is_refused(session, world):
    """Issue 14: dates that cannot be true are refused with words, and nothing is written."""
    nurse = world.actor("nurse")
    before = session.scalar(select(func.count()).select_from(Applicant))
    with pytest.raises(ValidationFailed) as exc:
        make_case(session, nurse, planned_departure="2020-01-01")
    assert exc.value.errors == {"planned_departure": ["The planned departure is in the past."]}
    assert session.scalar(select(func.count()).select_from(Applicant)) == before


def test_moving_a_departure_into_the_past_is_refused_but_other_changes_are_not(session, world):
    nurse = world.actor("nurse")
    case = make_case(session, nurse)
    with pytest.raises(ValidationFailed) as exc:
        service.update_case(
            session,
            nurse,
            case.id,
            loaded(CaseUpdate, {"planned_departure": "2020-01-01", "version": case.version}),
        )
    assert "planned_departure" in exc.value.errors
    # A case whose departure has passed can still have its reference corrected.
    case.planned_departure = date(2020, 1, 1)
    session.flush()
    updated = service.update_case(
        session,
        nurse,
        case.id,
        loaded(CaseUpdate, {"external_ref": "UNHCR-1", "version": case.version}),
    )
    assert updated.external_ref == "UNHCR-1"
