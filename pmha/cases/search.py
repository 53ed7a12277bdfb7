"""Finding people and cases: duplicate candidates when registering, and case search.

Both tolerate spelling, spacing and script (see names.py); both see only the actor's sites.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, func, or_, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload

from pmha.cases import names
from pmha.cases.commands import NewApplicant
from pmha.cases.models import Applicant, ApplicantSearchKey, FamilyCase
from pmha.core import audit
from pmha.core.auth import Actor


def case_query() -> Select[FamilyCase]:
    """Cases with their members and documents loaded (a page of them: one query per level)."""
    return select(FamilyCase).options(
        selectinload(FamilyCase.applicants).selectinload(Applicant.documents)
    )


def one_case_query() -> Select[FamilyCase]:
    """One case with its site, members and their documents in one query (a few rows)."""
    return select(FamilyCase).options(
        joinedload(FamilyCase.applicants).joinedload(Applicant.documents)
    )


@dataclass
class Page:
    items: list[FamilyCase]
    page: int
    per_page: int
    total: int


def find_duplicates(
    session: Session, actor: Actor, data: NewApplicant, exclude: uuid.UUID | None = None
) -> list[Applicant]:
    """Applicants in the actor's sites with the same date of birth and a matching name.

    Names match in either script, ignoring spacing and common transliteration differences.
    An estimated date of birth (either side) matches anywhere in the same year.
    """
    dob: date = data.dob
    year = (date(dob.year, 1, 1), date(dob.year, 12, 31))
    same_year = and_(Applicant.dob.between(*year))
    dob_clause = (
        same_year
        if data.dob_estimated
        else or_(Applicant.dob == dob, and_(same_year, Applicant.dob_estimated.is_(True)))
    )
    stmt = (
        select(Applicant)
        .join(FamilyCase)
        .where(FamilyCase.site_id.in_(actor.site_ids), dob_clause)
        .options(selectinload(Applicant.case))
        .limit(200)
    )
    if exclude is not None:
        stmt = stmt.where(Applicant.id != exclude)
    wanted = names.full_name_skeletons(data.family_name, data.given_names)
    if data.family_name_original or data.given_names_original:
        wanted |= names.full_name_skeletons(data.family_name_original, data.given_names_original)
    found = []
    for candidate in session.scalars(stmt):
        theirs = names.full_name_skeletons(candidate.family_name, candidate.given_names)
        theirs |= names.full_name_skeletons(
            candidate.family_name_original, candidate.given_names_original
        )
        if names.names_match(wanted, theirs):
            found.append(candidate)
    return found


def describe_candidates(candidates: list[Applicant]) -> list[dict[str, Any]]:
    return [
        {
            "applicant_id": c.id,
            "case_id": c.case_id,
            "case_number": c.case.case_number,
            "family_name": c.family_name,
            "given_names": c.given_names,
            "family_name_original": c.family_name_original,
            "given_names_original": c.given_names_original,
            "dob": c.dob,
        }
        for c in candidates
    ]


def _prefix(prefix: str) -> Any:
    key = ApplicantSearchKey.key
    return and_(key >= prefix, key < prefix + names.PAST)


def _matching(term: names.QueryTerm, *, with_case: bool = False) -> CompoundSelect[Any]:
    """Applicants with a name matching one word of a search, from the search-key table alone:
    the word (as typed, and folded) anywhere in a name word, or one of its spelling keys (whole
    when short, else as a prefix). The same matches as LIKE '%word%' on the derived columns,
    answered by b-tree ranges: one index-only scan per range (a UNION ALL; an OR of them would
    visit the table's pages)."""
    key = ApplicantSearchKey.key
    ranges = [_prefix(names.TEXT_KEY + term.original)]
    if term.folded and term.folded != term.original:
        ranges.append(_prefix(names.TEXT_KEY + term.folded))
    for spelling in term.keys:
        if len(spelling) < names.SHORT_KEY:
            ranges.append(key == names.SPELLING_KEY + spelling)
        else:
            ranges.append(_prefix(names.SPELLING_KEY + spelling))
    columns = [ApplicantSearchKey.applicant_id]
    if with_case:
        columns.append(ApplicantSearchKey.case_id)
    return union_all(*(select(*columns).where(r) for r in ranges))


def search_cases(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    case_number: str | None = None,
    dob: date | None = None,
    destination: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """Cases in the actor's sites whose members match a name (either script), DOB or number."""
    where: list[Any] = [FamilyCase.site_id.in_(actor.site_ids)]
    if destination:
        where.append(FamilyCase.destination == destination)
    if case_number:
        where.append(
            FamilyCase.case_number.startswith(case_number.strip().upper(), autoescape=True)
        )
    terms = names.query_terms(q or "")
    if terms:
        # Members matching every word: the first word's (applicant, case) pairs, kept where the
        # applicant also matches the others; all from the key table's index.
        first = _matching(terms[0], with_case=True).subquery()
        matched = select(first.c.case_id if not dob else first.c.applicant_id).where(
            *(first.c.applicant_id.in_(_matching(term)) for term in terms[1:])
        )
        if dob:
            where.append(
                FamilyCase.id.in_(
                    select(Applicant.case_id).where(Applicant.dob == dob, Applicant.id.in_(matched))
                )
            )
        else:
            where.append(FamilyCase.id.in_(matched))
    elif dob:
        where.append(FamilyCase.id.in_(select(Applicant.case_id).where(Applicant.dob == dob)))
    # One scan gives the page and the total (a window count), instead of a count and a page.
    rows = session.execute(
        select(FamilyCase.id, func.count().over())
        .where(*where)
        .order_by(FamilyCase.created_at.desc(), FamilyCase.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if rows:
        total = rows[0][1]
        by_id = {
            c.id: c
            for c in session.scalars(case_query().where(FamilyCase.id.in_([r[0] for r in rows])))
        }
        items = [by_id[r[0]] for r in rows]
    else:
        total = session.scalar(select(func.count()).select_from(FamilyCase).where(*where)) or 0
        items = []
    audit.record(
        session,
        actor,
        "search",
        "case",
        None,
        details={
            "results": [str(c.id) for c in items],
            "total": total,
            "by": sorted(
                k for k, v in {"name": q, "case_number": case_number, "dob": dob}.items() if v
            ),
        },
    )
    return Page(items, page, per_page, total)
