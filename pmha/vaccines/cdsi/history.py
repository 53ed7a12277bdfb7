"""Gather the patient data and organise the immunization history (spec chapters 4 and 5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from pmha.vaccines.cdsi.data import normalise_cvx, normalise_observation
from pmha.vaccines.cdsi.dates import DATE_MAX, shift
from pmha.vaccines.cdsi.model import GENDERS, CdsiInputError, Dose, Observation, Patient
from pmha.vaccines.cdsi.schema import SupportingData

# CVX codes that name no vaccine: the specification leaves them out of the history.
NON_VACCINE_CVX = {"998": "no vaccine administered", "999": "unknown vaccine or immune globulin"}


@dataclass(frozen=True, slots=True)
class Administered:
    """One dose in the patient's history, validated and with its codes normalised."""

    index: int
    date: date
    cvx: str
    cvx_input: str
    mvx: str
    sub_standard: bool


@dataclass(frozen=True, slots=True)
class History:
    patient: Patient
    gender: str  # Female, Male or Unknown
    assessment_date: date
    observations: frozenset[str]  # the codes active on the assessment date
    doses: tuple[Administered, ...]  # every dose, in date order
    by_antigen: dict[str, tuple[Administered, ...]]
    notes: tuple[str, ...]
    # Observations with a begin or end date, codes normalised (intervals from an observation,
    # the end of a contraindication); the codes given without dates.
    dated: tuple[Observation, ...] = ()
    plain: frozenset[str] = frozenset()

    def observed_on(self, code: str, *, active: bool = False) -> date | None:
        """The begin date of the latest observation of `code` begun by the assessment date
        (`active`: only one still active on it, e.g. the current pregnancy, not a past one)."""
        today, found = self.assessment_date, None
        for obs in self.dated:
            if obs.code != code or obs.begin is None or obs.begin > today:
                continue
            if active and obs.end is not None and obs.end < today:
                continue
            found = obs.begin if found is None else max(found, obs.begin)
        return found


# The codes known to a supporting data set, worked out once per set (it is immutable).
_KNOWN_CVX: dict[int, tuple[SupportingData, frozenset[str]]] = {}


def _known_cvx(data: SupportingData) -> frozenset[str]:
    cached = _KNOWN_CVX.get(id(data))
    if cached is not None and cached[0] is data:
        return cached[1]
    known = set(data.cvx_codes) | set(NON_VACCINE_CVX)
    for conflicts in data.live_virus_conflicts.values():
        known.update(c.previous_cvx for c in conflicts)
        known.update(c.current_cvx for c in conflicts)
    _KNOWN_CVX[id(data)] = (data, frozenset(known))
    return _KNOWN_CVX[id(data)][1]


def organise(
    data: SupportingData,
    patient: Patient,
    doses: Iterable[Dose],
    observations: Iterable[str | Observation],
    assessment_date: date,
) -> History:
    """Validate the input and map every dose to the antigens its CVX code covers."""
    problems: list[str] = []
    gender = GENDERS.get(patient.gender.strip().upper()[:1], "") if patient.gender else "Unknown"
    if not gender:
        problems.append(f"patient gender {patient.gender!r}: use F, M or U")
    if patient.dob > assessment_date:
        problems.append(f"date of birth {patient.dob} is after the assessment date")
    codes: set[str] = set()
    dated: list[Observation] = []
    plain: set[str] = set()
    for raw in observations:
        # A plain code is known on every date; a dated observation where it is active.
        observation = _dated(raw, patient.dob, problems) if isinstance(raw, Observation) else None
        code = normalise_observation(str(raw)) if observation is None else observation.code
        if code not in data.observations:
            problems.append(f"observation {_label(raw)}: unknown observation code")
        if observation is None or observation.active_on(assessment_date):
            codes.add(code)
        if observation is None or (observation.begin is None and observation.end is None):
            plain.add(code)
        else:
            dated.append(observation)
    known = _known_cvx(data)
    valid: list[Administered] = []
    notes: list[str] = []
    for index, dose in enumerate(doses):
        label = f"dose {index + 1} (CVX {dose.cvx!r}, {dose.date})"
        cvx = normalise_cvx(str(dose.cvx or ""))
        bad = False
        if not cvx or cvx not in known:
            problems.append(f"{label}: unknown CVX code")
            bad = True
        if dose.date is None:
            problems.append(f"{label}: no date given")
            continue
        if dose.date < patient.dob:
            problems.append(f"{label}: given before the date of birth")
            bad = True
        if dose.date > assessment_date:
            problems.append(f"{label}: given after the assessment date")
            bad = True
        if bad:
            continue
        if cvx in NON_VACCINE_CVX:
            notes.append(f"{label}: {NON_VACCINE_CVX[cvx]}, not evaluated")
            continue
        mvx = (dose.mvx or "").strip().upper()
        valid.append(Administered(index, dose.date, cvx, str(dose.cvx), mvx, dose.sub_standard))
    if problems:
        raise CdsiInputError(problems)
    valid.sort(key=lambda d: (d.date, d.index))
    by_antigen: dict[str, list[Administered]] = {name: [] for name in data.antigens}
    for given in valid:
        mapped = data.cvx_codes.get(given.cvx)
        if mapped is None:
            notes.append(f"dose {given.index + 1} (CVX {given.cvx_input}): no CDSi antigen")
            continue
        for link in mapped.associations:
            begin = shift(patient.dob, link.begin_age, patient.dob)
            end = shift(patient.dob, link.end_age, DATE_MAX)
            if link.antigen in by_antigen and begin <= given.date < end:
                by_antigen[link.antigen].append(given)
    return History(
        patient=patient,
        gender=gender,
        assessment_date=assessment_date,
        observations=frozenset(codes),
        doses=tuple(valid),
        by_antigen={k: tuple(v) for k, v in by_antigen.items()},
        notes=tuple(notes),
        dated=tuple(dated),
        plain=frozenset(plain),
    )


def _label(raw: object) -> str:
    return repr(raw.code) if isinstance(raw, Observation) else repr(raw)


def _dated(raw: Observation, dob: date, problems: list[str]) -> Observation:
    """The observation with its code normalised; its dates checked (each problem named)."""
    label = f"observation {raw.code!r}"
    # A date and time is read as its day.
    begin, end = (d.date() if isinstance(d, datetime) else d for d in (raw.begin, raw.end))
    for name, value in (("begin", begin), ("end", end)):
        if value is not None and not isinstance(value, date):
            problems.append(f"{label}: {name} {value!r} is not a date")
            begin, end = (None, end) if name == "begin" else (begin, None)
    if begin is not None and begin < dob:
        problems.append(f"{label}: begins ({begin}) before the date of birth")
    if begin is not None and end is not None and end < begin:
        problems.append(f"{label}: ends ({end}) before it begins ({begin})")
    return Observation(normalise_observation(str(raw.code)), begin, end)
