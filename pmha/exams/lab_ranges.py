"""Quantitative lab results: what each test measures, its UCUM unit, the reference range that
applies to the applicant, and the flag (H, L, N) a value gets against it.

Pure (no Flask, no database). Units are UCUM codes (https://ucum.org/ucum, §4 and Table 3;
"umol/L", "mg/dL", "/uL", "[pH]", "1" for a ratio such as specific gravity), shown with the
usual symbols. Adult reference ranges:
- serum creatinine: Mayo Clinic Laboratories, test CRTS1 "Creatinine, Serum": males >= 18 years
  0.74-1.35 mg/dL, females >= 18 years 0.59-1.04 mg/dL, here in umol/L (x 88.4, rounded);
- urinalysis by dipstick: Simerville JA et al., "Urinalysis: a comprehensive review",
  Am Fam Physician 2005;71(6):1153-62, Table 2 (normal values: protein and glucose negative
  (< 15 mg/dL), blood negative (< 5 erythrocytes/uL), pH 4.5-8, specific gravity 1.005-1.030).
A child's creatinine has no range here (it depends on age and body size): the laboratory's own
interpretation is typed instead, and the flag is left empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ADULT_YEARS = 18


@dataclass(frozen=True, slots=True)
class Analyte:
    code: str
    words: str
    ucum: str  # the UCUM code kept with the value
    shown: str  # how a person writes the unit
    plausible: tuple[float, float]  # outside: a typing error, refused
    ranges: Mapping[str, tuple[float, float]]  # sex ("any", "male", "female") -> (low, high)
    adults_only: bool = False
    step: str = "any"  # the input's step


@dataclass(frozen=True, slots=True)
class Panel:
    code: str
    specimen: str
    analytes: tuple[Analyte, ...]


PANELS: dict[str, Panel] = {
    "serum_creatinine": Panel(
        "serum_creatinine",
        "Serum (venous blood)",
        (
            Analyte(
                "creatinine",
                "Creatinine",
                "umol/L",
                "µmol/L",
                (5, 3000),
                {"male": (65, 119), "female": (52, 92)},
                adults_only=True,
                step="1",
            ),
        ),
    ),
    "urinalysis": Panel(
        "urinalysis",
        "Urine, midstream",
        (
            Analyte("protein", "Protein", "mg/dL", "mg/dL", (0, 2000), {"any": (0, 14.9)}),
            Analyte("glucose", "Glucose", "mg/dL", "mg/dL", (0, 3000), {"any": (0, 14.9)}),
            Analyte("blood", "Blood (erythrocytes)", "/uL", "/µL", (0, 1000), {"any": (0, 4.9)}),
            Analyte("ph", "pH", "[pH]", "", (4, 10), {"any": (4.5, 8)}, step="0.5"),
            Analyte(
                "specific_gravity",
                "Specific gravity",
                "1",
                "",
                (1.0, 1.06),
                {"any": (1.005, 1.030)},
                step="0.001",
            ),
        ),
    ),
}
SPECIMEN_OF = {
    "igra": "Whole blood (heparin)",
    "syphilis_serology": "Serum",
    "hiv_test": "Serum or plasma",
    "hbv_test": "Serum",
    "hcv_test": "Serum",
    "gonorrhea_naat": "Urine, first-void",
    "pregnancy_test": "Urine",
    "sputum_smear": "Sputum",
    "sputum_culture": "Sputum",
    "tb_naat": "Sputum",
    "dst": "Culture isolate",
    **{code: panel.specimen for code, panel in PANELS.items()},
}


@dataclass(frozen=True, slots=True)
class Measured:
    analyte: Analyte
    value: float
    low: float | None
    high: float | None
    flag: str | None  # H, L, N; None without a range

    def words(self) -> str:
        unit = f" {self.analyte.shown}" if self.analyte.shown else ""
        text = f"{self.analyte.words} {self.value:g}{unit}"
        if self.low is not None and self.high is not None:
            text += (
                f" (reference {self.low:g} to {self.high:g}{unit}, {FLAG_WORDS[self.flag or 'N']})"
            )
        return text


FLAG_WORDS = {"H": "high", "L": "low", "N": "normal"}


def reference_range(analyte: Analyte, sex: str, age_years: int) -> tuple[float, float] | None:
    """The range that applies to this applicant, or None (a child where only adult ranges are
    known, or a sex the ranges do not cover)."""
    if analyte.adults_only and age_years < ADULT_YEARS:
        return None
    return analyte.ranges.get("any") or analyte.ranges.get(sex)


def has_ranges(code: str, sex: str, age_years: int) -> bool:
    """Whether every analyte of the test has a range for this applicant (then the result's
    interpretation follows from the values, not typed)."""
    panel = PANELS.get(code)
    return panel is not None and all(
        reference_range(a, sex, age_years) is not None for a in panel.analytes
    )


def flag(value: float, low: float, high: float) -> str:
    return "L" if value < low else "H" if value > high else "N"


def measure(
    code: str, values: Mapping[str, float | None], sex: str, age_years: int
) -> tuple[list[Measured], dict[str, list[str]]]:
    """Each analyte's value against its range; errors (analyte -> words) for a value missing
    or beyond what a body can have (a typing error)."""
    panel = PANELS[code]
    unknown = sorted(set(values) - {a.code for a in panel.analytes})
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["measurements"] = [f"{panel.code} measures no {', '.join(unknown)}."]
    found: list[Measured] = []
    for analyte in panel.analytes:
        value = values.get(analyte.code)
        unit = f" {analyte.shown}" if analyte.shown else ""
        if value is None:
            errors[analyte.code] = [
                f"Give the {analyte.words.lower()} value{unit and ' in' + unit}."
            ]
            continue
        low, high = analyte.plausible
        if not low <= value <= high:
            errors[analyte.code] = [
                f"{analyte.words} {value:g}{unit} cannot be right: a value is between "
                f"{low:g} and {high:g}{unit}. Check the report."
            ]
            continue
        ref = reference_range(analyte, sex, age_years)
        found.append(
            Measured(
                analyte,
                float(value),
                ref[0] if ref else None,
                ref[1] if ref else None,
                flag(value, *ref) if ref else None,
            )
        )
    return found, errors


def interpretation(measured: list[Measured]) -> str | None:
    """'abnormal' if any value is flagged high or low, 'normal' if all are in range, None when
    a value has no range (the laboratory's interpretation is typed)."""
    if not measured or any(m.flag is None for m in measured):
        return None
    return "abnormal" if any(m.flag in ("H", "L") for m in measured) else "normal"
