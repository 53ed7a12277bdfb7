"""Standard codes for what the summary reports: LOINC for tests, sections and report kinds,
SNOMED CT for result values and the classes that name a disorder, UCUM for units.

Only codes we could check against their code system's published names are listed; a test or
class without one travels under PMHA's own code system only (`common.local`), which a receiver
can still read through the coding's display and the concept's text.
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    code: str
    display: str


# Lab tests (VOCABULARY "Requirement codes") -> LOINC, by the LOINC long common name.
LAB_LOINC: dict[str, Term] = {
    "syphilis_serology": Term("22587-0", "Treponema pallidum Ab [Presence] in Serum"),
    "igra": Term(
        "71773-6",
        "Mycobacterium tuberculosis stimulated gamma interferon [Interpretation] in Blood",
    ),
    "sputum_smear": Term(
        "11545-1", "Microscopic observation [Identifier] in Sputum by Acid fast stain"
    ),
    "sputum_culture": Term(
        "539-7", "Mycobacterium sp identified in Sputum by Organism specific culture"
    ),
    "tb_naat": Term(
        "85362-2",
        "Mycobacterium tuberculosis complex DNA [Presence] in Sputum or Bronchial by NAA with "
        "probe detection",
    ),
    "gonorrhea_naat": Term(
        "43305-2",
        "Neisseria gonorrhoeae rRNA [Presence] in Unspecified specimen by NAA with probe detection",
    ),
    "hiv_test": Term(
        "75622-1",
        "HIV 1 and 2 Ab and HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay",
    ),
    "hbv_test": Term(
        "5196-1", "Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay"
    ),
    "hcv_test": Term("16128-1", "Hepatitis C virus Ab [Presence] in Serum"),
    "urinalysis": Term("24356-8", "Urinalysis complete panel - Urine"),
    "serum_creatinine": Term("14682-9", "Creatinine [Moles/volume] in Serum or Plasma"),
    "pregnancy_test": Term("2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine"),
}
# The syphilis reverse algorithm's non-treponemal test and its titre (details of the result).
RPR = Term("20507-0", "Reagin Ab [Presence] in Serum by RPR")
RPR_TITRE = Term("31147-2", "Reagin Ab [Titer] in Serum by RPR")

# No LOINC here for the TST (the LOINC terms name a dose and a reading day the record does not
# keep) nor for DST (a panel per drug): PMHA's code, the TST's induration as a Quantity in mm.
# Lab tests whose value itself is a number, with its UCUM unit (the TST: induration in mm).
LAB_UNITS: dict[str, str] = {"tst": "mm"}

# Measured analytes (pmha.exams.lab_ranges, with their UCUM units) -> LOINC, by unit and method.
ANALYTE_LOINC: dict[str, Term] = {
    "creatinine": Term("14682-9", "Creatinine [Moles/volume] in Serum or Plasma"),
    "protein": Term("5804-0", "Protein [Mass/volume] in Urine by Test strip"),
    "glucose": Term("5792-7", "Glucose [Mass/volume] in Urine by Test strip"),
    "blood": Term("20409-9", "Erythrocytes [#/volume] in Urine by Test strip"),
    "ph": Term("5803-2", "pH of Urine by Test strip"),
    "specific_gravity": Term("5811-5", "Specific gravity of Urine by Test strip"),
}
# A measured value's flag -> HL7 v3 ObservationInterpretation.
FLAG_INTERPRETATION: dict[str, Term] = {
    "H": Term("H", "High"),
    "L": Term("L", "Low"),
    "N": Term("N", "Normal"),
}

# Qualitative result values -> SNOMED CT qualifier values.
RESULT_SNOMED: dict[str, Term] = {
    "positive": Term("10828004", "Positive"),
    "negative": Term("260385009", "Negative"),
    "reactive": Term("11214006", "Reactive"),
    "non_reactive": Term("131194007", "Non-Reactive"),
    "inconclusive": Term("419984006", "Inconclusive"),
    "indeterminate": Term("82334004", "Indeterminate"),
    "normal": Term("17621005", "Normal"),
    "abnormal": Term("263654008", "Abnormal"),
}

# Classes that assert a disorder -> SNOMED CT disorder; the others (TB class B1, B2, B3...) are
# programme classes, not diagnoses, and go under PMHA's code system only.
CLASS_SNOMED: dict[tuple[str, str], Term] = {
    ("tb_class", "class_a"): Term("56717001", "Tuberculosis"),
    ("tb_class", "class_a_waiver"): Term("56717001", "Tuberculosis"),
    ("syphilis", "class_a"): Term("76272004", "Syphilis"),
    ("syphilis", "class_b"): Term("76272004", "Syphilis"),
    ("gonorrhea", "class_a"): Term("15628003", "Gonorrhea"),
    ("gonorrhea", "class_b"): Term("15628003", "Gonorrhea"),
}

# The chest X-ray: the report (LOINC "Diagnostic imaging study"), its reading and a finding seen.
IMAGING_REPORT = Term("18748-4", "Diagnostic imaging study")
IMAGING_READING = Term("18782-3", "Radiology Study observation (narrative)")
PRESENT = Term("52101004", "Present")
CHEST = Term("51185008", "Thoracic structure")

# Practitioner roles (SNOMED CT occupations), as the IPS examples code them.
ROLE_SNOMED: dict[str, Term] = {
    "panel_physician": Term("158965000", "Medical practitioner"),
    "radiologist": Term("66862007", "Radiologist"),
}

# IPS sections (IPS IG 2.0.0, Composition (IPS) slices), by their LOINC section codes.
SECTION_PROBLEMS = Term("11450-4", "Problem list - Reported")
SECTION_ALLERGIES = Term("48765-2", "Allergies and adverse reactions Document")
SECTION_MEDICATIONS = Term("10160-0", "History of Medication use Narrative")
SECTION_IMMUNIZATIONS = Term("11369-6", "History of Immunization note")
SECTION_RESULTS = Term("30954-2", "Relevant diagnostic tests/laboratory data note")
SECTION_VITALS = Term("8716-3", "Vital signs note")
SECTION_PLAN = Term("18776-5", "Plan of care note")
PATIENT_SUMMARY = Term("60591-5", "Patient summary Document")
# The IPS required sections (Composition.section slices with min 1).
REQUIRED_SECTIONS = (SECTION_PROBLEMS.code, SECTION_ALLERGIES.code, SECTION_MEDICATIONS.code)
