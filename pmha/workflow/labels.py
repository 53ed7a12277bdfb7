"""The words the workflow pages use for codes, values, outcomes, blockers and moves."""

from __future__ import annotations

from pmha.workflow import clearance as cl
from pmha.workflow.models import StepState

LABELS = {
    "medical_history": "Medical history",
    "physical_exam": "Physical examination",
    "mental_health": "Mental health assessment",
    "vaccination_review": "Vaccination review",
    "chest_xray": "Chest X-ray",
    "chest_xray_lateral": "Chest X-ray, lateral view",
    "igra": "TB blood test (IGRA)",
    "tst": "TB skin test (TST)",
    "sputum_smear": "Sputum smears",
    "sputum_culture": "Sputum cultures",
    "tb_naat": "TB molecular test (NAAT)",
    "dst": "TB drug susceptibility test",
    "syphilis_serology": "Syphilis blood test",
    "gonorrhea_naat": "Gonorrhea test (NAAT)",
    "hiv_test": "HIV test",
    "pre_test_counselling": "HIV pre-test counselling",
    "post_test_counselling": "HIV post-test counselling",
    "hbv_test": "Hepatitis B test",
    "hcv_test": "Hepatitis C test",
    "urinalysis": "Urine test",
    "serum_creatinine": "Serum creatinine",
    "pregnancy_test": "Pregnancy test",
    "presumptive_treatment": "Presumptive parasite treatment",
    "specialist_referral": "Specialist referral",
    "tb_treatment_dot": "TB treatment under DOT",
    "pdms": "Pre-departure medical screening",
    "pec": "Pre-embarkation check",
    "dhc": "Departure health check",
    "medical_escort": "Medical escort",
    "clearance": "Clearance",
    "export": "Export to the destination",
}
OUTCOMES = {
    "tb_class": "TB classification",
    "syphilis": "Syphilis",
    "gonorrhea": "Gonorrhea",
    "tb_certificate": "UK TB certificate",
    "medical_surveillance": "Medical surveillance",
    "tb_undertaking": "Health undertaking",
    "exam_validity": "Exam validity",
    "vaccination": "Vaccination outcome",
    "plan": "Plan",
}
# A hold whose value needs its meaning said (the kind's label alone would claim it of everyone).
HOLD_WORDS = {
    ("vaccination", "class_a"): "Vaccination (a required vaccine refused, no waiver): Class A",
}
VALUES = {"suggestive_of_tb": "Suggestive of TB", "igra": "IGRA", "tst": "TST",
          "class_b2_ltbi": "Class B2 (LTBI)", "class_b3_contact": "Class B3 (contact)",
          "class_b1_pulmonary": "Class B1 (pulmonary)", "class_b0": "Class B0",
          "class_b1_extrapulmonary": "Class B1 (extrapulmonary)", "class_a": "Class A"}  # fmt: skip
# status -> (badge text, CSS modifier)
CLEARANCE = {
    cl.CLEARED: ("Cleared", "ok"),
    cl.WITH_CONDITIONS: ("Cleared with conditions", "ok"),
    cl.PENDING: ("Pending", "wait"),
    cl.TRAVEL_HOLD: ("Travel hold", "bad"),
    cl.NOT_CLEARED: ("Not cleared", "bad"),
    cl.EXPIRED: ("Expired", "bad"),
}
# target state -> (button text, what the flash says happened)
MOVES = {
    StepState.IN_PROGRESS: ("Start", "started"),
    StepState.PENDING: ("Reopen", "reopened"),
    StepState.WAIVED: ("Waive", "waived"),
    StepState.BLOCKED: ("Block", "blocked"),
    StepState.NOT_DONE: ("Mark not done", "marked not done"),
}
FACT_LABELS = {
    "exam_date": "Exam date",
    "tb_history": "Past TB disease",
    "tb_contact": "Close contact with TB in the past year",
    "tb_symptoms": "TB symptoms now",
    "known_hiv": "Known HIV infection",
    "extrapulmonary_tb": "Signs of extrapulmonary TB",
    "complex_condition": "Significant complex medical condition (screen again before travel)",
    "urgent_surveillance": "Urgent or complex non-infectious TB (Canada: report within 7 days)",
    "pregnant": "Pregnant",
    "gestation_weeks": "Weeks of gestation",
    "version": "Version",
}


def label(code: str) -> str:
    """'chest_xray' -> 'Chest X-ray'."""
    return LABELS.get(code) or code.replace("_", " ").capitalize()


def value_label(value: str) -> str:
    return VALUES.get(value) or value.replace("_", " ").capitalize()


def outcome_label(kind: str) -> str:
    return OUTCOMES.get(kind) or label(kind)


FACT_SHORT = {
    "exam_date": "exam date",
    "tb_history": "TB history",
    "tb_contact": "TB contact",
    "tb_symptoms": "TB symptoms",
    "known_hiv": "HIV status",
    "extrapulmonary_tb": "extrapulmonary TB signs",
    "complex_condition": "complex medical condition",
    "urgent_surveillance": "urgent TB surveillance",
    "pregnant": "pregnancy",
    "gestation_weeks": "gestation",
}


def awaited(codes: list[str] | tuple[str, ...]) -> str:
    """Codes a decision waits for, in words: facts first, then tests."""
    facts = [FACT_SHORT[c] for c in codes if c in FACT_SHORT]
    tests = [label(c) for c in codes if c not in FACT_SHORT and c != "results"]
    parts = []
    if facts:
        parts.append("the " + ", ".join(facts) + (" question" if len(facts) == 1 else " questions"))
    if tests:
        parts.append(", ".join(tests))
    return " and ".join(parts) or "results"  # the engine's own "awaiting results"


def blocker_groups(blockers: tuple[cl.Blocker, ...]) -> list[tuple[str, list[str]]]:
    """What blocks a clearance, grouped into a few lines a nurse reads at a glance."""
    holds: list[str] = []
    todo: list[str] = []
    blocked: list[str] = []
    maybe: list[str] = []
    waiting: list[str] = []
    members: list[str] = []
    for b in blockers:
        if b.kind == "step":
            if b.detail == "not done yet":
                todo.append(label(b.code))
            elif b.detail == "blocked":
                blocked.append(label(b.code))
            else:
                maybe.append(label(b.code))
        elif b.kind == "outcome" and b.detail.startswith("awaiting "):
            codes = [c.strip() for c in b.detail.removeprefix("awaiting ").split(",")]
            waiting.append(f"{outcome_label(b.code)} (needs {awaited(codes)})")
        elif b.kind == "outcome":
            value = b.detail.replace(" ", "_")
            words = HOLD_WORDS.get((b.code, value))
            holds.append(words or f"{outcome_label(b.code)}: {value_label(value)}")
        elif b.kind == "member":
            status = b.detail.replace(" ", "_")  # clearance.py spaces the status code
            members.append(f"{b.code}: {CLEARANCE.get(status, (b.detail,))[0]}")
        else:
            holds.append(b.detail[:1].upper() + b.detail[1:])
    groups = [
        ("Holds travel", holds),
        ("Travellers not cleared", members),
        ("Still to do", todo),
        ("Blocked", blocked),
        ("May still be needed", maybe),
        ("Decisions waiting", waiting),
    ]
    return [(title, items) for title, items in groups if items]


def move_names(states: list[str]) -> str:
    names = [MOVES[StepState(s)][0].lower() for s in states if StepState(s) in MOVES]
    return ", ".join(names) if names else "none (record a new result instead)"
