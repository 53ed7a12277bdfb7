"""The printable vaccination record: a DS-3025-like table (vaccine, dates, waiver per row) and the
full history, as a PDF in English, Turkish or Arabic. Used by the page and by the export bundle.

Vaccine names and CVX codes stay as the international record writes them; the rule files' reasons
(why a vaccine is required) are English text and are printed only on the English record."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy.orm import Session

from pmha.core.auth import Actor
from pmha.core.i18n import N_
from pmha.core.pdf import Document
from pmha.documents.words import PROGRAMMES, country, iso, person_rows
from pmha.rules import RuleBook
from pmha.vaccines import dosing, live, outcome, service
from pmha.vaccines.models import RecordKind
from pmha.vaccines.seasons import CDSI_GROUPS

_KIND = {
    RecordKind.ADMINISTERED: N_("given here"),
    RecordKind.HISTORICAL: N_("from documents"),
    RecordKind.SUBPOTENT: N_("sub-potent (not counted)"),
    RecordKind.REFUSED: N_("refused by the applicant"),
    RecordKind.EVIDENCE_OF_IMMUNITY: N_("evidence of immunity"),
}
# The diseases a requirement names (pmha.vaccines.seasons.CDSI_GROUPS), for the catalogue: a
# translated record prints "Measles" in its language with the English name kept in brackets.
_VACCINES = {
    "COVID-19": N_("COVID-19"),
    "Diphtheria": N_("Diphtheria"),
    "Tetanus": N_("Tetanus"),
    "Pertussis": N_("Pertussis"),
    "Polio": N_("Polio"),
    "Measles": N_("Measles"),
    "Mumps": N_("Mumps"),
    "Rubella": N_("Rubella"),
    "Rotavirus": N_("Rotavirus"),
    "Hib": N_("Hib"),
    "HepA": N_("HepA"),
    "HepB": N_("HepB"),
    "Meningococcal": N_("Meningococcal"),
    "Varicella": N_("Varicella"),
    "Pneumococcal": N_("Pneumococcal"),
    "Influenza": N_("Influenza"),
}
# The outcome and state words of pmha.vaccines.outcome, as the applicant reads them.
_OUTCOME = {
    outcome.COMPLETE: N_("Complete: every required vaccine is given, documented or waived"),
    outcome.OPEN: N_("Not finished: some vaccines are still to give or decide"),
    outcome.CLASS_A: N_(
        "A required vaccine was refused and no waiver covers it: Class A (vaccination). "
        "This holds travel until the applicant is vaccinated or a waiver is granted"
    ),
    "refused": N_("A vaccine was refused: recorded; it does not hold travel for this destination"),
    outcome.NOT_APPLICABLE: N_("No vaccine is required of this applicant"),
}
_STATE = {
    outcome.GIVEN: N_("Given today"),
    outcome.DOCUMENTED: N_("Documented"),
    outcome.BLANKET_WAIVER: N_("Waived"),
    outcome.INDIVIDUAL_WAIVER: N_("Waived (individual waiver)"),
    "refused": N_("Refused (not a waiver)"),
    outcome.OPEN: N_("Still to settle"),
    "not_required": N_("Not required"),
}
_WAIVER = {
    "not_age_appropriate": N_("Not age appropriate"),
    "insufficient_interval": N_("Insufficient time since the last dose"),
    "contraindicated": N_("Contraindicated (not medically safe to give now)"),
    "not_flu_season": N_("Not flu season"),
    "not_routinely_available": N_("Not routinely available in this country"),
    "religious_or_moral_waiver": N_("Religious or moral waiver"),
    "evidence_of_immunity": N_("evidence of immunity"),
}


def render_record(
    session: Session,
    actor: Actor,
    applicant_id: uuid.UUID,
    *,
    rules: RuleBook,
    as_of: date | None = None,
    lang: str = "en",
) -> bytes:
    """The applicant's vaccination record as PDF bytes (an audited read), in `lang`."""
    view = service.overview(session, actor, rules, applicant_id, as_of)
    a = view.applicant
    english = lang == "en"
    doc = Document(N_("Vaccination record"), a.case.site.name, lang=lang)
    t = doc.t
    programme = t(PROGRAMMES.get(view.programme, view.programme.replace("_", " ")))
    doc.fields(
        [
            *person_rows(t, a),
            (t("Destination"), f"{country(view.destination, doc.lang)} ({programme})"),
            (t("Rules"), view.rules_version or "-"),
            (t("As of"), iso(view.as_of)),
        ]
    )
    dates: dict[str, list[str]] = defaultdict(list)
    for r in view.active:
        if r.kind in (RecordKind.ADMINISTERED, RecordKind.HISTORICAL):
            antigens = live.antigens(r.cvx)
            for vaccine, (_group, antigen) in CDSI_GROUPS.items():
                if antigen in antigens:
                    dates[vaccine].append(r.occurred_on.isoformat())
    doc.heading(t("Vaccines required by the destination"))
    if view.requirements:
        if view.outcome is not None:
            words = t(_OUTCOME.get(view.outcome.value, view.outcome.words))
            doc.paragraph(t("Vaccination outcome: %(words)s.") % {"words": words})
        rows = []
        states = (
            view.outcome.vaccines
            if view.outcome is not None
            else tuple(outcome.vaccine_outcome(r) for r in view.requirements)
        )
        for req, state in zip(view.requirements, states, strict=True):
            given = ", ".join(dates.get(req.vaccine, [])) or "-"
            if english:
                why = req.reason.detail
                note = outcome.season_note(req)
                if note:
                    why = f"{why}. {note}"
                status = (
                    outcome.STATE_WORDS[state.state] if state.state == "refused" else state.words
                )
                rows.append([req.vaccine, given, status, why])
                continue
            status = t(_STATE.get(state.state, state.state))
            if state.waiver:
                status = f"{status}: {t(_WAIVER.get(state.waiver, state.waiver))}"
            name = t(_VACCINES.get(req.vaccine, req.vaccine))
            rows.append([req.vaccine if name == req.vaccine else f"{name} ({req.vaccine})",
                         given, status])  # fmt: skip
        if english:
            doc.grid(["Vaccine", "Dates given", "Status or waiver", "Why"], rows, (30, 42, 38, 70))
        else:
            doc.grid([t("Vaccine"), t("Dates given"), t("Status or waiver")], rows, (58, 40, 82))
    elif english:
        doc.paragraph("; ".join(view.problems) or "No vaccine requirement for this destination.")
    else:
        doc.paragraph(t("No vaccine requirement for this destination."))
    doc.heading(t("Vaccination history"))
    if view.records:
        rows = []
        for r in view.records:
            what = (
                dosing.name(r.cvx)
                if r.kind is not RecordKind.EVIDENCE_OF_IMMUNITY
                else (dosing.IMMUNITY.get(r.immunity_disease or "", "Evidence of immunity"))
            )
            detail = t(_KIND[r.kind])
            if r.lot:
                detail += ", " + t("lot %(lot)s") % {"lot": r.lot}
            if r.deleted_at is not None:
                # the reason is the staff's own text, kept as they wrote it
                detail += "; " + t("ENTERED IN ERROR: %(reason)s") % {"reason": r.deleted_reason}
            rows.append([iso(r.occurred_on), what, f"CVX {r.cvx}", detail])
        doc.grid([t("Date"), t("Vaccine"), t("Code"), t("Record")], rows, (24, 56, 20, 80))
    else:
        doc.paragraph(t("No vaccination recorded."))
    doc.ln(6)
    doc.paragraph(
        t(
            "Waivers follow the destination's rule file; a blank requirement row means the "
            "destination does not require that vaccine for this applicant."
        ),
        size=8,
    )
    return doc.render()
