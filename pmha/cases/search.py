"""Finding people and cases: duplicate candidates when registering, and case search.

Both tolerate spelling, spacing and script (see names.py); both see only the actor's sites.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from pmha.cases import names
from pmha.cases.models import Applicant, FamilyCase
from pmha.core import audit
from pmha.core.auth import Actor


def case_query() -> Select[FamilyCase]:
    """Cases with their members and documents loaded."""
    return select(FamilyCase).options(
        selectinload(FamilyCase.applicants).selectinload(Applicant.documents)
    )


@dataclass
class Page:
    items: list[FamilyCase]
    page: int
    per_page: int
    total: int


def find_duplicates(
    session: Session, actor: Actor, data: dict[str, Any], exclude: uuid.UUID | None = None
) -> list[Applicant]:
    """Applicants in the actor's sites with the same date of birth and a matching name.

    Names match in either script, ignoring spacing and common transliteration differences.
    An estimated date of birth (either side) matches anywhere in the same year.
    """
    dob: date = data["dob"]
    year = (date(dob.year, 1, 1), date(dob.year, 12, 31))
    same_year = and_(Applicant.dob.between(*year))
    dob_clause = (
        same_year
        if data.get("dob_estimated")
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
    wanted = names.full_name_skeletons(data["family_name"], data["given_names"])
    if data.get("family_name_original") or data.get("given_names_original"):
        wanted |= names.full_name_skeletons(
            data.get("family_name_original"), data.get("given_names_original")
        )
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
    member: list[Any] = []
    if dob:
        member.append(Applicant.dob == dob)
    for term in names.query_terms(q or ""):
        options = [Applicant.search_text.contains(term.original, autoescape=True)]
        if term.folded:
            options.append(Applicant.search_text.contains(term.folded, autoescape=True))
        for key in term.keys:
            # Whole keys always; prefixes only once they are long enough to be specific.
            whole = f" {key} " if len(key) < 6 else f" {key}"
            options.append(Applicant.search_skeletons.contains(whole, autoescape=True))
        member.append(or_(*options))
    if member:
        where.append(FamilyCase.id.in_(select(Applicant.case_id).where(*member)))
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
