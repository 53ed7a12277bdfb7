"""The printable vaccination record: a DS-3025-like table (vaccine, dates, waiver per row) and the
full history, as a PDF. Used by the page and by the export bundle."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.core.pdf import Document
from pmha.rules import RuleBook
from pmha.vaccines import dosing, live, outcome, service
from pmha.vaccines.models import RecordKind
from pmha.vaccines.seasons import CDSI_GROUPS

_KIND = {
    RecordKind.ADMINISTERED: "given here",
    RecordKind.HISTORICAL: "from documents",
    RecordKind.SUBPOTENT: "sub-potent (not counted)",
    RecordKind.REFUSED: "refused by the applicant",
    RecordKind.EVIDENCE_OF_IMMUNITY: "evidence of immunity",
}


def render_record(
    session: Session,
    actor: Actor,
    applicant_id: uuid.UUID,
    *,
    rules: RuleBook,
    as_of: date | None = None,
) -> bytes:
    """The applicant's vaccination record as PDF bytes (an audited read)."""
    view = service.overview(session, actor, rules, applicant_id, as_of)
    a = view.applicant
    doc = Document("Vaccination record", a.case.site.name)
    doc.fields(
        [
            ("Name", f"{a.family_name.upper()}, {a.given_names}"),
            ("Date of birth", a.dob.isoformat()),
            ("Sex", a.sex.value.capitalize()),
            ("Case", a.case.case_number),
            ("Destination", f"{view.destination} ({view.programme.replace('_', ' ')})"),
            ("Rules", view.rules_version or "-"),
            ("As of", view.as_of.isoformat()),
        ]
    )
    dates: dict[str, list[str]] = defaultdict(list)
    for r in view.active:
        if r.kind in (RecordKind.ADMINISTERED, RecordKind.HISTORICAL):
            antigens = live.antigens(r.cvx)
            for vaccine, (_group, antigen) in CDSI_GROUPS.items():
                if antigen in antigens:
                    dates[vaccine].append(r.occurred_on.isoformat())
    doc.heading("Vaccines required by the destination")
    if view.requirements:
        if view.outcome is not None:
            doc.paragraph(f"Vaccination outcome: {view.outcome.words}.")
        rows = []
        states = (
            view.outcome.vaccines
            if view.outcome is not None
            else tuple(outcome.vaccine_outcome(r) for r in view.requirements)
        )
        for req, state in zip(view.requirements, states, strict=True):
            why = req.reason.detail
            note = outcome.season_note(req)
            if note:
                why = f"{why}. {note}"
            rows.append(
                [
                    req.vaccine,
                    ", ".join(dates.get(req.vaccine, [])) or "-",
                    outcome.STATE_WORDS[state.state] if state.state == "refused" else state.words,
                    why,
                ]
            )
        doc.grid(["Vaccine", "Dates given", "Status or waiver", "Why"], rows, (30, 42, 38, 70))
    else:
        doc.paragraph("; ".join(view.problems) or "No vaccine requirement for this destination.")
    doc.heading("Vaccination history")
    if view.records:
        rows = []
        for r in view.records:
            what = (
                dosing.name(r.cvx)
                if r.kind is not RecordKind.EVIDENCE_OF_IMMUNITY
                else (dosing.IMMUNITY.get(r.immunity_disease or "", "Evidence of immunity"))
            )
            detail = _KIND[r.kind]
            if r.lot:
                detail += f", lot {r.lot}"
            if r.deleted_at is not None:
                detail += f"; ENTERED IN ERROR: {r.deleted_reason}"
            rows.append([r.occurred_on.isoformat(), what, f"CVX {r.cvx}", detail])
        doc.grid(["Date", "Vaccine", "Code", "Record"], rows, (24, 56, 20, 80))
    else:
        doc.paragraph("No vaccination recorded.")
    doc.ln(6)
    doc.paragraph(
        "Waivers follow the destination's rule file; a blank requirement row means the "
        "destination does not require that vaccine for this applicant.",
        size=8,
    )
    return doc.render()
