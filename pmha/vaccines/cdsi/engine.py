"""Run the whole CDSi process for one patient: history, series, evaluation, forecast."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pmha.vaccines.cdsi.data import supporting_data
from pmha.vaccines.cdsi.dates import DATE_MAX, DATE_MIN, shift
from pmha.vaccines.cdsi.evaluate import evaluate_series
from pmha.vaccines.cdsi.forecasting import forecast_series, is_priority
from pmha.vaccines.cdsi.group import group_forecast
from pmha.vaccines.cdsi.history import History, organise
from pmha.vaccines.cdsi.model import (
    COMPLETE,
    CONTRAINDICATED,
    IMMUNE,
    NOT_COMPLETE,
    NOT_RECOMMENDED,
    VALID,
    AntigenForecast,
    Dose,
    DoseEvaluation,
    Forecast,
    Observation,
    Patient,
)
from pmha.vaccines.cdsi.schema import Antigen, SupportingData
from pmha.vaccines.cdsi.select import best_across_groups, best_series, is_relevant, why_chosen
from pmha.vaccines.cdsi.state import PatientSeries

_US = {"US", "USA", "U.S.", "U.S.A.", "UNITED STATES"}


def forecast(
    patient: Patient,
    doses: Iterable[Dose],
    observations: Iterable[str | Observation] = (),
    assessment_date: date | None = None,
) -> Forecast:
    """Evaluate every dose and forecast every vaccine group; raise CdsiInputError on bad input.

    `observations`: CDSi observation codes (known on every date) or `Observation`s with begin
    and end dates (risk series and contraindications apply where active on the assessment
    date; intervals from an observation count from its begin date)."""
    data = supporting_data()
    history = organise(
        data, patient, list(doses), list(observations), assessment_date or date.today()
    )
    evaluations: list[DoseEvaluation] = []
    by_antigen: dict[str, AntigenForecast] = {}
    for antigen in data.antigens.values():
        result, pick, others = _antigen(data, history, antigen)
        by_antigen[antigen.name] = result
        evaluations += _evaluations(history, antigen.name, pick, others)
    evaluations.sort(key=lambda e: (e.dose_index, e.antigen))
    groups = {
        name: group_forecast(
            group,
            [by_antigen[a] for a in group.antigens if a in by_antigen],
            _last_given(history, group.antigens),
        )
        for name, group in data.vaccine_groups.items()
    }
    return Forecast(history.assessment_date, tuple(evaluations), groups, history.notes)


def _last_given(history: History, antigens: tuple[str, ...]) -> date | None:
    """The latest date a dose of a vaccine belonging to the group was given (MULTIANTVG-1)."""
    dates = [d.date for a in antigens for d in history.by_antigen.get(a, ())]
    return max(dates, default=None)


def _immune(antigen: Antigen, history: History) -> bool:
    rules, codes = antigen.immunity, history.observations
    if any(code in codes for code in rules.clinical_history_codes):
        return True
    if rules.birth_date is None or history.patient.dob >= rules.birth_date:
        return False
    if any(code in codes for code in rules.exclusion_codes):
        return False
    if rules.birth_country:
        country = (history.patient.birth_country or "").strip().upper()
        wanted = rules.birth_country.strip().upper()
        return country == wanted or (wanted in _US and country in _US)
    return True


def _antigen(
    data: SupportingData, history: History, antigen: Antigen
) -> tuple[AntigenForecast, PatientSeries | None, list[PatientSeries]]:
    dob, today, codes = history.patient.dob, history.assessment_date, history.observations
    immune = _immune(antigen, history)
    contraindicated = any(
        c.observation_code in codes
        and shift(dob, c.begin_age, DATE_MIN) <= today < shift(dob, c.end_age, DATE_MAX)
        for c in antigen.group_contraindications
    )
    excluded = frozenset(
        v.cvx
        for c in antigen.vaccine_contraindications
        if c.observation_code in codes
        for v in c.vaccines
        if shift(dob, v.begin_age, DATE_MIN) <= today < shift(dob, v.end_age, DATE_MAX)
    )
    groups: dict[str, list[PatientSeries]] = {}
    for series in antigen.series:
        if is_relevant(series, history):
            groups.setdefault(series.group, []).append(PatientSeries.start(series, history, data))
    chosen: list[PatientSeries] = []
    completed: set[str] = set()
    for key in sorted(groups, key=lambda g: (len(g), g)):
        for ps in groups[key]:
            ps.completed_groups = frozenset(completed)
            evaluate_series(ps)
            forecast_series(
                ps, immune=immune, contraindicated=contraindicated, excluded_cvx=excluded
            )
        best = best_series(groups[key])
        if best is None:
            continue
        if best.status in (COMPLETE, IMMUNE):
            completed.add(key)
        chosen.append(best)
    if not chosen and groups:
        # No group has a series to forecast from: its doses are still shown, as evaluated
        # by the first series of the first group.
        chosen = [next(iter(groups.values()))[0]]
    pick = best_across_groups(chosen)
    if pick is None:
        status = IMMUNE if immune else NOT_RECOMMENDED
        return (
            AntigenForecast(
                antigen.name,
                None,
                status,
                "No relevant patient series",
                None,
                None,
                None,
                None,
                None,
            ),
            None,
            [],
        )
    reason = pick.reason
    if pick.status == CONTRAINDICATED:
        until = _contraindicated_until(history, antigen)
        reason += "" if until is None else f" until {until.isoformat()}"
    return (
        AntigenForecast(
            antigen=antigen.name,
            series=pick.series.name,
            status=pick.status,
            reason=reason,
            dose_number=pick.forecast_dose_number() if pick.status == NOT_COMPLETE else None,
            earliest=pick.earliest,
            recommended=pick.recommended,
            past_due=pick.past_due,
            latest=pick.latest,
            interval_from_most_recent=pick.interval_from_most_recent,
            vaccine_types=pick.vaccine_types,
            priority=is_priority(pick),
            series_type=pick.series.series_type,
            why=why_chosen(pick, chosen),
        ),
        pick,
        [ps for ps in chosen if ps is not pick],
    )


def _contraindicated_until(history: History, antigen: Antigen) -> date | None:
    """The last day of the contraindicating observations active on the assessment date (a
    pregnancy's end), or None when one of them has no end (a plain code, an open one)."""
    codes = {c.observation_code for c in antigen.group_contraindications} | {
        c.observation_code for c in antigen.vaccine_contraindications
    }
    ends: list[date] = []
    for code in codes & history.observations:
        active = [
            o for o in history.dated if o.code == code and o.active_on(history.assessment_date)
        ]
        if code in history.plain or any(o.end is None for o in active):
            return None
        ends += [o.end for o in active if o.end is not None]
    return max(ends, default=None)


def _evaluations(
    history: History, antigen: str, chosen: PatientSeries | None, others: list[PatientSeries]
) -> list[DoseEvaluation]:
    """Each dose as the chosen series counts it. Once the chosen series is complete, a dose
    it does not count but the prioritised series of another series group does (the
    childhood DTaP doses of a woman who has had her pregnancy's Tdap) is shown as that series
    counts it: both are best patient series of the antigen (Table 8-14), and the dose was not
    given in error. While the chosen risk series is open, its own view stands: MMR given
    before antiretroviral therapy does not count, and the nurse must see that."""
    if chosen is None:
        return [
            DoseEvaluation(
                d.index,
                d.date,
                d.cvx_input,
                antigen,
                "Not evaluated",
                "No relevant patient series",
                None,
                None,
            )
            for d in history.by_antigen.get(antigen, ())
        ]
    found: list[DoseEvaluation] = []
    for position, e in enumerate(chosen.doses):
        series = chosen
        if e.status != VALID and chosen.status == COMPLETE:
            series = next((ps for ps in others if ps.doses[position].status == VALID), chosen)
            e = series.doses[position]
        found.append(
            DoseEvaluation(
                dose_index=e.dose.index,
                date=e.dose.date,
                cvx=e.dose.cvx_input,
                antigen=antigen,
                status=e.status or "Not evaluated",
                reason=e.reason,
                series=series.series.name,
                target_dose=None if e.target is None else e.target + 1,
                reasons=e.reasons or ((e.reason,) if e.reason else ()),
            )
        )
    return found
