"""TB classification per destination: what the rule file derived from the clinical record (US
class, UK certificate, Canadian surveillance, Australian undertaking or deferral), with the trace
of rules that fired and the results they read; and the physician's confirmation of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.accounts.signatures import Signature
from pmha.core import audit
from pmha.core.auth import Actor
from pmha.core.errors import Conflict
from pmha.rules import RuleBook
from pmha.tb_dot.models import TbClassification
from pmha.workflow import service as workflow
from pmha.workflow.facts import latest_results
from pmha.workflow.labels import awaited

TB_KINDS = ("tb_class", "tb_certificate", "medical_surveillance", "tb_undertaking")
TB_RESULTS = ("chest_xray", "igra", "tst", "sputum_smear", "sputum_culture", "tb_naat", "dst",
              "tb_treatment_dot")  # fmt: skip


@dataclass
class Classification:
    applicant_id: uuid.UUID
    site_id: uuid.UUID
    destination: str
    rules_version: str | None
    plan_id: uuid.UUID
    outcomes: dict[str, dict[str, Any]]  # kind -> values, status, trace (rule, source, note)
    results: dict[str, dict[str, Any]]  # the TB results the rules read
    clearance: str
    confirmed: TbClassification | None

    @property
    def needs_confirmation(self) -> bool:
        """True when nothing is confirmed, or the rules now say something else."""
        return self.confirmed is None or self.confirmed.outcomes != self.outcomes

    @property
    def underived(self) -> list[str]:
        """Outcome kinds still pending with no value: nothing to confirm yet for them (Class A
        stays pending with its value while the treatment it awaits goes on)."""
        return [k for k, o in self.outcomes.items() if o["status"] == "pending" and not o["values"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "rules_version": self.rules_version,
            "outcomes": self.outcomes,
            "results": self.results,
            "clearance": self.clearance,
            "confirmed": None
            if self.confirmed is None
            else {
                "outcomes": self.confirmed.outcomes,
                "confirmed_at": self.confirmed.confirmed_at.isoformat(),
                "rules_version": self.confirmed.rules_version,
            },
            "needs_confirmation": self.needs_confirmation,
        }


def _rule_notes(rules: RuleBook, destination: str) -> dict[str, tuple[list[str], str | None]]:
    try:
        ruleset = rules.for_destination(destination)
    except KeyError:
        return {}
    notes: dict[str, tuple[list[str], str | None]] = {}
    for node in ruleset.nodes:
        for rule in node.outcomes:
            notes[rule.cite.id] = (list(rule.cite.source), rule.cite.note)
    return notes


def classify(
    session: Session, actor: Actor, rules: RuleBook, applicant_id: uuid.UUID
) -> Classification:
    """The applicant's TB classification as the destination's rules derive it now (audited
    through the workflow read), and the latest confirmation."""
    actor.check("tb_dot:read")
    found = workflow.view(session, actor, rules, applicant_id)
    destination = found.applicant.case.destination.value
    notes = _rule_notes(rules, destination)
    outcomes: dict[str, dict[str, Any]] = {}
    for item in (found.record.plan or {}).get("outcomes", []):
        if item["kind"] not in TB_KINDS:
            continue
        outcomes[item["kind"]] = {
            "values": item["values"],
            "status": item["status"],
            "reason": item.get("reason"),
            "awaiting": item.get("awaiting", []),
            "report_within_days": item.get("report_within_days"),
            "report_tier": item.get("report_tier"),
            "report_awaiting": item.get("report_awaiting", []),
            "trace": [
                {
                    "rule": rule,
                    "source": notes.get(rule, ([], None))[0],
                    "note": notes.get(rule, ([], None))[1],
                }
                for rule in item["trace"]
            ],
        }
    results = {
        code: {"value": row.value, "date": row.result_date.isoformat()}
        for code, row in latest_results(session, found.applicant.id).items()
        if code in TB_RESULTS
    }
    confirmed = session.scalar(
        select(TbClassification)
        .where(TbClassification.applicant_id == found.applicant.id)
        .order_by(TbClassification.confirmed_at.desc())
        .limit(1)
    )
    return Classification(
        found.applicant.id,
        found.applicant.case.site_id,
        destination,
        found.record.rules_version,
        found.record.id,
        outcomes,
        results,
        found.decision.status,
        confirmed,
    )


def confirm(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    note: str | None = None,
    signature: Signature | None = None,
) -> Classification:
    """The physician confirms the classification shown (kept with its rule version).

    Every HTTP edge passes the physician's confirmed signature (password again); None is for
    the seeded demo and tests only."""
    actor.check("exams:sign")
    found = classify(session, actor, rules, applicant_id)
    if not found.outcomes:
        raise Conflict(
            "The destination's rules derive no TB classification yet.",
            code="tb_dot.nothing_to_confirm",
        )
    pending = found.underived
    if pending:
        waiting = sorted({w for kind in pending for w in found.outcomes[kind]["awaiting"]})
        raise Conflict(
            f"The classification is not final yet: it waits for {awaited(waiting)}. "
            "Confirm it once they are in.",
            code="tb_dot.classification_pending",
        )
    row = TbClassification(
        applicant_id=found.applicant_id,
        destination=found.destination,
        outcomes=found.outcomes,
        rules_version=found.rules_version,
        plan_id=found.plan_id,
        note=note,
        confirmed_by=actor.user_id,
        confirmed_by_name=signature.line if signature else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "confirm",
        "tb_classification",
        row.id,
        site_id=found.site_id,
        details={"rules_version": found.rules_version},
    )
    found.confirmed = row
    return found
