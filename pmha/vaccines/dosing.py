"""What the vaccination page pre-fills for a dose given here, and the evidence-of-immunity choices.

Clinic conventions, not rules: the nurse can change any of them on the form. Route and site
follow the usual administration of each vaccine (MMR, varicella and MMRV subcutaneous; oral
vaccines by mouth; the rest intramuscular in the deltoid); 0.5 mL is the usual dose volume.
Evidence of immunity: the SNOMED CT codes CDC's CDSi supporting data maps to its observations
020-024, 018 and 019 (pmha/vaccines/cdsi/data/ScheduleSupportingData.xml).
"""

from __future__ import annotations

from decimal import Decimal

from pmha.codes import CVX

ORAL = frozenset({"02", "178", "179", "182", "25", "174", "116", "119", "122"})
NASAL = frozenset({"149"})
SUBCUTANEOUS = frozenset({"03", "04", "05", "06", "07", "94", "21", "37"})
NO_BODY_SITE = frozenset({"PO", "NS"})  # HL70162 routes with no RXR-2 site

IMMUNITY: dict[str, str] = {
    "371111005": "Measles: laboratory evidence of immunity",
    "371112003": "Mumps: laboratory evidence of immunity",
    "278968001": "Rubella: laboratory evidence of immunity",
    "371113008": "Varicella: laboratory evidence of immunity or disease",
    "38907003": "Varicella: history or diagnosis verified by a physician",
    "278971009": "Hepatitis A: laboratory evidence of immunity or disease",
    "271511000": "Hepatitis B: laboratory evidence of immunity or disease",
}


def defaults(cvx: str) -> dict[str, str]:
    """amount, unit, route and body_site for a one-click dose of this vaccine."""
    if cvx in ORAL:
        return {"amount": "1.00" if cvx in ("116", "119", "122") else "0.50",
                "unit": "mL", "route": "PO"}  # fmt: skip
    if cvx in NASAL:
        return {"amount": "0.20", "unit": "mL", "route": "NS"}
    route = "SC" if cvx in SUBCUTANEOUS else "IM"
    return {"amount": str(Decimal("0.50")), "unit": "mL", "route": route,
            "body_site": "LA" if route == "SC" else "LD"}  # fmt: skip


def name(cvx: str) -> str:
    return CVX.get(cvx, f"CVX {cvx}")
