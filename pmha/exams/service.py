"""Exam verbs: save a section's draft, sign it, amend a signed one; signing feeds the rules.

A signed section never changes. An amendment is a new version with a reason; when it is signed,
the version it amends becomes `superseded` (kept, shown). Signing a history updates the
applicant's clinical facts; signing an exam records its result: both re-plan the applicant.
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.accounts.signatures import Signature
from pmha.cases import service as cases
from pmha.cases.models import Applicant, Sex
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.core.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from pmha.exams.commands import SectionDraft
from pmha.exams.models import ExamSection, SectionKind, SectionStatus
from pmha.exams.sections import (
    SCHEMAS,
    SEX_SPECIFIC,
    SIGN_PERMISSION,
    class_mismatch,
    implied_mental_health_class,
)
from pmha.rules import RuleBook
from pmha.workflow import service as workflow
from pmha.workflow.commands import FactsUpdate, NewResult
from pmha.workflow.models import StepState


class SectionSigned(Conflict):
    code = "exams.section_signed"
    title = "A signed section cannot be changed: amend it"


def _versions(session: Session, applicant_id: uuid.UUID, kind: SectionKind) -> list[ExamSection]:
    return list(
        session.scalars(
            select(ExamSection)
            .where(ExamSection.applicant_id == applicant_id, ExamSection.kind == kind)
            .order_by(ExamSection.number)
        )
    )


def record(
    session: Session, actor: Actor, applicant_id: uuid.UUID
) -> dict[SectionKind, list[ExamSection]]:
    """Every section of the applicant's record, all versions, oldest first (audited read)."""
    applicant = cases.load_applicant(session, actor, applicant_id)
    rows = session.scalars(
        select(ExamSection)
        .where(ExamSection.applicant_id == applicant.id)
        .order_by(ExamSection.kind, ExamSection.number)
    )
    out: dict[SectionKind, list[ExamSection]] = {}
    for row in rows:
        out.setdefault(row.kind, []).append(row)
    audit.record(
        session, actor, "read", "exam_record", applicant.id, site_id=applicant.case.site_id
    )
    return out


def _validate(applicant: Applicant, kind: SectionKind, data: dict[str, Any]) -> dict[str, Any]:
    schema = SCHEMAS[kind]()
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(
            errors=exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        ) from None
    if kind == SectionKind.MEDICAL_HISTORY and applicant.sex == Sex.MALE:
        asked = [name for name in SEX_SPECIFIC if loaded.get(name) is not None]
        if asked:
            raise ValidationFailed(
                "Pregnancy is not asked of a male applicant: leave it out.",
                code="exams.sex_specific_question",
                errors={
                    name: ["Pregnancy is not asked of a male applicant: leave it out."]
                    for name in asked
                },
            )
    stored: dict[str, Any] = schema.dump(loaded)
    return stored


def save_draft(
    session: Session,
    actor: Actor,
    applicant_id: uuid.UUID,
    draft_in: SectionDraft,
) -> ExamSection:
    """Create or update the section's draft (send the draft's version to update it)."""
    kind, version = draft_in.kind, draft_in.version
    applicant = cases.load_applicant(session, actor, applicant_id)
    stored = _validate(applicant, kind, dict(draft_in.content))
    versions = _versions(session, applicant.id, kind)
    draft = versions[-1] if versions and versions[-1].status == SectionStatus.DRAFT else None
    if draft is None and versions:
        raise SectionSigned(f"The {kind.value.replace('_', ' ')} is signed. Amend it to change it.")
    if draft is None:
        draft = ExamSection(
            applicant_id=applicant.id,
            kind=kind,
            number=1,
            status=SectionStatus.DRAFT,
            data=stored,
            author_id=actor.user_id,
        )
        session.add(draft)
        before = None
    else:
        if version != draft.version:
            raise StaleVersion(extra={"current_version": draft.version})
        before = draft.data
        draft.data, draft.author_id = stored, actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "update" if before else "create",
        f"exam_{kind.value}",
        draft.id,
        site_id=applicant.case.site_id,
        before=before,
        after=stored,
    )
    return draft


def amend(
    session: Session, actor: Actor, applicant_id: uuid.UUID, kind: SectionKind, reason: str
) -> ExamSection:
    """Open a new version of a signed section, with the reason for amending it."""
    actor.check(SIGN_PERMISSION[kind])
    applicant = cases.load_applicant(session, actor, applicant_id)
    if len(reason.strip()) < 5:
        raise ValidationFailed(errors={"reason": ["Say why the section is amended."]})
    versions = _versions(session, applicant.id, kind)
    if not versions or versions[-1].status != SectionStatus.SIGNED:
        raise ValidationFailed(errors={"kind": ["Only a signed section can be amended."]})
    signed = versions[-1]
    draft = ExamSection(
        applicant_id=applicant.id,
        kind=kind,
        number=signed.number + 1,
        status=SectionStatus.DRAFT,
        data=dict(signed.data),
        author_id=actor.user_id,
        amends_id=signed.id,
        amendment_reason=reason.strip()[:500],
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        actor,
        "amend",
        f"exam_{kind.value}",
        draft.id,
        site_id=applicant.case.site_id,
        details={"amends": str(signed.id)},
    )
    return draft


def sign(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    kind: SectionKind,
    version: int,
    signature: Signature,
    classification_reason: str | None = None,
) -> ExamSection:
    """Sign the section's draft as `signature` (see accounts.signatures): it becomes immutable
    and its answers feed the plan. A mental health class other than the one the answers imply
    needs the physician's reason [S13b]."""
    actor.check(SIGN_PERMISSION[kind])
    if None not in (signature.user_id, actor.user_id) and signature.user_id != actor.user_id:
        raise Forbidden("Only the signer can sign with their signature.", code="auth.forbidden")
    applicant = cases.load_applicant(session, actor, applicant_id)
    versions = _versions(session, applicant.id, kind)
    if not versions or versions[-1].status != SectionStatus.DRAFT:
        raise NotFound("There is no draft to sign.", code="exams.no_draft")
    draft = versions[-1]
    if version != draft.version:
        raise StaleVersion(extra={"current_version": draft.version})
    if kind == SectionKind.MENTAL_HEALTH:
        _check_class_reason(session, actor, applicant, draft, classification_reason)
    draft.status = SectionStatus.SIGNED
    draft.signed_by, draft.signed_at = signature.user_id or actor.user_id, utcnow()
    draft.signed_by_name = signature.full_name
    draft.signed_by_role = signature.role
    draft.signed_by_registration = signature.registration_number
    for older in versions[:-1]:
        if older.status == SectionStatus.SIGNED:
            older.status = SectionStatus.SUPERSEDED
    session.flush()
    audit.record(
        session,
        actor,
        "sign",
        f"exam_{kind.value}",
        draft.id,
        site_id=applicant.case.site_id,
        details={
            "number": draft.number,
            "role": signature.role,
            "registration": signature.registration_number,
        },
    )
    _feed_rules(session, actor, rules, applicant, kind, draft.data, draft.id)
    return draft


def _check_class_reason(
    session: Session,
    actor: Actor,
    applicant: Applicant,
    draft: ExamSection,
    reason: str | None,
) -> None:
    """Refuse a class that differs from the implied one without a reason; a reason given at
    signing is kept in the section (audited as a change of the draft)."""
    reason = (reason or "").strip()
    mismatch = class_mismatch(draft.data)
    if reason and mismatch:
        before = draft.data
        draft.data = {**draft.data, "classification_reason": reason[:500]}
        audit.record(
            session,
            actor,
            "update",
            "exam_mental_health",
            draft.id,
            site_id=applicant.case.site_id,
            before=before,
            after=draft.data,
        )
    if mismatch and len((draft.data.get("classification_reason") or "").strip()) < 5:
        raise ValidationFailed(
            mismatch,
            code="exams.classification_reason_needed",
            errors={"classification_reason": [mismatch]},
        )


def _feed_rules(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant: Applicant,
    kind: SectionKind,
    data: dict[str, Any],
    section_id: uuid.UUID,
) -> None:
    if kind == SectionKind.MEDICAL_HISTORY:
        facts = workflow.clinical_facts(session, applicant.id)
        symptoms = data.get("tb_symptoms")
        workflow.set_facts(
            session,
            actor,
            rules,
            applicant.id,
            FactsUpdate(
                # the history is taken at the exam: its signing dates the exam, if not yet
                exam_date=facts.exam_date if facts and facts.exam_date else utcnow().date(),
                tb_history=data.get("tb_history"),
                tb_contact=data.get("tb_contact_past_year"),
                tb_symptoms=any(symptoms.values()) if symptoms else None,
                known_hiv=data.get("known_hiv"),
                extrapulmonary_tb=data.get("extrapulmonary_tb"),
                pregnant=data.get("pregnant"),
                gestation_weeks=data.get("gestation_weeks"),
                version=facts.version if facts else None,
            ),
            history=section_id,
        )
    result = _result_of(kind, data)
    if result is None:
        return
    found = workflow.current(session, actor, rules, applicant.id)
    planned = {s.code for s in found.steps if s.state != StepState.NOT_APPLICABLE}
    if kind.value in planned:
        workflow.record_result(
            session,
            actor,
            rules,
            applicant.id,
            NewResult(code=kind.value, value=result, date=utcnow().date()),
            owner=True,
            source=("exam_section", section_id),
        )


def _result_of(kind: SectionKind, data: dict[str, Any]) -> str | None:
    """The workflow result a signed section gives its step (None: it gives none)."""
    if kind == SectionKind.MEDICAL_HISTORY:
        return "completed"
    if kind == SectionKind.PHYSICAL_EXAM:
        return str(data["overall"])
    if kind == SectionKind.MENTAL_HEALTH:
        return "normal" if data["classification"] == "none" else "abnormal"
    if kind == SectionKind.SPECIALIST_REFERRAL and data["status"] == "report_received":
        return "completed"
    return None


def implied_classification(section: ExamSection) -> str | None:
    if section.kind != SectionKind.MENTAL_HEALTH:
        return None
    return implied_mental_health_class(section.data)
