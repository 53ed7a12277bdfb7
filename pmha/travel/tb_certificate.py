"""The UK pre-entry TB clearance certificate: issued or not (and why), its dates, whether the
chest X-ray was taken and, if not, the reason in the UK's words ("Child (under 11 years)",
"Pregnant", "Other") [S25], with the sputum results when sputum replaced the X-ray [S25, S26b].

Read from the applicant's current plan (the `tb_certificate` outcome of the rule file) and their
recorded results: nothing here decides anything. Unlike the fitness-to-travel certificate, this
one carries health details: it is for staff who may read exams, and every read is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.errors import Conflict
from pmha.core.pdf import Document
from pmha.rules import Facts, RuleBook
from pmha.rules import vocabulary as vocab
from pmha.rules.model import RuleSet
from pmha.rules.not_done import NotTaken, not_taken
from pmha.workflow import service as workflow
from pmha.workflow.facts import build_facts
from pmha.workflow.models import Step, StepState

# The certificate's "not issued" reasons, in the UK's words [S25] (codes: CERTIFICATE_REASONS).
NOT_ISSUED_WORDS = {
    "confirmed_or_suspected_tb": "Confirmed or suspected TB",
    "testing_postponed": "Testing postponed",
    "withdrawn": "Visa applicant has withdrawn their TB screening",
}
STATUS_WORDS = {
    "issued": "Issued",
    "not_issued": "Not issued",
    "pending": "Not decided yet",
    "none": "No UK TB certificate for this applicant",
}
SPUTUM = ("sputum_smear", "sputum_culture")
_VALUE_WORDS = {
    "normal": "Chest X-ray normal",
    "other_abnormality": "Non-TB abnormality",
    "suggestive_of_tb": "Old or active TB",
}


class NoTbCertificate(Conflict):
    code = "travel.no_tb_certificate"
    title = "There is no UK TB certificate for this applicant"


@dataclass(frozen=True)
class TbCertificate:
    """What the UK TB clearance certificate says about one applicant."""

    destination: str
    name: str
    dob: date
    case: str
    status: str  # issued, not_issued, pending, none
    final: bool = False  # False while the plan still awaits something the outcome reads
    not_issued_reason: str | None = None  # a CERTIFICATE_REASONS code
    issue_date: date | None = None
    valid_until: date | None = None
    expired: bool | None = None
    xray_taken: bool = False
    xray: tuple[str, date] | None = None  # result value, date
    not_taken: NotTaken | None = None
    sputum: tuple[tuple[str, str, date], ...] = ()  # (code, value, date)
    sputum_count: int | None = None
    route: str | None = None  # the alternative route that settled the X-ray, in words
    rules_version: str | None = None
    source: tuple[str, ...] = field(default=())

    @property
    def status_words(self) -> str:
        words = STATUS_WORDS.get(self.status, self.status)
        if self.status == "not_issued" and self.not_issued_reason:
            words += f": {NOT_ISSUED_WORDS.get(self.not_issued_reason, self.not_issued_reason)}"
        return words

    @property
    def reason_words(self) -> str | None:
        """The reason X-ray not taken, as the certificate prints it."""
        found = self.not_taken
        if found is None:
            return None
        if found.destination_words == "Other":  # the UK's "Other" takes further details [S25]
            return f"Other: {found.words}"
        return found.destination_words or found.words


def build(
    ruleset: RuleSet | None,
    facts: Facts,
    plan: dict[str, Any] | None,
    steps: list[Step],
    who: tuple[str, date, str],
) -> TbCertificate:
    """The certificate from the kept plan (as its record keeps it), the facts and the steps."""
    plan = plan or {}
    outcome = next((o for o in plan.get("outcomes", ()) if o["kind"] == "tb_certificate"), None)
    items = {i["code"]: i for i in plan.get("requirements", ())}
    # A value stands while something is still awaited (e.g. "not issued: testing postponed"
    # until the postponed tests are done): shown, with `final` False.
    if outcome is None:
        status = "none"
    elif outcome["values"]:
        status = outcome["values"][0]
    else:
        status = "pending" if outcome["status"] == "pending" else "none"
    xray_step = next((s for s in steps if s.code == "chest_xray"), None)
    step_reason = (
        xray_step.not_done_reason
        if xray_step is not None and xray_step.state == StepState.NOT_DONE
        else None
    )
    xray_item = items.get("chest_xray", {})
    planned = xray_item.get("status")
    xray = facts.results.get("chest_xray")
    sputum = tuple(
        (code, str(facts.results[code].value), facts.results[code].date)
        for code in SPUTUM
        if code in facts.results
    )
    route = None
    if planned == vocab.ALTERNATIVE:
        route = xray_item["reason"]["detail"].removeprefix("settled by the alternative route: ")
    return TbCertificate(
        destination=facts.destination,
        name=who[0],
        dob=who[1],
        case=who[2],
        status=status,
        final=outcome is not None and outcome["status"] == "final",
        not_issued_reason=(outcome or {}).get("reason") if status == "not_issued" else None,
        issue_date=_day((outcome or {}).get("date")) if status == "issued" else None,
        valid_until=_day((outcome or {}).get("valid_until")) if status == "issued" else None,
        expired=(outcome or {}).get("expired") if status == "issued" else None,
        xray_taken=xray is not None,
        xray=(str(xray.value), xray.date) if xray is not None else None,
        not_taken=not_taken(ruleset, facts, "chest_xray", planned, step_reason),
        sputum=sputum,
        sputum_count=_count(ruleset, facts.exam_date) if sputum else None,
        route=route,
        rules_version=plan.get("rules_version"),
        source=tuple((outcome or {}).get("source") or ()),
    )


def _count(ruleset: RuleSet | None, day: date) -> int | None:
    """How many sputum samples the rules in force ask for (three [S25])."""
    rules = ruleset.rules_for("sputum_culture", day) if ruleset else ()
    return next((r.count for r in rules if r.count), None)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def for_workflow(
    session: Session, rules: RuleBook, found: workflow.Workflow, as_of: date
) -> TbCertificate:
    """The certificate of a workflow already read (and audited) by the caller."""
    applicant = found.applicant
    try:
        ruleset: RuleSet | None = rules.for_destination(applicant.case.destination.value)
    except KeyError:
        ruleset = None
    facts, _ = build_facts(session, applicant, found.steps, as_of, ruleset)
    who = (
        f"{applicant.family_name.upper()}, {applicant.given_names}",
        applicant.dob,
        applicant.case.case_number,
    )
    return build(ruleset, facts, found.record.plan, found.steps, who)


def tb_certificate(
    session: Session, actor: Actor, rules: RuleBook, applicant_id: uuid.UUID, as_of: date
) -> TbCertificate:
    """The applicant's UK TB certificate as the current plan gives it (a read of health data:
    audited)."""
    actor.check("exams:read")
    return read_for_workflow(
        session, actor, rules, workflow.view(session, actor, rules, applicant_id), as_of
    )


def read_for_workflow(
    session: Session, actor: Actor, rules: RuleBook, found: workflow.Workflow, as_of: date
) -> TbCertificate:
    """The certificate of a workflow the caller has read (the case page): audited."""
    actor.check("exams:read")
    cert = for_workflow(session, rules, found, as_of)
    audit.record(
        session,
        actor,
        "read",
        "tb_certificate",
        found.applicant.id,
        site_id=found.applicant.case.site_id,
    )
    return cert


def as_dict(cert: TbCertificate) -> dict[str, Any]:
    """The certificate as JSON: codes with their words."""
    why = cert.not_taken
    return {
        "destination": cert.destination,
        "applicant": {"name": cert.name, "dob": cert.dob.isoformat(), "case": cert.case},
        "status": cert.status,
        "status_words": cert.status_words,
        "final": cert.final,
        "not_issued_reason": cert.not_issued_reason,
        "issue_date": _iso(cert.issue_date),
        "valid_until": _iso(cert.valid_until),
        "expired": cert.expired,
        "chest_xray": {
            "taken": cert.xray_taken,
            "result": cert.xray[0] if cert.xray else None,
            "result_words": _VALUE_WORDS.get(cert.xray[0]) if cert.xray else None,
            "date": _iso(cert.xray[1]) if cert.xray else None,
            "reason_not_taken": None
            if why is None
            else {
                "code": why.code,
                "words": cert.reason_words,
                "our_words": why.words,
                "implied": why.implied,
                "source": list(why.source),
            },
        },
        "sputum": [
            {"code": code, "result": value, "date": day.isoformat()}
            for code, value, day in cert.sputum
        ],
        "sputum_samples": cert.sputum_count,
        "alternative_route": cert.route,
        "rules_version": cert.rules_version,
        "source": list(cert.source),
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def render_pdf(cert: TbCertificate, centre: str) -> bytes:
    """The certificate as PDF. Only for the UK, whose pre-entry screening issues one."""
    if cert.destination != "GB":
        raise NoTbCertificate(
            "Only applicants going to the United Kingdom get a UK TB clearance certificate."
        )
    doc = Document("UK pre-entry TB screening certificate", centre)
    doc.fields(
        [
            ("Name", cert.name),
            ("Date of birth", cert.dob.isoformat()),
            ("Case", cert.case),
            ("Certificate", cert.status_words),
            ("Issue date", _iso(cert.issue_date) or "-"),
            ("Valid until", _iso(cert.valid_until) or "-"),
        ],
        label_width=52,
    )
    doc.heading("Chest X-ray")
    rows = [("Chest X-ray taken", "Yes" if cert.xray_taken else "No")]
    if cert.xray:
        rows.append(("X-ray result", f"{_VALUE_WORDS.get(cert.xray[0], cert.xray[0])}"))
        rows.append(("X-ray date", cert.xray[1].isoformat()))
    if cert.reason_words:
        rows.append(("Reason X-ray not taken", cert.reason_words))
    doc.fields(rows, label_width=52)
    if cert.sputum or cert.route:
        doc.heading("Sputum")
        if cert.route:
            doc.paragraph(f"In place of the X-ray: {cert.route}.")
        samples = f" ({cert.sputum_count} samples)" if cert.sputum_count else ""
        doc.fields(
            [
                (f"{'Smear' if c == 'sputum_smear' else 'Culture'}{samples}", f"{v}, {d}")
                for c, v, d in cert.sputum
            ],
            label_width=52,
        )
    doc.paragraph(f"Rules {cert.rules_version or '-'}; sources {', '.join(cert.source) or '-'}.")
    return doc.render()
