"""The referral letter to a national programme DOT centre (PDF, through pmha.core.pdf)."""

from __future__ import annotations

from pmha.core.pdf import Document
from pmha.tb_dot.service import Treatment

SITE_WORDS = {"pulmonary": "Pulmonary", "extrapulmonary": "Extrapulmonary"}


def referral_letter(found: Treatment) -> bytes:
    """Who is referred, for what treatment, from when, and what the centre is asked to do."""
    e, a, p = found.episode, found.applicant, found.progress
    doc = Document("Referral for directly observed therapy (DOT)", a.case.site.name)
    doc.fields(
        [
            ("To", e.referral_centre or "the national TB programme DOT centre"),
            ("Name", f"{a.family_name.upper()}, {a.given_names}"),
            ("Date of birth", a.dob.isoformat()),
            ("Case", a.case.case_number),
            ("Destination", e.destination),
        ]
    )
    doc.heading("Diagnosis and treatment")
    doc.fields(
        [
            ("Diagnosed on", e.diagnosed_on.isoformat()),
            ("Site", SITE_WORDS.get(e.disease_site, e.disease_site)),
            (
                "Drug susceptibility",
                e.susceptibility + (f" ({e.resistance})" if e.resistance else ""),
            ),
            ("Regimen", f"{e.regimen_code}: {found.regimen_title}"),
            ("Dose by weight", found.dose or "as prescribed"),
            ("Start date", e.start_date.isoformat()),
            ("Doses taken so far", f"{p.taken} of {p.total}"),
        ]
    )
    doc.grid(
        ["Phase", "Drugs", "Daily doses", "To be taken within"],
        [
            [ph.name.capitalize(), ph.drugs, str(ph.doses), f"{ph.within_days} days"]
            for ph in p.phases
        ],
    )
    doc.heading("What we ask")
    doc.paragraph(
        "Please observe every daily dose and record each one (observed, missed, self-administered, "
        "refused, or an adverse event with its description), collect a sputum sample every month "
        "until the culture converts, and send the records back to the assessment centre. The "
        "applicant cannot travel until treatment is completed under observation."
    )
    return doc.render()
