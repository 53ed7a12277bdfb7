"""Case verbs: register families and applicants, read, update, search, find duplicates.

Every verb takes the session and the actor; a case outside the actor's sites does not exist
for them (NotFound). Reads and changes of identity data are audited in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.orm import Session, contains_eager, lazyload, selectinload

from pmha.cases import names
from pmha.cases.commands import (
    ApplicantChanges,
    CaseChanges,
    DocumentSpec,
    NewApplicant,
    NewCase,
)
from pmha.cases.models import (
    Applicant,
    ApplicantSearchKey,
    FamilyCase,
    IdentityDocument,
    Relationship,
    Site,
)
from pmha.cases.search import Page as Page
from pmha.cases.search import describe_candidates as describe_candidates
from pmha.cases.search import find_duplicates as find_duplicates
from pmha.cases.search import one_case_query
from pmha.cases.search import search_cases as search_cases
from pmha.core import audit, changes
from pmha.core.auth import Actor
from pmha.core.commands import given
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, NotFound, StaleVersion, ValidationFailed

IDENTITY_FIELDS = (
    "family_name",
    "given_names",
    "family_name_original",
    "given_names_original",
    "dob",
    "dob_estimated",
    "sex",
    "nationality",
    "relationship",
)
CASE_FIELDS = ("destination", "programme", "planned_departure", "external_ref")
# The date nowhere on Earth is earlier than UTC-12: a departure before that day is in the past
# wherever the centre is (sites have no time zone of their own yet).
_EARLIEST_OFFSET = timedelta(hours=12)


def _check_departure(value: date | None) -> None:
    if value is not None and value < (utcnow() - _EARLIEST_OFFSET).date():
        raise ValidationFailed(
            errors={"planned_departure": ["The planned departure is in the past."]}
        )


class PossibleDuplicate(Conflict):
    code = "applicants.possible_duplicate"
    title = "This person may already be registered"


def _snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def _docs_snapshot(applicant: Applicant) -> list[tuple[str, str, str, Any]]:
    return [(d.doc_type, d.number, d.issuing_country, d.expiry_date) for d in applicant.documents]


def site_for(
    session: Session, actor: Actor, site_code: str | None, *, problem: str | None = None
) -> Site:
    """One of the caller's sites by its code; without a code, their only site. Otherwise a 422
    on `site_code` (with the problem code `problem` when the caller's domain names its own)."""
    mine = list(session.scalars(select(Site).where(Site.id.in_(actor.site_ids))))
    if site_code is None and len(mine) == 1:
        return mine[0]
    for site in mine:
        if site_code is not None and site.code == site_code:
            return site
    message = (
        "Choose the site: you work at several." if site_code is None else "Not one of your sites."
    )
    raise ValidationFailed(errors={"site_code": [message]}, code=problem)


def _next_case_number(session: Session, site: Site) -> str:
    locked = session.execute(select(Site).where(Site.id == site.id).with_for_update()).scalar_one()
    locked.case_seq += 1
    return f"{locked.code}-{locked.case_seq:06d}"


def _reindex(applicant: Applicant) -> None:
    parts = (
        applicant.family_name,
        applicant.given_names,
        applicant.family_name_original,
        applicant.given_names_original,
    )
    applicant.search_text = names.search_text(*parts)
    applicant.search_skeletons = names.search_keys(*parts)


def _write_search_keys(session: Session, applicant: Applicant, *, replace: bool) -> None:
    """The applicant's rows of the search-key table, from its derived columns (after a flush)."""
    if replace:
        session.execute(
            delete(ApplicantSearchKey).where(ApplicantSearchKey.applicant_id == applicant.id)
        )
    keys = names.index_keys(applicant.search_text, applicant.search_skeletons)
    session.execute(
        insert(ApplicantSearchKey),
        [
            {"applicant_id": applicant.id, "case_id": applicant.case_id, "key": key}
            for key in sorted(keys)
        ],
    )


def _set_documents(applicant: Applicant, documents: Sequence[DocumentSpec]) -> None:
    seen = set()
    for i, doc in enumerate(documents):
        key = (doc.doc_type, doc.number)
        if key in seen:
            raise ValidationFailed(errors={"documents": {str(i): ["Listed twice."]}})
        seen.add(key)
    applicant.documents = [
        IdentityDocument(
            doc_type=d.doc_type,
            number=d.number,
            issuing_country=d.issuing_country,
            expiry_date=d.expiry_date,
        )
        for d in documents
    ]


def _has_principal(session: Session, case_id: uuid.UUID) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Applicant.case_id == case_id, Applicant.relationship == Relationship.PRINCIPAL
                )
            )
        )
    )


def _new_applicant(
    session: Session, actor: Actor, case: FamilyCase, data: NewApplicant, *, new_case: bool
) -> Applicant:
    acknowledged = data.acknowledge_duplicates
    # Asked of the database, not of case.applicants: a new member needs no other member loaded.
    if (
        data.relationship == Relationship.PRINCIPAL
        and not new_case
        and _has_principal(session, case.id)
    ):
        raise ValidationFailed(
            errors={"relationship": ["This case already has a principal applicant."]}
        )
    if not acknowledged:
        candidates = find_duplicates(session, actor, data)
        if candidates:
            from pmha.cases.schemas import DuplicateCandidate

            raise PossibleDuplicate(
                "A person with a matching name and date of birth is already registered. "
                "Check the candidates; send acknowledge_duplicates=true if this is someone else.",
                extra={
                    "candidates": DuplicateCandidate(many=True).dump(
                        describe_candidates(candidates)
                    )
                },
            )
    applicant = Applicant(
        case=case,
        family_name=data.family_name,
        given_names=data.given_names,
        family_name_original=data.family_name_original,
        given_names_original=data.given_names_original,
        dob=data.dob,
        dob_estimated=data.dob_estimated,
        sex=data.sex,
        nationality=data.nationality,
        relationship=data.relationship,
    )
    _set_documents(applicant, data.documents)
    _reindex(applicant)
    session.add(applicant)
    session.flush()
    _write_search_keys(session, applicant, replace=False)
    audit.record(
        session,
        actor,
        "create",
        "applicant",
        applicant.id,
        site_id=case.site_id,
        after={**_snapshot(applicant, IDENTITY_FIELDS), "documents": _docs_snapshot(applicant)},
        details={"duplicates_acknowledged": True} if acknowledged else None,
    )
    changes.applicant_changed(session, actor, applicant.id)  # planned once, at commit
    return applicant


def register_case(session: Session, actor: Actor, data: NewCase) -> FamilyCase:
    """Register a family case with its principal applicant; the case number is issued here."""
    site = site_for(session, actor, data.site_code)
    principal = data.principal
    _check_departure(data.planned_departure)
    case = FamilyCase(
        site=site,
        case_number=_next_case_number(session, site),
        destination=data.destination,
        programme=data.programme,
        planned_departure=data.planned_departure,
        external_ref=data.external_ref,
    )
    session.add(case)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "case",
        case.id,
        site_id=site.id,
        after=_snapshot(case, CASE_FIELDS),
    )
    try:
        _new_applicant(session, actor, case, principal, new_case=True)
    except ValidationFailed as exc:
        raise ValidationFailed(errors={"principal": exc.errors}) from None
    return case


def add_applicant(
    session: Session, actor: Actor, case_id: uuid.UUID, data: NewApplicant
) -> Applicant:
    """Add a family member to a case (duplicates are reported unless acknowledged)."""
    case = load_case(session, actor, case_id, members=False)
    return _new_applicant(session, actor, case, data, new_case=False)


def load_case(
    session: Session, actor: Actor, case_id: uuid.UUID, *, members: bool = True
) -> FamilyCase:
    """A case at one of the actor's sites (NotFound otherwise); the caller audits. With
    `members`, its applicants and their documents come in the same query; without, the case row
    alone (its members load if asked for)."""
    stmt = one_case_query() if members else select(FamilyCase).options(lazyload(FamilyCase.site))
    found = session.execute(
        stmt.where(FamilyCase.id == case_id, FamilyCase.site_id.in_(actor.site_ids))
    )
    case = found.unique().scalar_one_or_none()
    if case is None:
        raise NotFound("No such case.", code="cases.not_found")
    return case


def load_cases(session: Session, actor: Actor, case_ids: list[uuid.UUID]) -> list[FamilyCase]:
    """The cases of `case_ids` at the actor's sites, with their members, by case number (one
    query for the cases, one for the members; the caller audits)."""
    if not case_ids:
        return []
    return list(
        session.scalars(
            select(FamilyCase)
            .where(FamilyCase.id.in_(case_ids), FamilyCase.site_id.in_(actor.site_ids))
            .options(selectinload(FamilyCase.applicants))
            .order_by(FamilyCase.case_number)
        )
    )


def load_applicants(
    session: Session, actor: Actor, applicant_ids: list[uuid.UUID]
) -> list[Applicant]:
    """The applicants of `applicant_ids` at the actor's sites, each with its case, by name (one
    query; the caller audits)."""
    if not applicant_ids:
        return []
    return list(
        session.scalars(
            select(Applicant)
            .join(FamilyCase)
            .where(Applicant.id.in_(applicant_ids), FamilyCase.site_id.in_(actor.site_ids))
            .options(contains_eager(Applicant.case))
            .order_by(Applicant.family_name, Applicant.given_names, Applicant.id)
        )
    )


def find_case_number(session: Session, actor: Actor, case_number: str) -> FamilyCase | None:
    """The case with this number at one of the actor's sites, or None (the caller audits)."""
    return session.scalar(
        select(FamilyCase).where(
            FamilyCase.case_number == case_number.strip().upper(),
            FamilyCase.site_id.in_(actor.site_ids),
        )
    )


def get_case(session: Session, actor: Actor, case_id: uuid.UUID) -> FamilyCase:
    """A case with its family members; the read is audited per person."""
    case = load_case(session, actor, case_id)
    audit.record(
        session,
        actor,
        "read",
        "case",
        case.id,
        site_id=case.site_id,
        details={"applicants": [str(a.id) for a in case.applicants]},
    )
    return case


def _check_version(record: Any, version: int) -> None:
    if record.version != version:
        raise StaleVersion(
            f"You edited version {version}; the record is now at version {record.version}. "
            "Reload it and apply your change again.",
            extra={"current_version": record.version},
        )


# What a case's plans are made from: a change that sends none of them (a new reference) plans
# nothing again.
PLANNED_FROM = ("destination", "programme", "planned_departure")


def update_case(
    session: Session, actor: Actor, case_id: uuid.UUID, changes_in: CaseChanges
) -> FamilyCase:
    """Change a case's destination, programme, departure or reference (optimistic locking)."""
    case = load_case(session, actor, case_id)
    _check_version(case, changes_in.version)
    before = _snapshot(case, CASE_FIELDS)
    data = given(changes_in, leave_out=("version",))
    if data.get("planned_departure") != case.planned_departure:
        _check_departure(data.get("planned_departure"))
    for name, value in data.items():
        setattr(case, name, value)
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "case",
        case.id,
        site_id=case.site_id,
        before=before,
        after=_snapshot(case, CASE_FIELDS),
    )
    if any(name in data for name in PLANNED_FROM):
        for member in case.applicants:  # destination, departure: every member's plan
            changes.applicant_changed(session, actor, member.id)
    return case


def load_applicant(
    session: Session, actor: Actor, applicant_id: uuid.UUID, *, documents: bool = False
) -> Applicant:
    """An applicant at one of the actor's sites (NotFound otherwise), with its case row (not the
    case's site or other members: they load if asked for); the caller audits."""
    stmt = (
        select(Applicant)
        .join(FamilyCase)
        .where(Applicant.id == applicant_id, FamilyCase.site_id.in_(actor.site_ids))
        .options(contains_eager(Applicant.case).lazyload(FamilyCase.site))
    )
    if documents:
        stmt = stmt.options(selectinload(Applicant.documents))
    applicant = session.scalar(stmt)
    if applicant is None:
        raise NotFound("No such applicant.", code="applicants.not_found")
    return applicant


def get_applicant(session: Session, actor: Actor, applicant_id: uuid.UUID) -> Applicant:
    """One applicant's identity record with its documents (audited)."""
    applicant = load_applicant(session, actor, applicant_id, documents=True)
    audit.record(session, actor, "read", "applicant", applicant.id, site_id=applicant.case.site_id)
    return applicant


def update_applicant(
    session: Session, actor: Actor, applicant_id: uuid.UUID, changes_in: ApplicantChanges
) -> Applicant:
    """Correct an applicant's identity data (optimistic locking; changes audited as hashes)."""
    applicant = load_applicant(session, actor, applicant_id, documents=True)
    _check_version(applicant, changes_in.version)
    data = given(changes_in, leave_out=("version",))
    before = {**_snapshot(applicant, IDENTITY_FIELDS), "documents": _docs_snapshot(applicant)}
    if data.get("relationship") == Relationship.PRINCIPAL and (
        applicant.relationship != Relationship.PRINCIPAL and applicant.case.principal is not None
    ):
        raise ValidationFailed(
            errors={"relationship": ["This case already has a principal applicant."]}
        )
    if applicant.relationship == Relationship.PRINCIPAL and data.get("relationship") not in (
        None,
        Relationship.PRINCIPAL,
    ):
        raise ValidationFailed(errors={"relationship": ["Make another member principal first."]})
    documents = data.pop("documents", None)
    for name, value in data.items():
        setattr(applicant, name, value)
    if documents is not None:
        _set_documents(applicant, documents)
    _reindex(applicant)
    session.flush()
    _write_search_keys(session, applicant, replace=True)
    after = {**_snapshot(applicant, IDENTITY_FIELDS), "documents": _docs_snapshot(applicant)}
    audit.record(
        session,
        actor,
        "update",
        "applicant",
        applicant.id,
        site_id=applicant.case.site_id,
        before=before,
        after=after,
    )
    changes.applicant_changed(session, actor, applicant.id)
    return applicant
