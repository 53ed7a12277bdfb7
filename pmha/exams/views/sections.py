"""The exam record page: one panel per section, with its form, sign-off, amendment and history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from pmha.accounts import signatures
from pmha.accounts.web_auth import confirm_signature
from pmha.cases.models import Applicant, Sex
from pmha.core.auth import actor
from pmha.core.context import rulebook, storage
from pmha.core.db import get_session
from pmha.core.errors import NotFound, StaleVersion, ValidationFailed
from pmha.core.forms import Failed, form_action, shown
from pmha.exams import attachments, service
from pmha.exams.commands import SectionDraft
from pmha.exams.models import ExamSection, SectionKind
from pmha.exams.sections import (
    CLASS_WORDS,
    SEX_SPECIFIC,
    SIGN_PERMISSION,
    bmi,
    class_mismatch,
)
from pmha.exams.views import form
from pmha.exams.views.common import record_pages
from pmha.web.record import page_context, version_of

TITLES = {
    SectionKind.MEDICAL_HISTORY: "Medical and immunization history",
    SectionKind.PHYSICAL_EXAM: "Physical examination",
    SectionKind.MENTAL_HEALTH: "Mental health evaluation",
    SectionKind.SPECIALIST_REFERRAL: "Specialist referral",
    SectionKind.RECOMMENDATIONS: "Recommendations for schooling, work and daily living",
    SectionKind.COUNSELLING: "Health education and counselling",
}
SHORT = {
    SectionKind.MEDICAL_HISTORY: "History",
    SectionKind.PHYSICAL_EXAM: "Physical",
    SectionKind.MENTAL_HEALTH: "Mental health",
    SectionKind.SPECIALIST_REFERRAL: "Referral",
    SectionKind.RECOMMENDATIONS: "Recommendations",
    SectionKind.COUNSELLING: "Counselling",
}
STALE = (
    "Someone saved this section meanwhile: here it is as it is now. Your changes were not saved."
)
STALE_SIGN = (
    "Someone changed this draft meanwhile: here it is as it is now. Nothing was signed: check it "
    "and sign again."
)


@dataclass
class Panel:
    """One section on the page: its versions, the one in force, and what this user may do."""

    kind: SectionKind
    title: str
    versions: list[ExamSection]
    current: ExamSection | None
    values: dict[str, Any]
    can_write: bool
    can_sign: bool

    @property
    def state(self) -> str:
        return self.current.status.value if self.current else "not_started"

    @property
    def older(self) -> list[ExamSection]:
        return [v for v in self.versions if v is not self.current][::-1]

    @property
    def amending(self) -> ExamSection | None:
        """The signed version an open draft amends."""
        if self.current is None or self.current.amends_id is None:
            return None
        return next((v for v in self.versions if v.id == self.current.amends_id), None)

    def derived(self, section: ExamSection | None) -> dict[str, Any]:
        if section is None:
            return {}
        out: dict[str, Any] = {}
        if self.kind == SectionKind.PHYSICAL_EXAM:
            out["bmi"] = bmi(section.data)
        implied = service.implied_classification(section)
        if implied is not None:
            out["implied"] = implied
        return out


def _panels(record: dict[SectionKind, list[ExamSection]], failed: Failed | None) -> list[Panel]:
    me = actor()
    out = []
    for kind in SectionKind:
        versions = record.get(kind, [])
        current = versions[-1] if versions else None
        if failed is not None and failed.target == kind.value:
            values = failed.values
        elif current is not None:
            values = form.to_values(kind, current.data)
        else:
            values = {}
        out.append(
            Panel(
                kind=kind,
                title=TITLES[kind],
                versions=versions,
                current=current,
                values=values,
                can_write=me.can("exams:write"),
                can_sign=me.can(SIGN_PERMISSION[kind]),
            )
        )
    return out


def _errors(failed: Failed | None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The refused form's errors for the summary at the top, each linked to its field."""
    if failed is None:
        return {}, {}
    errors: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    if failed.target == "report":  # the report upload: one field, labelled on the page
        return {"report": failed.errors.get("file", [])}, {"report": "Specialist's report"}
    kind = SectionKind(failed.target.removeprefix("amend-")) if failed.target != "_stale" else None
    for name, messages in failed.errors.items():
        if name.startswith("_") or kind is None:
            errors[name] = messages
            continue
        key = f"{failed.target}-{name}"
        errors[key] = messages
        labels[key] = "Reason" if failed.target.startswith("amend-") else form.label_of(kind, name)
    return errors, labels


@record_pages.page("/exam", "exams:read", endpoint="record")
def _page(applicant: Applicant, failed: Failed | None = None, status: int = 200) -> Any:
    record = service.record(get_session(), actor(), applicant.id)
    return render_template(
        "exams/record.html",
        reports=attachments.listed(get_session(), actor(), applicant.id),
        rights_write=actor().can("exams:write"),
        panels=_panels(record, failed),
        **shown(failed, *_errors(failed)),
        forms=form.FORMS,
        row_counts=form.row_counts,
        choice_words=form.choice_words,
        short=SHORT,
        signed_line=signed_line,
        class_words=CLASS_WORDS,
        skip=_skipped(applicant),
        **page_context(applicant, "exams.record"),
    ), status


def signed_line(section: ExamSection) -> str:
    """'A. Demir, Panel physician, reg. TR-12345': who signed, as a professional."""
    if not section.signed_by_name:
        return ""
    words = signatures.role_words(section.signed_by_role) if section.signed_by_role else None
    reg = section.signed_by_registration
    return ", ".join(p for p in (section.signed_by_name, words, reg and f"reg. {reg}") if p)


def _skipped(applicant: Any) -> dict[SectionKind, tuple[str, ...]]:
    """Questions not asked of this applicant: pregnancy of a male applicant."""
    if applicant.sex == Sex.MALE:
        return {SectionKind.MEDICAL_HISTORY: SEX_SPECIFIC}
    return {}


def _kind(name: str) -> SectionKind:
    try:
        return SectionKind(name)
    except ValueError:
        raise NotFound("No such section.", code="exams.no_section") from None


def _back(applicant: Applicant, kind: SectionKind, text: str) -> Any:
    flash(text)
    return redirect(
        url_for(
            ".record",
            case_id=applicant.case_id,
            applicant_id=applicant.id,
            _anchor=f"sec-{kind.value}",
        )
    )


@record_pages.post("/exam/<kind>", "exams:write")
def save_section(kind: str, applicant: Applicant) -> Any:
    """Save the draft; with action=sign, save it and go on to sign it: the signing page shows
    what is signed and asks for the password (a click alone is not a signature)."""
    section_kind, me, db = _kind(kind), actor(), get_session()
    signing = request.form.get("action") == "sign"
    if signing:
        me.check(SIGN_PERMISSION[section_kind])  # before anything is saved

    def act(_: None) -> None:
        data = form.to_data(section_kind, request.form)
        version = version_of(request.form.get("version"))
        draft = SectionDraft(kind=section_kind, content=data, version=version)
        service.save_draft(db, me, applicant.id, draft)

    def page(failed: Failed) -> Any:
        if isinstance(failed.problem, StaleVersion | service.SectionSigned):
            message = STALE if isinstance(failed.problem, StaleVersion) else failed.message
            return _page(applicant, Failed("_stale", {}, {"_form": [message]}))
        failed.errors = form.humane(section_kind, failed.errors)
        return _page(applicant, failed)

    form_action(section_kind.value, request.form.to_dict(), act, page)
    title = TITLES[section_kind]
    if signing:
        flash(f"{title}: draft saved. Check it, then sign with your password.")
        return redirect(
            url_for(".sign_review", case_id=applicant.case_id, applicant_id=applicant.id, kind=kind)
        )
    return _back(applicant, section_kind, f"{title}: draft saved.")


def _sign_page(
    applicant: Any, kind: SectionKind, failed: Failed | None = None, status: int = 200
) -> Any:
    """What is being signed, who signs it, and the password; a refused signing says why."""
    me, db = actor(), get_session()
    record = service.record(db, me, applicant.id)
    versions = record.get(kind, [])
    draft = versions[-1] if versions and versions[-1].status.value == "draft" else None
    if draft is None:
        raise NotFound("There is no draft to sign.", code="exams.no_draft")
    signer, cannot = signatures.preview(db, me, SIGN_PERMISSION[kind])
    panel = Panel(kind, TITLES[kind], versions, draft, {}, True, True)
    return render_template(
        "exams/sign.html",
        panel=panel,
        draft=draft,
        spec=form.FORMS[kind],
        derived=panel.derived(draft),
        mismatch=class_mismatch(draft.data) if kind == SectionKind.MENTAL_HEALTH else None,
        signer=signer,
        cannot=cannot,
        failed=failed,
        choice_words=form.choice_words,
        **page_context(applicant, "exams.record"),
    ), status


@record_pages.get("/exam/<kind>/sign", "exams:write")
def sign_review(kind: str, applicant: Applicant) -> Any:
    section_kind = _kind(kind)
    actor().check(SIGN_PERMISSION[section_kind])
    return _sign_page(applicant, section_kind)


@record_pages.post("/exam/<kind>/sign", "exams:write")
def sign_section(kind: str, applicant: Applicant) -> Any:
    """Sign the draft shown on the signing page, with the signer's password."""
    section_kind, me, db = _kind(kind), actor(), get_session()
    me.check(SIGN_PERMISSION[section_kind])
    reason = request.form.get("classification_reason", "")[:500]
    version = version_of(request.form.get("version")) or 0

    def act(_: None) -> None:
        password = request.form.get("password", "")[:200]
        signature = confirm_signature(password, SIGN_PERMISSION[section_kind])
        service.sign(
            db, me, rulebook(), applicant.id, section_kind, version, signature, reason or None
        )

    def page(failed: Failed) -> Any:
        if isinstance(failed.problem, StaleVersion):
            failed.errors = {"_form": [STALE_SIGN]}
        return _sign_page(applicant, section_kind, failed)

    form_action(section_kind.value, {"classification_reason": reason}, act, page)
    return _back(applicant, section_kind, f"{TITLES[section_kind]}: signed.")


@record_pages.post("/exam/<kind>/amend", "exams:write")
def amend_section(kind: str, applicant: Applicant) -> Any:
    section_kind, me = _kind(kind), actor()
    reason = request.form.get("reason", "")

    def page(failed: Failed) -> Any:
        failed.errors = {("reason" if k == "kind" else k): v for k, v in failed.errors.items()}
        return _page(applicant, failed)

    form_action(
        f"amend-{section_kind.value}",
        {"reason": reason},
        lambda _: service.amend(get_session(), me, applicant.id, section_kind, reason),
        page,
    )
    text = f"{TITLES[section_kind]}: amendment opened. Change what needs changing, then sign it."
    return _back(applicant, section_kind, text)


@record_pages.post("/exam/specialist_referral/report", "exams:write")
def attach_report(applicant: Applicant) -> Any:
    request.max_content_length = attachments.MAX_BYTES + 64 * 1024  # the file and its form
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    where = storage()
    try:
        attachments.attach(get_session(), actor(), applicant.id, "specialist_report", data, where)
    except ValidationFailed as exc:
        return _page(applicant, Failed("report", errors=dict(exc.errors or {})), 422)
    return _back(
        applicant,
        SectionKind.SPECIALIST_REFERRAL,
        "The specialist's report is attached.",
    )
