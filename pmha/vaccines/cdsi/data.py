"""Load CDC's CDSi supporting data (vendored XML) once, into the immutable structures of `schema`.

A new CDC release is a data drop: replace the files in `data/` and run the conformance tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pmha.vaccines.cdsi.dates import Offset, parse_data_date, parse_offset
from pmha.vaccines.cdsi.schema import (
    AgeRule,
    Antigen,
    ConditionalSkip,
    CvxAssociation,
    CvxCode,
    GroupContraindication,
    Immunity,
    Indication,
    IntervalRule,
    LiveVirusConflict,
    Observation,
    Series,
    SeriesDose,
    SkipCondition,
    SkipSet,
    SupportingData,
    VaccineContraindication,
    VaccineGroup,
    VaccineRule,
)

Element = ET.Element


def normalise_cvx(code: str) -> str:
    """CVX codes compare as numbers: "03" and "3" are the same code.

    Decimal digits only (any script's, which int() reads): "²" is a digit to str.isdigit but
    no number, and stays as it is, an unknown code."""
    cleaned = code.strip()
    return str(int(cleaned)) if cleaned.isdecimal() else cleaned


def normalise_observation(code: str) -> str:
    """Observation codes are three digits in the data ("007"); accept "7" too."""
    cleaned = code.strip()
    return f"{int(cleaned):03d}" if cleaned.isdecimal() else cleaned


def _text(node: Element | None, tag: str) -> str:
    found = None if node is None else node.find(tag)
    return "" if found is None or found.text is None else found.text.strip()


def _offset(node: Element | None, tag: str) -> Offset | None:
    text = _text(node, tag)
    return parse_offset(text) if text else None


def _date(node: Element | None, tag: str) -> Any:
    text = _text(node, tag)
    return parse_data_date(text) if text else None


def _codes(text: str) -> tuple[str, ...]:
    return tuple(normalise_cvx(part) for part in text.split(";") if part.strip())


def _age(node: Element) -> AgeRule:
    return AgeRule(
        abs_min_age=_offset(node, "absMinAge"),
        min_age=_offset(node, "minAge"),
        earliest_rec_age=_offset(node, "earliestRecAge"),
        latest_rec_age=_offset(node, "latestRecAge"),
        max_age=_offset(node, "maxAge"),
        effective=_date(node, "effectiveDate"),
        cessation=_date(node, "cessationDate"),
    )


def _interval(node: Element) -> IntervalRule | None:
    target = _text(node, "fromTargetDose")
    observation = _text(node, "fromRelevantObs/code")
    from_previous = _text(node, "fromPrevious").upper() == "Y"
    most_recent = _codes(_text(node, "fromMostRecent"))
    if not (from_previous or target or most_recent or observation):
        return None  # an empty <interval/> element
    return IntervalRule(
        from_previous=from_previous,
        from_target_dose=int(target) if target else None,
        from_most_recent=most_recent,
        from_observation=normalise_observation(observation) if observation else None,
        abs_min=_offset(node, "absMinInt"),
        min=_offset(node, "minInt"),
        earliest_rec=_offset(node, "earliestRecInt"),
        latest_rec=_offset(node, "latestRecInt"),
        override=_text(node, "intervalPriority").lower() == "override",
        effective=_date(node, "effectiveDate"),
        cessation=_date(node, "cessationDate"),
    )


def _vaccine(node: Element) -> VaccineRule | None:
    cvx = _text(node, "cvx")
    if not cvx:
        return None
    return VaccineRule(
        vaccine_type=_text(node, "vaccineType"),
        cvx=normalise_cvx(cvx),
        begin_age=_offset(node, "beginAge"),
        end_age=_offset(node, "endAge"),
        trade_name=_text(node, "tradeName"),
        mvx=_text(node, "mvx").upper(),
        volume=_text(node, "volume"),
        forecast=_text(node, "forecastVaccineType").upper() == "Y",
    )


def _vaccines(node: Element, tag: str) -> tuple[VaccineRule, ...]:
    return tuple(v for v in (_vaccine(child) for child in node.findall(tag)) if v is not None)


def _condition(node: Element) -> SkipCondition:
    count = _text(node, "doseCount")
    return SkipCondition(
        condition_type=_text(node, "conditionType").lower(),
        start_date=_date(node, "startDate"),
        end_date=_date(node, "endDate"),
        begin_age=_offset(node, "beginAge"),
        end_age=_offset(node, "endAge"),
        interval=_offset(node, "interval"),
        dose_count=int(count) if count else 0,
        dose_type=_text(node, "doseType").lower(),
        dose_count_logic=_text(node, "doseCountLogic").lower(),
        vaccine_types=_codes(_text(node, "vaccineTypes")),
        series_groups=tuple(p.strip() for p in _text(node, "seriesGroups").split(";") if p.strip()),
    )


def _skip(node: Element) -> ConditionalSkip | None:
    sets = tuple(
        SkipSet(
            description=_text(s, "setDescription"),
            effective=_date(s, "effectiveDate"),
            cessation=_date(s, "cessationDate"),
            all_conditions=_text(s, "conditionLogic").upper() == "AND",
            conditions=tuple(_condition(c) for c in s.findall("condition")),
        )
        for s in node.findall("set")
    )
    if not sets:
        return None
    return ConditionalSkip(
        context=_text(node, "context").lower() or "both",
        all_sets=_text(node, "setLogic").upper() == "AND",
        sets=sets,
    )


def _series_dose(node: Element) -> SeriesDose:
    number = "".join(ch for ch in _text(node, "doseNumber") if ch.isdigit())
    skips = (_skip(s) for s in node.findall("conditionalSkip"))
    return SeriesDose(
        dose_number=int(number),
        ages=tuple(_age(a) for a in node.findall("age")),
        intervals=tuple(i for i in map(_interval, node.findall("interval")) if i),
        allowable_intervals=tuple(
            i for i in map(_interval, node.findall("allowableInterval")) if i
        ),
        preferable_vaccines=_vaccines(node, "preferableVaccine"),
        allowable_vaccines=_vaccines(node, "allowableVaccine"),
        inadvertent_cvx=frozenset(
            normalise_cvx(_text(v, "cvx"))
            for v in node.findall("inadvertentVaccine")
            if _text(v, "cvx")
        ),
        conditional_skips=tuple(s for s in skips if s is not None),
        recurring=_text(node, "recurringDose").lower() == "yes",
        season_start=_date(node, "seasonalRecommendation/startDate"),
        season_end=_date(node, "seasonalRecommendation/endDate"),
    )


def _series(node: Element) -> Series:
    select = node.find("selectSeries")
    indications = tuple(
        Indication(
            observation_code=normalise_observation(_text(i, "observationCode/code")),
            description=_text(i, "description"),
            begin_age=_offset(i, "beginAge"),
            end_age=_offset(i, "endAge"),
            guidance=_text(i, "guidance"),
        )
        for i in node.findall("indication")
        if _text(i, "observationCode/code")
    )
    preference = _text(select, "seriesPreference")
    return Series(
        name=_text(node, "seriesName"),
        target_disease=_text(node, "targetDisease"),
        vaccine_group=_text(node, "vaccineGroup"),
        series_type=_text(node, "seriesType"),
        equivalent_series_groups=tuple(
            p.strip() for p in _text(node, "equivalentSeriesGroups").split(";") if p.strip()
        ),
        required_genders=tuple(
            g.text.strip() for g in node.findall("requiredGender") if g.text and g.text.strip()
        ),
        default=_text(select, "defaultSeries").lower() == "yes",
        product_path=_text(select, "productPath").lower() == "yes",
        group_name=_text(select, "seriesGroupName"),
        group=_text(select, "seriesGroup"),
        priority=_text(select, "seriesPriority") or "Z",
        preference=int(preference) if preference.isdigit() else 99,
        min_age_to_start=_offset(select, "minAgeToStart"),
        max_age_to_start=_offset(select, "maxAgeToStart"),
        indications=indications,
        doses=tuple(_series_dose(d) for d in node.findall("seriesDose")),
    )


def _antigen(root: Element) -> Antigen:
    immunity = root.find("immunity")
    birth = None if immunity is None else immunity.find("dateOfBirth")
    contra = root.find("contraindications")
    series = tuple(_series(s) for s in root.findall("series"))
    return Antigen(
        name=series[0].target_disease,
        immunity=Immunity(
            clinical_history_codes=tuple(
                normalise_observation(_text(c, "guidelineCode"))
                for c in ([] if immunity is None else immunity.findall("clinicalHistory"))
                if _text(c, "guidelineCode")
            ),
            birth_date=_date(birth, "immunityBirthDate"),
            birth_country=_text(birth, "birthCountry"),
            exclusion_codes=tuple(
                normalise_observation(_text(e, "exclusionCode"))
                for e in ([] if birth is None else birth.findall("exclusion"))
                if _text(e, "exclusionCode")
            ),
        ),
        group_contraindications=tuple(
            GroupContraindication(
                observation_code=normalise_observation(_text(c, "observationCode")),
                title=_text(c, "observationTitle"),
                begin_age=_offset(c, "beginAge"),
                end_age=_offset(c, "endAge"),
            )
            for c in ([] if contra is None else contra.findall("vaccineGroup/contraindication"))
        ),
        vaccine_contraindications=tuple(
            VaccineContraindication(
                observation_code=normalise_observation(_text(c, "observationCode")),
                title=_text(c, "observationTitle"),
                vaccines=_vaccines(c, "contraindicatedVaccine"),
            )
            for c in ([] if contra is None else contra.findall("vaccine/contraindication"))
        ),
        series=series,
    )


def _schedule(root: Element, antigens: dict[str, Antigen]) -> SupportingData:
    conflicts: dict[str, list[LiveVirusConflict]] = defaultdict(list)
    for node in root.iterfind("liveVirusConflicts/liveVirusConflict"):
        conflict = LiveVirusConflict(
            previous_cvx=normalise_cvx(_text(node, "previous/cvx")),
            current_cvx=normalise_cvx(_text(node, "current/cvx")),
            begin=parse_offset(_text(node, "conflictBeginInterval")),
            min_end=parse_offset(_text(node, "minConflictEndInterval")),
            end=parse_offset(_text(node, "conflictEndInterval")),
        )
        conflicts[conflict.current_cvx].append(conflict)
    members = {
        _text(m, "name"): tuple(a.text.strip() for a in m.findall("antigen") if a.text)
        for m in root.iterfind("vaccineGroupToAntigenMap/vaccineGroupMap")
    }
    groups = {
        name: VaccineGroup(
            name=name,
            administer_full_group=_text(g, "administerFullVaccineGroup").lower() == "yes",
            antigens=members.get(name, ()),
        )
        for g in root.iterfind("vaccineGroups/vaccineGroup")
        for name in [_text(g, "name")]
    }
    cvx_codes = {
        code.cvx: code
        for code in (
            CvxCode(
                cvx=normalise_cvx(_text(m, "cvx")),
                description=_text(m, "shortDescription"),
                associations=tuple(
                    CvxAssociation(
                        antigen=_text(a, "antigen"),
                        begin_age=_offset(a, "associationBeginAge"),
                        end_age=_offset(a, "associationEndAge"),
                    )
                    for a in m.findall("association")
                ),
            )
            for m in root.iterfind("cvxToAntigenMap/cvxMap")
        )
    }
    observations = {
        obs.code: obs
        for obs in (
            Observation(
                code=normalise_observation(_text(o, "observationCode")),
                title=_text(o, "observationTitle"),
                group=_text(o, "group"),
                indication_text=_text(o, "indicationText"),
                contraindication_text=_text(o, "contraindicationText"),
                clarifying_text=_text(o, "clarifyingText"),
                coded_values=tuple(
                    (_text(c, "code"), _text(c, "codeSystem"), _text(c, "text"))
                    for c in o.iterfind("codedValues/codedValue")
                ),
            )
            for o in root.iterfind("observations/observation")
        )
    }
    return SupportingData(
        antigens=MappingProxyType(antigens),
        vaccine_groups=MappingProxyType(groups),
        cvx_codes=MappingProxyType(cvx_codes),
        live_virus_conflicts=MappingProxyType({k: tuple(v) for k, v in conflicts.items()}),
        observations=MappingProxyType(observations),
    )


def load_supporting_data(directory: Path) -> SupportingData:
    """Parse a directory holding ScheduleSupportingData.xml and AntigenSupportingData-*.xml."""
    antigens: dict[str, Antigen] = {}
    for path in sorted(directory.glob("AntigenSupportingData-*.xml")):
        antigen = _antigen(ET.parse(path).getroot())  # noqa: S314 - CDC's vendored files
        antigens[antigen.name] = antigen
    schedule = ET.parse(directory / "ScheduleSupportingData.xml").getroot()  # noqa: S314
    return _schedule(schedule, antigens)


@cache
def supporting_data() -> SupportingData:
    """The vendored supporting data, parsed on first use and then shared."""
    with resources.as_file(resources.files("pmha.vaccines.cdsi") / "data") as directory:
        return load_supporting_data(Path(directory))
