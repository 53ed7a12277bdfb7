"""Which permission records each requirement's result, and which worklist shows it.

This is how the centre divides its work, not a clinical rule: it lives in code.
"""

from __future__ import annotations

GROUPS: dict[str, frozenset[str]] = {
    "physician": frozenset({
        "medical_history", "physical_exam", "mental_health", "specialist_referral",
        "presumptive_treatment", "tb_treatment_dot",
    }),
    "nurse": frozenset({
        "vaccination_review", "tst", "pre_test_counselling", "post_test_counselling",
    }),
    "radiology": frozenset({"chest_xray", "chest_xray_lateral"}),
    "lab": frozenset({
        "igra", "sputum_smear", "sputum_culture", "tb_naat", "dst", "syphilis_serology",
        "gonorrhea_naat", "hiv_test", "hbv_test", "hcv_test", "urinalysis", "serum_creatinine",
        "pregnancy_test",
    }),
    "travel": frozenset({"pdms", "pec", "dhc", "medical_escort", "clearance", "export"}),
}  # fmt: skip

PERMISSION = {
    "physician": "exams:sign",
    "nurse": "exams:write",
    "radiology": "radiology:write",
    "lab": "labs:write",
    "travel": "travel:write",
}


def group_of(code: str) -> str:
    for name, codes in GROUPS.items():
        if code in codes:
            return name
    return "physician"


def permission_for(code: str) -> str:
    """The permission needed to record a result for, or move, a step with this code."""
    return PERMISSION[group_of(code)]


# Who works each list (pages and API alike).
WORKLIST_PERMISSION = {
    "physician": "exams:sign",
    "nurse": "exams:write",
    "radiology": "radiology:write",
    "lab": "labs:write",
}
