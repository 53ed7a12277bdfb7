"""The appointment letter for a specialist referral (the exam's specialist_referral section): the
applicant takes it to the specialist, in their language. It names the specialty and the date, not
the reason (health detail the specialist receives with the referral itself)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pmha.cases.models import Applicant
from pmha.core.i18n import N_
from pmha.core.pdf import Document
from pmha.documents.words import iso, person_rows

TITLE = N_("Appointment with a specialist")


def booked(referral: dict[str, Any] | None) -> date | None:
    """The appointment date of a referral whose appointment is made, else None."""
    if not referral or referral.get("status") != "appointment_made":
        return None
    raw = referral.get("appointment_date")
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def appointment_letter(applicant: Applicant, referral: dict[str, Any], lang: str = "en") -> bytes:
    """Where and when the applicant is expected, and what to bring."""
    day = booked(referral)
    assert day is not None, "only a referral with its appointment made has a letter"
    doc = Document(TITLE, applicant.case.site.name, lang=lang)
    t = doc.t
    doc.fields(
        [
            *person_rows(t, applicant),
            (t("Specialty"), str(referral.get("specialty") or "-")),
            (t("Appointment date"), iso(day)),
        ]
    )
    doc.ln(2)
    doc.paragraph(
        t(
            "The panel physician has referred you to a specialist as part of your health "
            "assessment. Please go to the appointment on the date above and bring this letter, "
            "your passport or travel document, and any medical documents or medicines you have."
        )
    )
    doc.ln(1)
    doc.paragraph(
        t(
            "If you cannot go on that date, tell the assessment centre as soon as possible. Your "
            "health assessment cannot be completed until the specialist's report has been received."
        )
    )
    doc.signature_lines([t("Assessment centre: name and signature"), t("Date")])
    return doc.render()
