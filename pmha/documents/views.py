"""The applicant's documents in their language, the consent forms, and the user's language.

The documents page is the one an applicant is shown at the desk: its words are in the language
chosen (Arabic right to left), and each document's link carries that language (`?lang=`), so what
is printed is what the applicant chose. Staff pages stay in English.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from pmha.cases.models import Applicant
from pmha.core import audit, i18n
from pmha.core.auth import actor, require_login
from pmha.core.db import get_session
from pmha.core.errors import AppError, Conflict, NotFound
from pmha.core.forms import form_action
from pmha.documents import appointment, consent, service
from pmha.exams import service as exams
from pmha.exams.labs import ConsentKind
from pmha.exams.models import SectionKind
from pmha.tb_dot import service as tb
from pmha.web.files import sent_file
from pmha.web.pages import RECORD, Pages

bp = Blueprint("documents", __name__)
pages = Pages(bp)
record_pages = Pages(bp, prefix=RECORD)


def _pdf(body: bytes, name: str) -> Response:
    return sent_file(body, "application/pdf", name)


def _referral(a: Applicant) -> dict[str, Any] | None:
    """The latest version of the applicant's specialist referral (an audited read), if any."""
    versions = exams.record(get_session(), actor(), a.id).get(SectionKind.SPECIALIST_REFERRAL)
    return dict(versions[-1].data) if versions else None


def _documents(a: Applicant, lang: str) -> list[tuple[str, str]]:
    """(what, link) for each document this user may print for the applicant, in `lang`."""
    me, found = actor(), []
    if me.can("vaccines:read"):
        found.append(
            (
                "Vaccination record",
                url_for("vaccines.record_pdf", case_id=a.case_id, applicant_id=a.id, lang=lang),
            )
        )
    if me.can("labs:read"):
        for kind, form in consent.FORMS.items():
            link = url_for(".consent_form", case_id=a.case_id, applicant_id=a.id,
                           kind=kind.value, lang=lang)  # fmt: skip
            found.append((form.title, link))
    if me.can("exams:read") and appointment.booked(_referral(a)):
        link = url_for(".appointment_letter", case_id=a.case_id, applicant_id=a.id, lang=lang)
        found.append((appointment.TITLE, link))
    if me.can("tb_dot:read"):
        episode = tb.latest_episode(get_session(), a.id)
        if episode is not None and episode.dot_site == "referral":
            found.append(
                (
                    "Referral for directly observed therapy (DOT)",
                    url_for("tb_dot.referral_letter", episode_id=episode.id, lang=lang),
                )
            )
    return found


def _page(a: Applicant, lang: str, errors: dict[str, list[str]] | None = None,
          status: int = 200) -> Any:  # fmt: skip
    g.page_lang = lang  # Flask-Babel's locale for this page: the applicant's language
    audit.record(get_session(), actor(), "read", "applicant_documents", a.id,
                 site_id=a.case.site_id)  # fmt: skip
    return render_template(
        "documents/applicant.html",
        a=a,
        case=a.case,
        lang=lang,
        direction=i18n.direction(lang),
        documents=_documents(a, lang),
        errors=errors or {},
        nav="cases",
    ), status


@record_pages.get("/documents", "cases:read")
def applicant_documents(applicant: Applicant) -> Any:
    a = applicant
    try:
        lang = service.document_language(get_session(), actor(), a, request.args.get("lang"))
    except AppError as exc:
        fallback = service.document_language(get_session(), actor(), a, None)
        return _page(a, fallback, exc.errors, exc.status)
    return _page(a, lang)


@record_pages.post("/language", "cases:write")
def applicant_language(applicant: Applicant) -> Any:
    a = applicant
    lang = form_action(
        "language",
        {},
        lambda _: service.set_applicant_language(
            get_session(), actor(), a, request.form.get("language")
        ),
        lambda failed: _page(
            a,
            service.document_language(get_session(), actor(), a, None),
            failed.on("language").errors,
        ),
    )
    flash(f"The applicant's documents will be printed in {i18n.LANGUAGES[lang]} by default.")
    return redirect(url_for(".applicant_documents", case_id=a.case_id, applicant_id=a.id))


@record_pages.get("/consent-forms/<kind>.pdf", "labs:read")
def consent_form(kind: str, applicant: Applicant) -> Any:
    a = applicant
    try:
        which = ConsentKind(kind)
    except ValueError:
        raise NotFound("No such consent form.", code="documents.form_not_found") from None
    lang = service.document_language(get_session(), actor(), a, request.args.get("lang"))
    audit.record(get_session(), actor(), "print", "consent_form", a.id, site_id=a.case.site_id,
                 details={"kind": which.value, "lang": lang})  # fmt: skip
    return _pdf(consent.consent_form(a, which, lang), f"consent-{which.value}.pdf")


@record_pages.get("/appointment-letter.pdf", "exams:read")
def appointment_letter(applicant: Applicant) -> Any:
    a = applicant
    lang = service.document_language(get_session(), actor(), a, request.args.get("lang"))
    referral = _referral(a)
    if not appointment.booked(referral):
        raise Conflict(
            "No specialist appointment is booked for this applicant: record the appointment "
            "date in the exam record's specialist referral first.",
            code="documents.no_appointment",
        )
    assert referral is not None
    audit.record(get_session(), actor(), "print", "appointment_letter", a.id,
                 site_id=a.case.site_id, details={"lang": lang})  # fmt: skip
    return _pdf(appointment.appointment_letter(a, referral, lang), "appointment-letter.pdf")


@pages.route("/account/language", None, methods=("GET", "POST"))
@require_login
def my_language() -> Any:
    if request.method == "GET":
        return _my_language_page()
    lang = form_action(
        "language",
        {},
        lambda _: service.set_user_language(get_session(), actor(), request.form.get("language")),
        lambda failed: _my_language_page(failed.on("language").errors),
    )
    flash(f"Documents you print will be in {i18n.LANGUAGES[lang]} unless the applicant's "
          "language is recorded or you choose another on the link.")  # fmt: skip
    return redirect(url_for(".my_language"))


def _my_language_page(errors: dict[str, list[str]] | None = None) -> Any:
    current = service.user_language(get_session(), actor()) or i18n.DEFAULT
    return render_template(
        "documents/my_language.html", current=current, errors=errors or {}, nav=None
    )
