"""Gather the patient data and organise the immunization history (spec chapters 4 and 5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from pmha.vaccines.cdsi.data import normalise_cvx, normalise_observation
from pmha.vaccines.cdsi.dates import DATE_MAX, shift
from pmha.vaccines.cdsi.model import GENDERS, CdsiInputError, Dose, Patient
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
    observations: frozenset[str]
    doses: tuple[Administered, ...]  # every dose, in date order
    by_antigen: dict[str, tuple[Administered, ...]]
    notes: tuple[str, ...]


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
    observations: Iterable[str],
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
    for raw in observations:
        code = normalise_observation(str(raw))
        if code not in data.observations:
            problems.append(f"observation {raw!r}: unknown observation code")
        codes.add(code)
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
    )
