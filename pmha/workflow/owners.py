"""Which record owns each requirement's result: one record per fact.

A requirement listed here is settled only by its own record (a signed exam section, a lab
result, an X-ray reading, a closed TB treatment episode, a fitness-to-travel check). The owning
service records the workflow result with `owner=True` and names the record (`source`); the
workflow page and API refuse a free result for it and link to the record instead.

Requirements NOT listed keep the workflow's generic result form, each for a reason:
- pre_test_counselling, post_test_counselling: HIV test counselling has no record of its own
  (the HIV result carries the pre-test counselling date; the exam record's counselling section
  is health education): the nurse's "completed" is the record.
- presumptive_treatment: the travel treatment record (pmha.travel.handover.record_treatment)
  is written through the API only (no page form yet) and does not feed the plan; until both
  exist, the form remains.
- medical_escort: the escort arrangement (pmha.travel.checks.set_escort) is a plan for the
  journey, not a completed escort; the form records that the escort was completed.
- clearance, export: the end of the journey; the clearance decision and the export job are
  kept by their own services, which do not yet settle these steps.
- chest_xray_lateral: the reading records the PA view's decision only (radiology.read).
This is how the centre divides its records, not a clinical rule: it lives in code.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmha.workflow.roles import GROUPS

# Every laboratory test, the TST included (a nurse places and reads it, on a lab order).
LAB_CODES = GROUPS["lab"] | {"tst"}


@dataclass(frozen=True, slots=True)
class Owner:
    """The record that owns a requirement's result, in words, and the page to record it on."""

    kind: str  # the source kind kept on StepResult
    record: str  # what the record is called ("the lab result")
    where: str  # where to record it, in words
    page: str  # the endpoint of the page it is recorded on
    permission: str  # who may open that page
    link: str  # the link's words on the workflow page


_SECTION = Owner(
    "exam_section", "the signed exam section", "on the applicant's exam record",
    "exams.record", "exams:read", "Sign it on the exam record",
)  # fmt: skip
_LAB = Owner(
    "lab_result", "the lab result", "on the applicant's Labs tab, against the test's order",
    "exams.labs", "labs:read", "Order and result on the Labs tab",
)  # fmt: skip
_XRAY = Owner(
    "xray_reading", "the chest X-ray reading", "by the radiologist's reading of the X-ray",
    "exams.xrays", "radiology:read", "Read on the X-rays page",
)  # fmt: skip
_TB = Owner(
    "tb_episode", "the closed treatment episode",
    "by closing the treatment episode on the applicant's TB page", "tb_dot.applicant",
    "tb_dot:read", "Doses and outcome on the TB page",
)  # fmt: skip
_REVIEW = Owner(
    "vaccination_review", "the vaccination review",
    "on the applicant's Vaccinations tab, once every required vaccine is given, documented or "
    "waived", "vaccines.applicant", "vaccines:read", "Complete it on the Vaccinations tab",
)  # fmt: skip
_CHECK = Owner(
    "fitness_check", "the fitness-to-travel check",
    "on the traveller's page of their departure (vital signs, findings and outcome)",
    "travel.traveller", "clearance:read", "Record the check on the traveller page",
)  # fmt: skip

OWNERS: dict[str, Owner] = {
    "medical_history": _SECTION,
    "physical_exam": _SECTION,
    "mental_health": _SECTION,
    "specialist_referral": _SECTION,
    **dict.fromkeys(sorted(LAB_CODES), _LAB),
    "chest_xray": _XRAY,
    "vaccination_review": _REVIEW,
    "tb_treatment_dot": _TB,
    "pdms": _CHECK,
    "pec": _CHECK,
    "dhc": _CHECK,
}
SOURCE_KINDS = frozenset(o.kind for o in OWNERS.values())


def where_recorded(code: str) -> str | None:
    """Where a requirement's result is recorded, in words (None: by a result on the workflow)."""
    owner = OWNERS.get(code)
    return f"{owner.record}, {owner.where}" if owner else None


def refusal(code: str, label: str) -> str:
    """Why a free result is refused for this requirement, naming where to record it."""
    owner = OWNERS[code]
    return (
        f"{label}: the result comes only from {owner.record}; record it {owner.where}. "
        "It cannot be typed on the workflow page."
    )
