"""The referral letter to a national programme DOT centre (PDF, through pmha.core.pdf), in
English, Turkish or Arabic: the applicant carries it to the centre, whose staff may read only
their own language. Drug abbreviations (HRZE) and regimen codes stay as the WHO writes them."""

from __future__ import annotations

from pmha.core.i18n import N_
from pmha.core.pdf import Document
from pmha.documents.words import country, iso
from pmha.tb_dot.service import Treatment

SITE_WORDS = {"pulmonary": N_("Pulmonary"), "extrapulmonary": N_("Extrapulmonary")}
SUSCEPTIBILITY = {
    "susceptible": N_("susceptible"),
    "resistant": N_("resistant"),
    "unknown": N_("unknown"),
}
PHASES = {"intensive": N_("Intensive"), "continuation": N_("Continuation")}


def referral_letter(found: Treatment, lang: str = "en") -> bytes:
    """Who is referred, for what treatment, from when, and what the centre is asked to do."""
    e, a, p = found.episode, found.applicant, found.progress
    doc = Document(N_("Referral for directly observed therapy (DOT)"), a.case.site.name, lang=lang)
    t = doc.t
    doc.fields(
        [
            (t("To"), e.referral_centre or t("the national TB programme DOT centre")),
            (t("Name"), f"{a.family_name.upper()}, {a.given_names}"),
            (t("Date of birth"), iso(a.dob)),
            (t("Case"), a.case.case_number),
            (t("Destination"), country(e.destination, doc.lang)),
        ]
    )
    doc.heading(t("Diagnosis and treatment"))
    doc.fields(
        [
            (t("Diagnosed on"), iso(e.diagnosed_on)),
            (t("Site"), t(SITE_WORDS.get(e.disease_site, e.disease_site))),
            (
                t("Drug susceptibility"),
                t(SUSCEPTIBILITY.get(e.susceptibility, e.susceptibility))
                + (f" ({e.resistance})" if e.resistance else ""),
            ),
            (t("Regimen"), f"{e.regimen_code}: {found.regimen_title}"),
            (t("Dose by weight"), found.dose or t("as prescribed")),
            (t("Start date"), iso(e.start_date)),
            (
                t("Doses taken so far"),
                t("%(taken)s of %(total)s") % {"taken": p.taken, "total": p.total},
            ),
        ],
        label_width=50,
    )
    doc.grid(
        [t("Phase"), t("Drugs"), t("Daily doses"), t("To be taken within")],
        [
            [
                t(PHASES.get(ph.name, ph.name.capitalize())),
                ph.drugs,
                str(ph.doses),
                t("%(days)s days") % {"days": ph.within_days},
            ]
            for ph in p.phases
        ],
    )
    doc.heading(t("What we ask"))
    doc.paragraph(
        t(
            "Please observe every daily dose and record each one (observed, missed, "
            "self-administered, refused, or an adverse event with its description), collect a "
            "sputum sample every month until the culture converts, and send the records back to "
            "the assessment centre. The applicant cannot travel until treatment is completed "
            "under observation."
        )
    )
    return doc.render()
