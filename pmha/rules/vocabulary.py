"""The codes rule files and facts may use (VOCABULARY.md), and what a result of each can be."""

from __future__ import annotations

from dataclasses import dataclass

DESTINATIONS = frozenset({"US", "CA", "AU", "NZ", "GB"})
PROGRAMMES = frozenset(
    {"immigrant", "refugee", "humanitarian", "temporary", "student", "family_reunification"}
)
SEXES = frozenset({"female", "male", "unknown"})

# Plan statuses, strongest first where several rules speak about one requirement.
REQUIRED = "required"
CONDITIONAL = "conditional"
NOT_REQUIRED = "not_required"
DONE = "done"
WAIVED = "waived"
BLOCKED = "blocked"
# Settled by the declared alternative route of the rule in force (e.g. GB: three sputum
# specimens with negative cultures instead of the chest X-ray of a pregnant applicant [S26b]).
ALTERNATIVE = "alternative"
STATUSES = (REQUIRED, CONDITIONAL, NOT_REQUIRED, DONE, WAIVED, BLOCKED, ALTERNATIVE)
RULE_STATUSES = frozenset({REQUIRED, CONDITIONAL})

WAIVER_REASONS = frozenset(
    {
        "not_age_appropriate",
        "contraindicated",
        "insufficient_interval",
        "not_routinely_available",
        "not_flu_season",
        "refused",
        "religious_or_moral_waiver",
        "evidence_of_immunity",
        "authority_waiver",
    }
)

# The blanket vaccine waivers ("not medically appropriate" [S13a, S13d, S13e]), evidence of
# immunity and the religious/moral waiver [S13d]: for vaccines and the vaccination review only.
# `refused` stays in WAIVER_REASONS for the vaccine records; a refused TEST is not a waiver.
VACCINE_WAIVER_REASONS = frozenset(WAIVER_REASONS - {"refused", "authority_waiver"})
# What a rule file may allow for a requirement other than the vaccination review: the receiving
# authority's own waiver (e.g. an Australian case officer [S29b]), with the source that says so.
TEST_WAIVER_REASONS = frozenset({"authority_waiver"})

# Screening tests: none may be waived unless the rule's own source says so (`pmha rules check`).
SCREENING_TESTS = frozenset(
    {
        "chest_xray",
        "chest_xray_lateral",
        "igra",
        "tst",
        "sputum_smear",
        "sputum_culture",
        "tb_naat",
        "dst",
        "syphilis_serology",
        "gonorrhea_naat",
        "hiv_test",
        "hbv_test",
        "hcv_test",
        "urinalysis",
        "serum_creatinine",
        "pregnancy_test",
    }
)

# Why a step was not done (country_rules/VOCABULARY-local.md). A step not done never clears.
NOT_DONE_REASONS: dict[str, str] = {
    "under_age_limit": "The applicant is under the age limit for this test",
    "pregnant_deferring": "Pregnant, and deferring the test until after delivery",
    "declined": "The applicant declined the test",
    "clinically_contraindicated": "Clinically contraindicated",
    "not_available": "The test is not available",
}

WAIVER_WORDS: dict[str, str] = {
    "not_age_appropriate": "Not age-appropriate",
    "contraindicated": "Contraindicated",
    "insufficient_interval": "Insufficient time interval",
    "not_routinely_available": "Not routinely available",
    "not_flu_season": "Not the influenza season",
    "refused": "Refused",
    "religious_or_moral_waiver": "Religious or moral waiver",
    "evidence_of_immunity": "Evidence of immunity",
    "authority_waiver": "Waived by the receiving authority",
}

_POS_NEG = ("positive", "negative")
_TB_OUTCOMES = (
    "cured",
    "treatment_completed",
    "treatment_failed",
    "lost_to_follow_up",
    "died",
    "not_evaluated",
)
_CXR = ("normal", "suggestive_of_tb", "other_abnormality")
_DONE = ("completed", "normal", "abnormal")

# Requirement code -> the values its result may take. None: a number (e.g. TST induration, mm).
RESULT_VALUES: dict[str, tuple[str, ...] | None] = {
    "medical_history": _DONE,
    "physical_exam": _DONE,
    "mental_health": _DONE,
    # `class_a`: completed with a required vaccine refused and no waiver, where the destination's
    # [vaccination] policy makes that Class A [S13f]; the review is done, the outcome holds.
    "vaccination_review": ("completed", "class_a"),
    "chest_xray": _CXR,
    "chest_xray_lateral": _CXR,
    "igra": ("positive", "negative", "indeterminate"),
    "tst": None,
    "sputum_smear": ("positive", "negative", "inconclusive"),
    "sputum_culture": ("positive", "negative", "inconclusive"),
    "tb_naat": ("positive", "negative", "inconclusive"),
    "dst": ("susceptible", "resistant"),
    "syphilis_serology": ("non_reactive", "reactive", "reactive_previously_treated"),
    "gonorrhea_naat": _POS_NEG,
    "hiv_test": ("positive", "negative", "indeterminate"),
    "pre_test_counselling": ("completed",),
    "post_test_counselling": ("completed",),
    "hbv_test": _POS_NEG,
    "hcv_test": _POS_NEG,
    "urinalysis": ("normal", "abnormal"),
    "serum_creatinine": ("normal", "abnormal"),
    "pregnancy_test": _POS_NEG,
    "presumptive_treatment": ("given", "not_given"),
    "specialist_referral": ("completed",),
    "tb_treatment_dot": _TB_OUTCOMES,
    "pdms": ("completed",),
    "pec": (
        "fit",
        "fit_with_conditions",
        "fit_with_escort",
        "fit_with_medical_escort",
        "unfit",
        "deferred",
    ),
    "dhc": ("completed",),
    "medical_escort": ("completed",),
    "clearance": ("completed",),
    "export": ("completed",),
}
REQUIREMENT_CODES = frozenset(RESULT_VALUES)

# CDSi antigen names (../cdsi/supporting-data) that a rule file may require by vaccine.
VACCINES = frozenset(
    {
        "COVID-19",
        "Diphtheria",
        "Tetanus",
        "Pertussis",
        "Polio",
        "Measles",
        "Mumps",
        "Rubella",
        "Rotavirus",
        "Hib",
        "HepA",
        "HepB",
        "Meningococcal",
        "Varicella",
        "Pneumococcal",
        "Influenza",
    }
)


@dataclass(frozen=True, slots=True)
class OutcomeKind:
    values: frozenset[str]
    default: str | None
    multiple: bool = False


_CLASS = frozenset({"class_a", "class_b", "none"})
OUTCOME_KINDS: dict[str, OutcomeKind] = {
    "tb_class": OutcomeKind(
        frozenset(
            {
                "none",
                "class_a",
                "class_a_waiver",
                "class_b0",
                "class_b1_pulmonary",
                "class_b1_extrapulmonary",
                "class_b2_ltbi",
                "class_b3_contact",
            }
        ),
        default="none",
        multiple=True,
    ),
    "syphilis": OutcomeKind(_CLASS, default="none"),
    "gonorrhea": OutcomeKind(_CLASS, default="none"),
    "tb_certificate": OutcomeKind(frozenset({"issued", "not_issued"}), default=None),
    "medical_surveillance": OutcomeKind(
        frozenset({"medical_surveillance", "none"}), default="none"
    ),
    "tb_undertaking": OutcomeKind(
        frozenset({"health_undertaking", "deferred_until_treated", "none"}), default="none"
    ),
    "exam_validity": OutcomeKind(frozenset({"valid"}), default=None),
    # A required vaccine refused without waiver (US: Class A, vaccination [S13f]; issue 15).
    "vaccination": OutcomeKind(frozenset({"class_a", "none"}), default="none"),
}
CERTIFICATE_REASONS = frozenset({"confirmed_or_suspected_tb", "testing_postponed", "withdrawn"})


def reassuring(code: str) -> str:
    """The result of a test that raises no concern (normal, negative, non-reactive, completed,
    given; a TST of 3 mm): what the demos record for a well applicant."""
    allowed = RESULT_VALUES[code]
    if allowed is None:
        return "3"  # TST induration, mm
    good = ("normal", "negative", "non_reactive", "completed", "given")
    return next((v for v in good if v in allowed), allowed[0])
