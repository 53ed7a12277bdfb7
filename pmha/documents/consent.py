"""Consent forms the applicant signs on paper before an HIV test or a chest X-ray in pregnancy
(the two consents pmha.exams.labs records), in the applicant's language.

What the forms say follows the panel physicians' technical instructions: an HIV test comes with
pre-test counselling and a confidential result told in person (CDC, Technical Instructions for
Panel Physicians, HIV section); a pregnant applicant may have the chest X-ray with abdominal
shielding or defer it (CDC TB Technical Instructions, chest X-ray in pregnancy). The applicant's
answer is then recorded on the labs page; this paper is what they signed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmha.cases.models import Applicant
from pmha.core.i18n import N_
from pmha.core.pdf import Document
from pmha.documents.words import person_rows
from pmha.exams.labs import ConsentKind


@dataclass(frozen=True)
class Form:
    title: str
    text: tuple[str, ...]  # what the applicant is told
    ticks: tuple[str, ...]  # what they tick


FORMS: dict[ConsentKind, Form] = {
    ConsentKind.HIV_TEST: Form(
        title=N_("Consent to an HIV test"),
        text=(
            N_(
                "The health assessment for your migration includes a blood test for HIV (the "
                "virus that causes AIDS). Before the test, a health worker explains the test and "
                "what its result means, and answers your questions (pre-test counselling)."
            ),
            N_(
                "Your result is confidential: it is shared only with the panel physician and "
                "the destination's health authority as part of your medical examination. Whatever "
                "the result, it is given to you in person; if it is positive, you are offered "
                "counselling and referred for care. What the result means for your application "
                "depends on the destination's rules: the physician will explain them."
            ),
        ),
        ticks=(
            N_("I was told about the test and had the chance to ask questions."),
            N_("I agree to be tested for HIV."),
            N_(
                "I do not agree to be tested for HIV. I understand that my health assessment may "
                "not be completed without this test if the destination requires it."
            ),
        ),
    ),
    ConsentKind.CHEST_XRAY_IN_PREGNANCY: Form(
        title=N_("Consent to a chest X-ray during pregnancy"),
        text=(
            N_(
                "The destination requires a chest X-ray to look for tuberculosis. You told us "
                "that you are, or may be, pregnant."
            ),
            N_(
                "A chest X-ray gives a very small dose of radiation. During the X-ray your "
                "abdomen is covered with a lead apron to protect the baby. You may choose to have "
                "the X-ray now, or to wait until after the birth; waiting may delay your travel. "
                "The physician will explain the choices and answer your questions."
            ),
        ),
        ticks=(
            N_(
                "I was told why the X-ray is needed, how the baby is protected, and what waiting "
                "would mean."
            ),
            N_("I agree to have a chest X-ray now, with my abdomen shielded."),
            N_("I do not agree to have a chest X-ray during my pregnancy."),
        ),
    ),
}


def consent_form(applicant: Applicant, kind: ConsentKind, lang: str = "en") -> bytes:
    """The printed consent form for one applicant, to sign before the test."""
    form = FORMS[kind]
    doc = Document(form.title, applicant.case.site.name, lang=lang)
    t = doc.t
    doc.fields(person_rows(t, applicant))
    doc.ln(2)
    for text in form.text:
        doc.paragraph(t(text))
        doc.ln(1)
    doc.heading(t("Please tick what applies"))
    for text in form.ticks:
        doc.checkbox_line(t(text))
    doc.signature_lines(
        [
            t("Signature of the applicant (or of the parent or guardian)"),
            t("Health worker: name and signature"),
            t("Interpreter, if one helped: name, language and signature"),
            t("Date"),
        ]
    )
    doc.ln(4)
    doc.paragraph(
        t("Sign only when you have understood this form. Ask for an interpreter if you need one."),
        size=8.5,
    )
    return doc.render()
