"""Code tables shared by the vaccination records, their checks and the exports (the VXU adapter
and the FHIR summary check against them): a selection, not the full code systems.

CVX and MVX: BRIEF §7.1-7.2, from the CDC CVX/MVX value set expansions dated 2024-05-06 cached
in fhir-fli/cicada (source S36). NIP001, NIP002, HL70162, HL70163, HL70322: BRIEF §8.2, from the
CDC HL7 v2.5.1 Immunization Implementation Guide release 1.5 and NIST/AIRA test messages (S37).
Names are short labels for RXA-5.2 and similar text components; the codes are what receivers read.
"""

from __future__ import annotations

CVX: dict[str, str] = {
    "01": "DTP",
    "02": "OPV",
    "03": "MMR",
    "04": "M/R",
    "05": "measles",
    "06": "rubella",
    "07": "mumps",
    "08": "Hep B, adolescent or pediatric",
    "09": "Td (adult), 2 Lf tetanus toxoid, preservative free, adsorbed",
    "10": "IPV",
    "17": "Hib, unspecified formulation",
    "19": "BCG",
    "20": "DTaP",
    "21": "varicella",
    "25": "typhoid, oral",
    "28": "DT (pediatric)",
    "33": "pneumococcal polysaccharide PPV23",
    "37": "yellow fever",
    "41": "typhoid, parenteral",
    "43": "Hep B, adult",
    "44": "Hep B, dialysis",
    "45": "Hep B, unspecified formulation",
    "46": "Hib (PRP-D)",
    "47": "Hib (HbOC)",
    "48": "Hib (PRP-T)",
    "49": "Hib (PRP-OMP)",
    "51": "Hib-Hep B",
    "52": "Hep A, adult",
    "62": "HPV, quadrivalent",
    "83": "Hep A, ped/adol, 2 dose",
    "88": "influenza, unspecified formulation",
    "89": "polio, unspecified formulation",
    "94": "MMRV",
    "100": "pneumococcal conjugate PCV 7",
    "104": "Hep A-Hep B",
    "106": "DTaP, 5 pertussis antigens",
    "107": "DTaP, unspecified formulation",
    "108": "meningococcal ACWY, unspecified formulation",
    "110": "DTaP-Hep B-IPV",
    "113": "Td (adult), 5 Lf tetanus toxoid, preservative free, adsorbed",
    "114": "meningococcal MCV4P",
    "115": "Tdap",
    "116": "rotavirus, pentavalent",
    "118": "HPV, bivalent",
    "119": "rotavirus, monovalent",
    "120": "DTaP-Hib-IPV",
    "122": "rotavirus, unspecified formulation",
    "130": "DTaP-IPV",
    "132": "DTaP-IPV-Hib-Hep B, historical",
    "133": "pneumococcal conjugate PCV 13",
    "135": "influenza, high dose seasonal",
    "136": "meningococcal MCV4O",
    "137": "HPV, unspecified formulation",
    "138": "Td (adult), not adsorbed",
    "139": "Td(adult) unspecified formulation",
    "140": "influenza, seasonal, injectable, preservative free",
    "141": "influenza, seasonal, injectable",
    "146": "DTaP-IPV-Hib-HepB",
    "147": "meningococcal MCV4, unspecified formulation",
    "149": "influenza, live, intranasal, quadrivalent",
    "150": "influenza, injectable, quadrivalent, preservative free",
    "152": "pneumococcal conjugate, unspecified formulation",
    "158": "influenza, injectable, quadrivalent",
    "162": "meningococcal B, recombinant",
    "163": "meningococcal B, OMV",
    "164": "meningococcal B, unspecified",
    "165": "HPV9",
    "168": "influenza, trivalent, adjuvanted",
    "170": "DTAP/IPV/HIB - non-US",
    "172": "cholera, WC-rBS",
    "173": "cholera, BivWC",
    "174": "cholera, live attenuated",
    "177": "PCV10",
    "178": "OPV bivalent",
    "179": "OPV, monovalent, unspecified",
    "182": "OPV, Unspecified",
    "189": "HepB-CpG",
    "190": "typhoid conjugate vaccine (TCV)",
    "196": "Td, adsorbed, preservative free, adult use, 5 Lf",
    "197": "influenza, high-dose, quadrivalent",
    "198": "DTP-hepB-Hib Pentavalent Non-US",
    "203": "meningococcal polysaccharide (groups A, C, Y, W-135) TT conjugate",
    "205": "influenza, adjuvanted, quadrivalent",
    "213": "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED",
    "215": "pneumococcal conjugate PCV 15",
    "216": "pneumococcal conjugate PCV 20",
    "316": "meningococcal ABCWY",
    "998": "no vaccine administered",
    "999": "unknown",
}

NO_VACCINE_ADMINISTERED = "998"
UNKNOWN_AMOUNT = "999"

MVX: dict[str, str] = {
    "PFR": "Pfizer, Inc",
    "MSD": "Merck and Co., Inc.",
    "SKB": "GlaxoSmithKline",
    "PMC": "Sanofi Pasteur",
    "SEQ": "Seqirus",
    "CSL": "bioCSL",
    "MOD": "Moderna US, Inc.",
    "NVX": "Novavax, Inc.",
    "JSN": "Janssen",
    "DVX": "Dynavax Technologies Corporation",
    "BN": "Bavarian Nordic A/S",
    "VAL": "Valneva",
    "PAX": "PaxVax",
    "MED": "MedImmune, Inc.",
    "MIP": "Emergent BioDefense Operations Lansing",
    "NOV": "Novartis Pharmaceutical Corporation",
    "WAL": "Wyeth-Ayerst",
    "WA": "Wyeth-Ayerst",
    "LED": "Lederle",
    "CON": "Connaught",
    "IM": "Merieux",
    "SI": "Swiss Serum and Vaccine Inst.",
    "KGC": "Korea Green Cross Corporation",
    "JPN": "The Research Foundation for Microbial Diseases of Osaka University (BIKEN)",
    "OTH": "Other manufacturer",
    "UNK": "Unknown manufacturer",
}

# RXA-9: immunization information source.
NIP001: dict[str, str] = {
    "00": "New immunization record",
    "01": "Historical information - source unspecified",
    "02": "Historical information - from other provider",
    "03": "Historical information - from parent's written record",
    "04": "Historical information - from parent's recall",
    "05": "Historical information - from other registry",
    "06": "Historical information - from birth certificate",
    "07": "Historical information - from school record",
    "08": "Historical information - from public agency",
}

# RXA-18: substance refusal reason. The exact mapping of 01-03 is unconfirmed (BRIEF §8.2 [U]).
NIP002: dict[str, str] = {
    "00": "Parental decision",
    "01": "Religious exemption",
    "02": "Other",
    "03": "Patient decision",
}

# RXR-1: route of administration.
HL70162: dict[str, str] = {
    "ID": "Intradermal",
    "IM": "Intramuscular",
    "NS": "Nasal",
    "PO": "Oral",
    "SC": "Subcutaneous",
    "TD": "Transdermal",
}

# RXR-2: administrative site.
HL70163: dict[str, str] = {
    "LA": "Left Arm",
    "LD": "Left Deltoid",
    "LG": "Left Gluteous Medius",
    "LLFA": "Left Lower Forearm",
    "LT": "Left Thigh",
    "LVL": "Left Vastus Lateralis",
    "RA": "Right Arm",
    "RD": "Right Deltoid",
    "RG": "Right Gluteous Medius",
    "RLFA": "Right Lower Forearm",
    "RT": "Right Thigh",
    "RVL": "Right Vastus Lateralis",
}

# OBX-5 of 59784-9 (disease with presumed immunity): the evidence-of-immunity codes of the CDC
# guide's value set, SNOMED CT (BRIEF 8.2-8.3 [S37a, S37b]), with their SNOMED CT terms as the
# CDSi supporting data v4.64 gives them (observations 018-025, BRIEF 7.3 [S34]).
SNOMED_IMMUNITY: dict[str, str] = {
    "278971009": "Hepatitis A immune",
    "271511000": "Hepatitis B immune",
    "371111005": "Measles immune",
    "371112003": "Mumps immune",
    "278968001": "Rubella immune",
    "371113008": "Varicella immune",
    "38907003": "Varicella",
    "4740000": "Herpes zoster",
}

SEXES = frozenset({"F", "M", "U"})

# OBX-5 of 64994-7 (vaccine funding program eligibility category): HL70064, CDC IG release 1.5
# and its 2018 update (S37a); V05's words as in NIST's 2015 test messages (S37b). Which value a
# centre abroad sends is configuration (country_rules/hl7/vxu.toml), not code.
HL70064: dict[str, str] = {
    "V01": "Not VFC eligible",
    "V02": "VFC eligible - Medicaid/Medicaid Managed Care",
    "V03": "VFC eligible - Uninsured",
    "V04": "VFC eligible - American Indian/Alaskan Native",
    "V05": "VFC eligible - Underinsured",
}
# OBX-17 of 64994-7: eligibility captured per immunization (CDCPHINVS), as the guide asks.
ELIGIBILITY_PER_IMMUNIZATION = ("VXC40", "Eligibility captured at the immunization level")

# OBX-5 of 30963-3 (vaccine funding source), CDCPHINVS: the 2018 update's public/private codes
# (VXC50 and PHC70 as in NIST's 2015 test messages, S37b) and release 1.5's federal, state,
# tribal and military funds.
FUNDING_SOURCE: dict[str, str] = {
    "VXC50": "Public",
    "VXC51": "Public VFC",
    "VXC52": "Public non-VFC",
    "PHC70": "Private",
    "VXC1": "Federal funds",
    "VXC2": "State funds",
    "VXC3": "Tribal funds",
    "PHC68": "Military funds",
}

# PID-3.5 identifier type codes we send (HL70203): our own record number and the passport.
HL70203: dict[str, str] = {
    "MR": "Medical record number",
    "PI": "Patient internal identifier",
    "PPN": "Passport number",
}
