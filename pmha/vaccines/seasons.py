"""Influenza seasons of exam countries, the vaccines not routinely available in each, and the map
from rule-file vaccine names to CDSi vaccine groups and antigens. Data only.

The US influenza requirement applies during the flu season of the country of the panel physician
exam [S23b]; CDC's civil-surgeon season is 1 Oct - 31 Mar [S23a], used here for the northern
hemisphere (Türkiye is northern: DOMAIN BRIEF §1.5 and §10). The southern season below mirrors it
and is NOT confirmed by a source [U]: review before relying on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Season:
    """An influenza season as (month, day) bounds, inclusive; it may wrap over the new year."""

    name: str
    start: tuple[int, int]
    end: tuple[int, int]
    source: tuple[str, ...]

    def contains(self, day: date) -> bool:
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end


NORTHERN = Season("northern hemisphere", (10, 1), (3, 31), ("S23a", "S23b"))
SOUTHERN = Season("southern hemisphere", (4, 1), (9, 30), ("S23b",))  # [U] mirror of NORTHERN

# Exam countries (ISO 3166-1 alpha-2) in the southern season; every other country is northern.
SOUTHERN_COUNTRIES = frozenset({"AR", "AU", "CL", "LS", "NZ", "PY", "SZ", "UY", "ZA"})


def season_for(exam_country: str) -> Season:
    return SOUTHERN if exam_country.upper() in SOUTHERN_COUNTRIES else NORTHERN


# Exam country -> rule-file vaccine names CDC declared not routinely available there [S13a].
# None is recorded yet: add a country when CDC publishes it.
NOT_ROUTINELY_AVAILABLE: Mapping[str, frozenset[str]] = MappingProxyType({})

# Rule-file vaccine name (pmha.rules.vocabulary.VACCINES) -> (CDSi vaccine group, CDSi antigen),
# as named in CDC's CDSi supporting data v4.64 (pmha/vaccines/cdsi/data/ScheduleSupportingData.xml,
# <vaccineGroup><name> and AntigenSupportingData-<antigen>-508.xml) [S34].
CDSI_GROUPS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "COVID-19": ("COVID-19", "COVID-19"),
        "Diphtheria": ("DTaP/Tdap/Td", "Diphtheria"),
        "Tetanus": ("DTaP/Tdap/Td", "Tetanus"),
        "Pertussis": ("DTaP/Tdap/Td", "Pertussis"),
        "Polio": ("Polio", "Polio"),
        "Measles": ("MMR", "Measles"),
        "Mumps": ("MMR", "Mumps"),
        "Rubella": ("MMR", "Rubella"),
        "Rotavirus": ("Rotavirus", "Rotavirus"),
        "Hib": ("Hib", "Hib"),
        "HepA": ("HepA", "HepA"),
        "HepB": ("HepB", "HepB"),
        "Meningococcal": ("Meningococcal", "Meningococcal"),
        "Varicella": ("Varicella", "Varicella"),
        "Pneumococcal": ("Pneumococcal", "Pneumococcal"),
        "Influenza": ("Influenza", "Influenza"),
    }
)
