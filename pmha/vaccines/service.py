"""What the nurse sees for an applicant: the history, CDSi's forecast, and the destination's
vaccine requirements with their waivers, plus the lots in stock that can be given today.

The plan comes from the workflow (its latest plan record, re-planned when stale); the forecast
from the CDSi engine fed with the applicant's active records and what the clinic knows (pregnancy,
evidence of immunity, the conditions recorded with their dates, as CDSi observations); the
requirements from `requirements.requirements`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmha.cases import service as cases
from pmha.cases.models import Applicant
from pmha.core.auth import Actor
from pmha.core.db import utcnow
from pmha.rules import RuleBook
from pmha.rules.model import VaccinationPolicy
from pmha.rules.plan import PlanItem
from pmha.vaccines import live
from pmha.vaccines import observations as conditions
from pmha.vaccines.cdsi.data import supporting_data
from pmha.vaccines.cdsi.engine import forecast as cdsi_forecast
from pmha.vaccines.cdsi.model import CdsiInputError, Dose, Forecast, Observation, Patient
from pmha.vaccines.models import (
    RecordKind,
    VaccinationRecord,
    VaccinationReview,
    VaccineLot,
    VaccineObservation,
)
from pmha.vaccines.outcome import VaccinationOutcome, vaccination_outcome
from pmha.vaccines.records import records as vaccination_records
from pmha.vaccines.requirements import (
    GIVE_TODAY,
    RequirementsError,
    VaccineRequirement,
    requirements,
)
from pmha.vaccines.seasons import CDSI_GROUPS
from pmha.workflow import service as workflow
from pmha.workflow.models import ClinicalFacts

PREGNANT = "007"  # CDSi observation "Pregnant"
IMMUNOCOMPROMISED = "003"  # CDSi observation "Immunocompromised"
HIV = "186"  # CDSi observation "HIV Infection"
_SEX = {"female": "F", "male": "M"}


@dataclass
class Overview:
    applicant: Applicant
    as_of: date
    records: list[VaccinationRecord]  # every record, those marked deleted included
    destination: str
    programme: str
    rules_version: str | None
    forecast: Forecast | None = None
    requirements: list[VaccineRequirement] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why something could not be computed
    lots: dict[str, list[VaccineLot]] = field(default_factory=dict)  # usable, by CVX
    policy: VaccinationPolicy | None = None  # the destination's [vaccination] policy
    outcome: VaccinationOutcome | None = None  # None while the requirements are not known
    individual_waivers: tuple[str, ...] = ()  # as the latest review recorded them
    # The conditions recorded as CDSi observations with dates (issue 16), removed ones included.
    conditions: list[VaccineObservation] = field(default_factory=list)

    @property
    def active(self) -> list[VaccinationRecord]:
        return [r for r in self.records if r.deleted_at is None]

    @property
    def active_conditions(self) -> list[VaccineObservation]:
        return [o for o in self.conditions if o.deleted_at is None]

    def lots_for(self, vaccine: str) -> list[VaccineLot]:
        """Usable lots of a vaccine that covers this rule-file vaccine's antigen, soonest to
        expire first (MMR and MMRV lots both serve Measles)."""
        antigen = CDSI_GROUPS[vaccine][1] if vaccine in CDSI_GROUPS else None
        found = [
            lot
            for lots in self.lots.values()
            for lot in lots
            if antigen is not None and antigen in live.antigens(lot.cvx)
        ]
        return sorted(found, key=lambda lot: (lot.expiry, lot.lot))

    def give_today(self) -> list[VaccineRequirement]:
        return [r for r in self.requirements if r.status == GIVE_TODAY]

    def still_open(self) -> list[VaccineRequirement]:
        """The requirements not settled (by a dose, immunity, a waiver, or not being required):
        to give, due later, waiting for a fact, or refused (the physician decides). For whoever
        derives the vaccination review from the records: a refusal never settles it [S13f]."""
        return [r for r in self.requirements if not r.settled]

    @property
    def settled(self) -> bool:
        """Every requirement is settled, and they could be computed (no problem, a plan)."""
        return not self.problems and not self.still_open()

    def lot(self, lot_id: uuid.UUID | None) -> VaccineLot | None:
        """A usable lot of the applicant's site, or None."""
        return next((x for lots in self.lots.values() for x in lots if x.id == lot_id), None)

    def dose_number(self, cvx: str) -> int | None:
        """The series dose CDSi forecasts next for what this vaccine covers (the first of its
        vaccine groups that has one)."""
        if self.forecast is None:
            return None
        for vaccine in sorted(_vaccines_of(cvx)):
            group = self.forecast.groups.get(CDSI_GROUPS[vaccine][0])
            if group is not None and group.dose_number is not None:
                return group.dose_number
        return None


@cache
def _observation_by_snomed() -> Mapping[str, str]:
    """SNOMED CT code -> CDSi observation code (evidence of immunity, conditions)."""
    out: dict[str, str] = {}
    for obs in supporting_data().observations.values():
        for code, system, _text in obs.coded_values:
            if system.upper() == "SNOMED":
                out.setdefault(code, obs.code)
    return out


def _doses(active: Iterable[VaccinationRecord]) -> list[Dose]:
    return [
        Dose(r.occurred_on, r.cvx, r.mvx, sub_standard=r.kind is RecordKind.SUBPOTENT)
        for r in active
        if r.kind in (RecordKind.ADMINISTERED, RecordKind.HISTORICAL, RecordKind.SUBPOTENT)
    ]


def _pregnancy(facts: ClinicalFacts | None, dob: date, as_of: date) -> str | Observation | None:
    """CDSi observation 007 "Pregnant", dated from its estimated onset when the gestation is
    known (the weeks as of the exam date, else as of the facts' last change): a pertussis or
    RSV dose in pregnancy counts from the onset. Undated when no date can be worked out, so a
    pregnancy is never lost (its contraindications hold on every date)."""
    if facts is None or not facts.pregnant:
        return None
    if facts.gestation_weeks is None:
        return PREGNANT
    measured = facts.exam_date or (facts.updated_at.date() if facts.updated_at else as_of)
    onset = measured - timedelta(weeks=facts.gestation_weeks)
    if onset < dob or onset > as_of:
        return PREGNANT
    return Observation(PREGNANT, begin=onset)


def _observations(
    active: Iterable[VaccinationRecord], pregnant: str | Observation | None
) -> list[str | Observation]:
    by_snomed = _observation_by_snomed()
    found: list[str | Observation] = [
        by_snomed[r.immunity_disease]
        for r in active
        if r.kind is RecordKind.EVIDENCE_OF_IMMUNITY
        and r.immunity_disease is not None
        and r.immunity_disease in by_snomed
    ]
    if pregnant:
        found.append(pregnant)
    screened = [r for r in active if r.immunosuppressed is not None and r.given_at is not None]
    if screened and max(screened, key=lambda r: r.given_at or r.recorded_at).immunosuppressed:
        found.append(IMMUNOCOMPROMISED)
    return found


def _hiv(facts: ClinicalFacts | None, recorded: Iterable[VaccineObservation]) -> list[str]:
    """CDSi 186 "HIV Infection" from the clinical facts' known HIV infection, undated (it holds
    on every date), unless the infection is recorded as a condition, which gives its dates."""
    if facts is None or not facts.known_hiv:
        return []
    if any(o.code == HIV and o.deleted_at is None for o in recorded):
        return []
    return [HIV]


def _vaccines_of(cvx: str) -> set[str]:
    """The rule-file vaccine names whose CDSi antigen a CVX code covers."""
    antigens = live.antigens(cvx)
    return {name for name, (_group, antigen) in CDSI_GROUPS.items() if antigen in antigens}


def recorded_refusals(active: Iterable[VaccinationRecord]) -> dict[str, date]:
    """The latest day each rule-file vaccine was refused. A refusal is not a waiver, whatever
    its NIP002 reason: a religious exemption (01) is the applicant's reason to refuse, not the
    religious/moral waiver, which USCIS grants on its own form [S13d]."""
    out: dict[str, date] = {}
    for r in active:
        if r.kind is RecordKind.REFUSED:
            for vaccine in _vaccines_of(r.cvx):
                out[vaccine] = max(out.get(vaccine, r.occurred_on), r.occurred_on)
    return out


def given_here(active: Iterable[VaccinationRecord]) -> set[str]:
    """The rule-file vaccines a dose given at this exam covers (the others are documented)."""
    return {
        vaccine
        for r in active
        if r.kind is RecordKind.ADMINISTERED
        for vaccine in _vaccines_of(r.cvx)
    }


def latest_individual_waivers(session: Session, applicant_id: uuid.UUID) -> tuple[str, ...]:
    """The vaccines an individual waiver covers, as the applicant's latest review recorded."""
    found = session.scalar(
        select(VaccinationReview.individual_waivers)
        .where(VaccinationReview.applicant_id == applicant_id)
        .order_by(VaccinationReview.completed_at.desc())
        .limit(1)
    )
    return tuple(found or ())


def usable_lots(session: Session, site_id: uuid.UUID, day: date) -> dict[str, list[VaccineLot]]:
    rows = session.scalars(
        select(VaccineLot)
        .where(
            VaccineLot.site_id == site_id,
            VaccineLot.expiry >= day,
            VaccineLot.quantity_left > 0,
        )
        .order_by(VaccineLot.expiry, VaccineLot.lot)
    )
    out: dict[str, list[VaccineLot]] = {}
    for lot in rows:
        out.setdefault(lot.cvx, []).append(lot)
    return out


def overview(
    session: Session,
    actor: Actor,
    rules: RuleBook,
    applicant_id: uuid.UUID,
    as_of: date | None = None,
    *,
    waivers: Iterable[str] | None = None,
) -> Overview:
    """The applicant's vaccination overview (audited reads of the records and the workflow).
    `waivers`: the vaccines an individual waiver covers (default: as the latest review
    recorded them)."""
    as_of = as_of or utcnow().date()
    applicant = cases.load_applicant(session, actor, applicant_id)
    found = vaccination_records(session, actor, applicant.id)
    flow = workflow.view(session, actor, rules, applicant.id)
    plan = flow.record.plan or {}
    view = Overview(
        applicant=applicant,
        as_of=as_of,
        records=found,
        destination=applicant.case.destination.value,
        programme=applicant.case.programme.value,
        rules_version=flow.record.rules_version,
        lots=usable_lots(session, applicant.case.site_id, as_of),
    )
    facts = workflow.clinical_facts(session, applicant.id)
    view.conditions = conditions.observations(session, actor, applicant.id, removed=True)
    try:
        view.forecast = cdsi_forecast(
            Patient(applicant.dob, _SEX.get(applicant.sex.value, "U")),
            _doses(view.active),
            [
                *_observations(view.active, _pregnancy(facts, applicant.dob, as_of)),
                *conditions.for_forecast(view.conditions),
                *_hiv(facts, view.conditions),
            ],
            as_of,
        )
    except CdsiInputError as exc:
        view.problems.append(f"The forecast could not be computed: {exc}")
        return view
    if not plan:
        problems = flow.record.problems or {}
        view.problems.append(
            "The destination's requirements wait for the plan: "
            + ("; ".join(f"{k}: {', '.join(v)}" for k, v in problems.items()) or "not planned")
        )
        return view
    items = [PlanItem.from_dict(item) for item in plan.get("vaccines", [])]
    ruleset = rules.for_destination(view.destination)
    view.policy = ruleset.vaccination
    route = view.policy.individual_waiver if view.policy is not None else None
    if route is None:
        view.individual_waivers = ()
    elif waivers is None:
        view.individual_waivers = latest_individual_waivers(session, applicant.id)
    else:
        view.individual_waivers = tuple(waivers)
    try:
        exam_country = applicant.case.site.country
        view.requirements = requirements(
            items,
            view.forecast,
            exam_country,
            as_of,
            waivers={vaccine: route for vaccine in view.individual_waivers if route},
            refusals=recorded_refusals(view.active),
            season=ruleset.flu_season(exam_country),
            past_forecast_age=ruleset.vaccination.past_forecast_age if ruleset.vaccination else (),
        )
    except RequirementsError as exc:
        view.problems.append(f"The requirements could not be computed: {exc}")
        return view
    view.outcome = vaccination_outcome(
        view.requirements, view.policy, given=given_here(view.active)
    )
    return view
