"""What each vaccine the destination requires means for this applicant today (pure).

The rule file says which vaccines the destination requires (`Plan.vaccines`); the CDSi forecast
says what the applicant's history and age allow. For a US immigrant one valid dose of each
age-appropriate vaccine meets the requirement; the rest of the series may be waived [S13a]. The
blanket waivers ("not medically appropriate") are those of DOMAIN BRIEF §1.5 [S13a, S13d, S13e]:
not age appropriate, contraindicated (e.g. pregnancy and live vaccines), insufficient interval,
not routinely available in the exam country, and not flu season (the exam country's season,
[S23a, S23b]). A waiver granted elsewhere (religious or moral conviction, [S13d]) is passed by
the caller.

A refusal is not a waiver: "refusal of a required vaccine without waiver -> Class A" [S13f]. A
refused required vaccine is `refused` here; what it means for the review and for clearance is the
destination's `[vaccination]` policy, applied by pmha.vaccines.outcome.

A vaccine the destination lists whose rule is in force, but whose condition the applicant does not
meet while other vaccines are required (the US age windows), is waived `not_age_appropriate`
(`contraindicated` when CDSi says so, e.g. MMR in pregnancy in Australia), not "not required".
Influenza follows the rule file's season of the exam country only: in season a dose given since
the season began settles it, otherwise it is to give today, whatever CDSi's seasonal data says
(its data ends with its own season); out of season it is waived `not_flu_season`.

Statuses:
- `done`: a valid dose, or the series is complete or the applicant immune;
- `give_today`: required, no valid dose yet, and a dose may be given today;
- `due_now`: required, no valid dose yet, but CDSi's earliest date is after today (for example
  another live vaccine was given less than 28 days ago): see `earliest`;
- `waived`: `waiver` names the reason, from pmha.rules.vocabulary.WAIVER_REASONS;
- `refused`: required, no valid dose, and the applicant refused it (`refused_on`): never
  settled by the refusal itself (pmha.vaccines.outcome decides what it leads to);
- `not_required`: the rule file does not require it for this applicant (a US refugee);
- `conditional`: the rule file waits for a fact not known yet (e.g. pregnancy).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from pmha.rules import vocabulary as vocab
from pmha.rules.model import FluSeason
from pmha.rules.plan import PlanItem, Reason
from pmha.vaccines.cdsi.model import (
    AGED_OUT,
    COMPLETE,
    CONTRAINDICATED,
    IMMUNE,
    NOT_RECOMMENDED,
    VALID,
    AntigenForecast,
    Forecast,
    GroupForecast,
)
from pmha.vaccines.seasons import CDSI_GROUPS, NOT_ROUTINELY_AVAILABLE

DONE = "done"
DUE_NOW = "due_now"
GIVE_TODAY = "give_today"
WAIVED = "waived"
NOT_REQUIRED = "not_required"
CONDITIONAL = "conditional"
REFUSED = "refused"
STATUSES = (DONE, DUE_NOW, GIVE_TODAY, WAIVED, NOT_REQUIRED, CONDITIONAL, REFUSED)
# What settles a requirement; anything else (a refusal included) leaves it open.
SETTLED = frozenset({DONE, WAIVED, NOT_REQUIRED})

INFLUENZA = "Influenza"
# The engine's detail for a vaccine whose rule is in force but whose condition is not met
# (pmha.rules.model: the node's idle item).
CONDITION_NOT_MET = "condition not met"
_NO_WAIVERS: Mapping[str, str] = MappingProxyType({})
_NO_REFUSALS: Mapping[str, date] = MappingProxyType({})
# A refusal is recorded as a refusal, never passed as a waiver, and an authority's waiver of a
# test is not a vaccine's: only vocab.VACCINE_WAIVER_REASONS waive a vaccine.


class RequirementsError(ValueError):
    """A recorded waiver that is not in the vocabulary (or is a refusal), or a vaccine with no
    CDSi group."""


@dataclass(frozen=True, slots=True)
class VaccineRequirement:
    vaccine: str  # the rule file's name (pmha.rules.vocabulary.VACCINES)
    status: str  # one of STATUSES
    reason: Reason  # the rule that decided and its sources, and why
    waiver: str | None = None  # a WAIVER_REASONS value when status is waived
    cdsi_group: str | None = None
    cdsi_status: str | None = None
    cdsi_reason: str | None = None
    valid_doses: int = 0
    dose_number: int | None = None  # the series dose CDSi forecasts next
    earliest: date | None = None
    recommended: date | None = None
    past_due: date | None = None
    refused_on: date | None = None  # the applicant refused it on this day (status `refused`)

    @property
    def settled(self) -> bool:
        return self.status in SETTLED


def requirements(
    plan_vaccines: Sequence[PlanItem],
    forecast: Forecast,
    exam_country: str,
    as_of: date,
    *,
    waivers: Mapping[str, str] = _NO_WAIVERS,
    refusals: Mapping[str, date] = _NO_REFUSALS,
    not_routinely_available: Collection[str] | None = None,
    season: FluSeason | None = None,
    past_forecast_age: Collection[str] = (),
) -> list[VaccineRequirement]:
    """One VaccineRequirement per vaccine of the plan, in the plan's order.

    `waivers` maps a vaccine to a waiver granted elsewhere (`religious_or_moral_waiver`); a
    refusal is not one. `refusals` maps a vaccine to the day the applicant refused it.
    `not_routinely_available` defaults to the exam country's list in
    pmha.vaccines.seasons. `season` is the exam country's influenza season from the rule file
    (RuleSet.flu_season); None when the file sets none, and then influenza is never waived for it.
    `past_forecast_age` names the vaccines the destination requires past the routine schedule's
    maximum age (VaccinationPolicy.past_forecast_age): given there, never waived as not age
    appropriate.
    """
    for vaccine, waiver in waivers.items():
        if waiver not in vocab.VACCINE_WAIVER_REASONS:
            raise RequirementsError(f"waiver for {vaccine}: unknown reason {waiver!r}")
    unavailable = (
        NOT_ROUTINELY_AVAILABLE.get(exam_country.upper(), frozenset())
        if not_routinely_available is None
        else not_routinely_available
    )
    # A vaccine programme is in force for this applicant when the rule file requires any vaccine:
    # the influenza rule differs from the others only by its season (see _influenza).
    programme_in_force = any(item.status == vocab.REQUIRED for item in plan_vaccines)
    out: list[VaccineRequirement] = []
    for item in plan_vaccines:
        out.append(
            _one(
                item,
                forecast,
                as_of,
                waivers,
                refusals,
                unavailable,
                season,
                programme_in_force,
                past_age=item.code in past_forecast_age,
            )
        )
    return out


def _one(
    item: PlanItem,
    forecast: Forecast,
    as_of: date,
    waivers: Mapping[str, str],
    refusals: Mapping[str, date],
    unavailable: Collection[str],
    season: FluSeason | None,
    programme_in_force: bool,
    *,
    past_age: bool = False,
) -> VaccineRequirement:
    vaccine = item.code
    if vaccine not in CDSI_GROUPS:
        raise RequirementsError(f"{vaccine}: no CDSi vaccine group (pmha.vaccines.seasons)")
    group_name, antigen_name = CDSI_GROUPS[vaccine]
    group = forecast.groups.get(group_name)
    antigen = _antigen(group, antigen_name)
    since = (
        season_start(season, as_of)
        if vaccine == INFLUENZA and season is not None and season.contains(as_of)
        else date.min
    )
    valid = sum(
        1
        for e in forecast.evaluations
        if e.antigen == antigen_name and e.status == VALID and e.date >= since
    )
    base = _Base(vaccine, group_name, group, antigen, valid)
    rule = item.reason

    if vaccine == INFLUENZA and item.reason.rule is not None and season is not None:
        flu = _influenza(item, base, as_of, season, programme_in_force)
        if flu is not None:
            return flu
        if item.status == vocab.REQUIRED:
            return _influenza_in_season(item, base, season, since, waivers, refusals)
    if item.status == vocab.NOT_REQUIRED:
        if programme_in_force and rule.rule is not None and rule.detail == CONDITION_NOT_MET:
            if base.cdsi_status == CONTRAINDICATED:
                return base.make(
                    WAIVED,
                    _why(rule, f"CDSi: {base.cdsi_reason}"),
                    waiver="contraindicated",
                )
            return base.make(
                WAIVED,
                _why(rule, "outside the age range the destination requires it for"),
                waiver="not_age_appropriate",
            )
        return base.make(NOT_REQUIRED, rule)
    if item.status == vocab.CONDITIONAL:
        return base.make(CONDITIONAL, rule)
    if item.status == vocab.WAIVED:
        return base.make(WAIVED, rule, waiver=item.reason.detail.removeprefix("waived: "))

    # Required by the rule file: what the applicant's record and the CDSi forecast say.
    status, detail = base.cdsi_status, base.cdsi_reason or "no CDSi forecast"
    if status == IMMUNE or (status == COMPLETE and not base.seasonal_stale):
        return base.make(DONE, _why(rule, f"CDSi: {detail}"))
    if valid:
        if base.earliest is not None and base.earliest > as_of:
            return base.make(
                WAIVED,
                _why(
                    rule,
                    f"one valid dose meets the requirement; next dose not before "
                    f"{base.earliest.isoformat()} (CDSi: {detail})",
                ),
                waiver="insufficient_interval",
            )
        return base.make(DONE, _why(rule, f"{valid} valid dose(s) (CDSi: {detail})"))
    recorded = waivers.get(vaccine)
    if recorded is not None:
        words = vocab.WAIVER_WORDS.get(recorded, recorded.replace("_", " ")).lower()
        return base.make(WAIVED, _why(rule, f"recorded: {words}"), waiver=recorded)
    refused_on = refusals.get(vaccine)
    if refused_on is not None:
        # Before the blanket waivers: when unsure, hold and say why [S13f].
        return base.make(
            REFUSED,
            _why(
                rule,
                f"refused by the applicant on {refused_on.isoformat()} (not a waiver)",
            ),
            refused_on=refused_on,
        )
    if status == CONTRAINDICATED:
        return base.make(WAIVED, _why(rule, f"CDSi: {detail}"), waiver="contraindicated")
    if status in (AGED_OUT, NOT_RECOMMENDED) and not base.seasonal_stale:
        if past_age:  # the destination requires it at this age: one dose, not a waiver
            return base.make(
                GIVE_TODAY,
                _why(
                    rule,
                    "no valid dose; the destination requires one at this age, past the end of "
                    f"the routine schedule (CDSi: {detail})",
                ),
            )
        return base.make(WAIVED, _why(rule, f"CDSi: {detail}"), waiver="not_age_appropriate")
    if vaccine in unavailable:
        return base.make(
            WAIVED,
            _why(rule, "not routinely available in the exam country (CDC-declared)"),
            waiver="not_routinely_available",
        )
    if base.earliest is not None and base.earliest > as_of:
        return base.make(
            DUE_NOW, _why(rule, f"not before {base.earliest.isoformat()} (CDSi: {detail})")
        )
    return base.make(GIVE_TODAY, _why(rule, f"no valid dose (CDSi: {detail})"))


def _influenza(
    item: PlanItem, base: _Base, as_of: date, season: FluSeason, programme_in_force: bool
) -> VaccineRequirement | None:
    """Out of the exam country's season, influenza is waived wherever vaccines are required at
    all; in season the rule file's status stands (None: carry on as for any vaccine)."""
    if season.contains(as_of):
        return None
    if item.status == vocab.REQUIRED or (item.status == vocab.NOT_REQUIRED and programme_in_force):
        why = Reason(
            item.reason.rule,
            tuple(dict.fromkeys((*item.reason.source, *season.source))),
            f"outside the {season.name} influenza season "
            f"({season.start[1]}/{season.start[0]} - {season.end[1]}/{season.end[0]})",
        )
        return base.make(WAIVED, why, waiver="not_flu_season")
    return None


def season_start(season: FluSeason, day: date) -> date:
    """The first day of the season that contains `day` (it may have begun the year before)."""
    start = date(day.year, *season.start)
    return start if start <= day else date(day.year - 1, *season.start)


def _influenza_in_season(
    item: PlanItem,
    base: _Base,
    season: FluSeason,
    since: date,
    waivers: Mapping[str, str],
    refusals: Mapping[str, date],
) -> VaccineRequirement:
    """In the rule file's season: a dose given since the season began settles it; otherwise it
    is to give today. CDSi's seasonal dates do not decide here (its data ends with its season)."""
    source = tuple(dict.fromkeys((*item.reason.source, *season.source)))
    if base.valid:
        why = Reason(item.reason.rule, source, f"a dose this season (since {since.isoformat()})")
        return base.make(DONE, why)
    if base.cdsi_status == IMMUNE:
        return base.make(DONE, Reason(item.reason.rule, source, f"CDSi: {base.cdsi_reason}"))
    recorded = waivers.get(INFLUENZA)
    if recorded is not None:
        words = vocab.WAIVER_WORDS.get(recorded, recorded.replace("_", " ")).lower()
        why = Reason(item.reason.rule, source, f"recorded: {words}")
        return base.make(WAIVED, why, waiver=recorded)
    refused_on = refusals.get(INFLUENZA)
    if refused_on is not None:
        why = Reason(item.reason.rule, source, f"refused by the applicant on {refused_on}")
        return base.make(REFUSED, why, refused_on=refused_on)
    if base.cdsi_status == CONTRAINDICATED:
        why = Reason(item.reason.rule, source, f"CDSi: {base.cdsi_reason}")
        return base.make(WAIVED, why, waiver="contraindicated")
    detail = f"in the {season.name} influenza season and no dose since {since.isoformat()}"
    return base.make(GIVE_TODAY, Reason(item.reason.rule, source, detail))


@dataclass(frozen=True, slots=True)
class _Base:
    vaccine: str
    group_name: str
    group: GroupForecast | None
    antigen: AntigenForecast | None
    valid: int

    @property
    def _source(self) -> AntigenForecast | GroupForecast | None:
        return self.antigen if self.antigen is not None else self.group

    @property
    def cdsi_status(self) -> str | None:
        found = self._source
        return None if found is None else found.status

    @property
    def cdsi_reason(self) -> str | None:
        found = self._source
        return None if found is None else found.reason

    @property
    def earliest(self) -> date | None:
        found = self._source
        return None if found is None else found.earliest

    @property
    def seasonal_stale(self) -> bool:
        """CDSi's influenza data ends with its season: past it, CDSi says nothing about today."""
        return "seasonal" in (self.cdsi_reason or "").lower()

    def make(
        self,
        status: str,
        reason: Reason,
        waiver: str | None = None,
        refused_on: date | None = None,
    ) -> VaccineRequirement:
        found = self._source
        return VaccineRequirement(
            vaccine=self.vaccine,
            status=status,
            reason=reason,
            waiver=waiver,
            cdsi_group=self.group_name if self.group is not None else None,
            cdsi_status=self.cdsi_status,
            cdsi_reason=self.cdsi_reason,
            valid_doses=self.valid,
            dose_number=None if found is None else found.dose_number,
            earliest=None if found is None else found.earliest,
            recommended=None if found is None else found.recommended,
            past_due=None if found is None else found.past_due,
            refused_on=refused_on,
        )


def _antigen(group: GroupForecast | None, name: str) -> AntigenForecast | None:
    if group is None:
        return None
    return next((a for a in group.antigens if a.antigen == name), None)


def _why(rule: Reason, detail: str) -> Reason:
    return Reason(rule.rule, rule.source, detail)
