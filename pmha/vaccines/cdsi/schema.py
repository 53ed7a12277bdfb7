"""Typed, immutable view of CDC's CDSi supporting data (antigen and schedule XML)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pmha.vaccines.cdsi.dates import Offset


@dataclass(frozen=True, slots=True)
class AgeRule:
    abs_min_age: Offset | None
    min_age: Offset | None
    earliest_rec_age: Offset | None
    latest_rec_age: Offset | None
    max_age: Offset | None
    effective: date | None
    cessation: date | None


@dataclass(frozen=True, slots=True)
class IntervalRule:
    """A preferable (or allowable) interval from a reference dose or observation."""

    from_previous: bool
    from_target_dose: int | None
    from_most_recent: tuple[str, ...]
    from_observation: str | None
    abs_min: Offset | None
    min: Offset | None
    earliest_rec: Offset | None
    latest_rec: Offset | None
    override: bool
    effective: date | None
    cessation: date | None


@dataclass(frozen=True, slots=True)
class VaccineRule:
    """A preferable, allowable or contraindicated vaccine type, by CVX and age range."""

    vaccine_type: str
    cvx: str
    begin_age: Offset | None
    end_age: Offset | None
    trade_name: str = ""
    mvx: str = ""
    volume: str = ""
    forecast: bool = False


@dataclass(frozen=True, slots=True)
class SkipCondition:
    condition_type: str  # lower case: "age", "interval", "vaccine count by age", ...
    start_date: date | None
    end_date: date | None
    begin_age: Offset | None
    end_age: Offset | None
    interval: Offset | None
    dose_count: int
    dose_type: str  # "valid" or "total"
    dose_count_logic: str  # "greater than", "equal to", "less than"
    vaccine_types: tuple[str, ...]
    series_groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SkipSet:
    description: str
    effective: date | None
    cessation: date | None
    all_conditions: bool  # condition logic AND (else OR)
    conditions: tuple[SkipCondition, ...]


@dataclass(frozen=True, slots=True)
class ConditionalSkip:
    context: str  # "both", "evaluation", "forecast"
    all_sets: bool  # set logic AND (else OR)
    sets: tuple[SkipSet, ...]


@dataclass(frozen=True, slots=True)
class SeriesDose:
    dose_number: int
    ages: tuple[AgeRule, ...]
    intervals: tuple[IntervalRule, ...]
    allowable_intervals: tuple[IntervalRule, ...]
    preferable_vaccines: tuple[VaccineRule, ...]
    allowable_vaccines: tuple[VaccineRule, ...]
    inadvertent_cvx: frozenset[str]
    conditional_skips: tuple[ConditionalSkip, ...]
    recurring: bool
    season_start: date | None
    season_end: date | None


@dataclass(frozen=True, slots=True)
class Indication:
    observation_code: str
    description: str
    begin_age: Offset | None
    end_age: Offset | None
    guidance: str


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    target_disease: str
    vaccine_group: str
    series_type: str  # "Standard", "Risk", "Evaluation Only"
    equivalent_series_groups: tuple[str, ...]
    required_genders: tuple[str, ...]
    default: bool
    product_path: bool
    group_name: str
    group: str
    priority: str
    preference: int
    min_age_to_start: Offset | None
    max_age_to_start: Offset | None
    indications: tuple[Indication, ...]
    doses: tuple[SeriesDose, ...]


@dataclass(frozen=True, slots=True)
class GroupContraindication:
    observation_code: str
    title: str
    begin_age: Offset | None
    end_age: Offset | None


@dataclass(frozen=True, slots=True)
class VaccineContraindication:
    observation_code: str
    title: str
    vaccines: tuple[VaccineRule, ...]


@dataclass(frozen=True, slots=True)
class Immunity:
    clinical_history_codes: tuple[str, ...]
    birth_date: date | None
    birth_country: str
    exclusion_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Antigen:
    name: str
    immunity: Immunity
    group_contraindications: tuple[GroupContraindication, ...]
    vaccine_contraindications: tuple[VaccineContraindication, ...]
    series: tuple[Series, ...]


@dataclass(frozen=True, slots=True)
class LiveVirusConflict:
    previous_cvx: str
    current_cvx: str
    begin: Offset
    min_end: Offset
    end: Offset


@dataclass(frozen=True, slots=True)
class VaccineGroup:
    name: str
    administer_full_group: bool
    antigens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CvxAssociation:
    antigen: str
    begin_age: Offset | None
    end_age: Offset | None


@dataclass(frozen=True, slots=True)
class CvxCode:
    cvx: str
    description: str
    associations: tuple[CvxAssociation, ...]


@dataclass(frozen=True, slots=True)
class Observation:
    code: str
    title: str
    group: str
    indication_text: str
    contraindication_text: str
    clarifying_text: str
    coded_values: tuple[tuple[str, str, str], ...]  # (code, code system, text)


@dataclass(frozen=True, slots=True)
class SupportingData:
    antigens: Mapping[str, Antigen]
    vaccine_groups: Mapping[str, VaccineGroup]
    cvx_codes: Mapping[str, CvxCode]
    live_virus_conflicts: Mapping[str, tuple[LiveVirusConflict, ...]]  # by current CVX
    observations: Mapping[str, Observation]

    def group_of(self, antigen: str) -> VaccineGroup:
        """The vaccine group an antigen belongs to."""
        for group in self.vaccine_groups.values():
            if antigen in group.antigens:
                return group
        raise KeyError(antigen)
