"""The vaccines not routinely available in each exam country, and the map from rule-file vaccine
names to CDSi vaccine groups and antigens. Data only. The influenza seasons of exam countries are
rule-file values (`[[flu_season]]` in country_rules/US.toml, pmha.rules.FluSeason).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

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
