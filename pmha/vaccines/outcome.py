"""The vaccination outcome of one applicant, with its trace (pure).

From the requirements (pmha.vaccines.requirements) and the destination's `[vaccination]` policy
(pmha.rules.model.VaccinationPolicy), each vaccine the destination lists ends in one state:

- `given`: a valid dose given at this exam; `documented`: a valid dose on the applicant's
  papers, or evidence of immunity, or the series complete (either may carry the waiver of the
  rest of the series, insufficient interval: one dose meets the requirement [S13a]);
- `blanket_waiver`: "not medically appropriate", derived by the engine, never asked for: not age
  appropriate, insufficient interval, contraindicated, not flu season, not routinely available
  [S13a, S13e];
- `individual_waiver`: a waiver the authority granted the applicant (religious or moral
  conviction, on USCIS's own form [S13d]), accepted only where the policy names that route;
- `refused`: the applicant refused it and no waiver covers it. A refusal is never a waiver;
- `open`: still to give, due later, or waiting for a fact;
- `not_required`: the destination does not require it of this applicant.

The overall value:
- `not_applicable`: no vaccine is required of this applicant (e.g. a US refugee [S10, S15d]);
- `open`: something other than a refusal is still to settle, or a refusal the destination's file
  does not say what to do with (when unsure, hold and say why);
- `class_a`: every vaccine settled but one or more refused without waiver, where the policy says
  a refusal is Class A (US [S13f]);
- `refused`: the same where the policy records the refusal without holding travel (Australia's
  voluntary DHC MMR [S29f]);
- `complete`: every required vaccine given, documented or waived.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pmha.rules.model import VaccinationPolicy
from pmha.vaccines.cdsi.model import IMMUNE
from pmha.vaccines.requirements import (
    CONDITIONAL,
    DONE,
    DUE_NOW,
    GIVE_TODAY,
    NOT_REQUIRED,
    REFUSED,
    WAIVED,
    VaccineRequirement,
)

GIVEN = "given"
DOCUMENTED = "documented"
BLANKET_WAIVER = "blanket_waiver"
INDIVIDUAL_WAIVER = "individual_waiver"
OPEN = "open"
STATES = (GIVEN, DOCUMENTED, BLANKET_WAIVER, INDIVIDUAL_WAIVER, REFUSED, OPEN, NOT_REQUIRED)

COMPLETE = "complete"
CLASS_A = "class_a"
NOT_APPLICABLE = "not_applicable"
OUTCOMES = (COMPLETE, OPEN, CLASS_A, REFUSED, NOT_APPLICABLE)

# The blanket waivers the engine derives ("not medically appropriate" [S13a]), in a nurse's words.
BLANKET_WAIVERS = {
    "not_age_appropriate": "Not age appropriate",
    "insufficient_interval": "Insufficient time since the last dose",
    "contraindicated": "Contraindicated (not medically safe to give now)",
    "not_flu_season": "Not flu season",
    "not_routinely_available": "Not routinely available in this country",
}
INDIVIDUAL_WAIVERS = {"religious_or_moral_waiver": "Religious or moral waiver"}
# Waivers that settle a vaccine but are neither blanket nor individual: immunity on record.
DOCUMENTED_WAIVERS = frozenset({"evidence_of_immunity"})

STATE_WORDS = {
    GIVEN: "Given today",
    DOCUMENTED: "Documented",
    BLANKET_WAIVER: "Waived",
    INDIVIDUAL_WAIVER: "Waived (individual waiver)",
    REFUSED: "Refused (not a waiver)",
    OPEN: "Still to settle",
    NOT_REQUIRED: "Not required",
}
OUTCOME_WORDS = {
    COMPLETE: "Complete: every required vaccine is given, documented or waived",
    OPEN: "Not finished: some vaccines are still to give or decide",
    CLASS_A: (
        "A required vaccine was refused and no waiver covers it: Class A (vaccination). "
        "This holds travel until the applicant is vaccinated or a waiver is granted"
    ),
    REFUSED: "A vaccine was refused: recorded; it does not hold travel for this destination",
    NOT_APPLICABLE: "No vaccine is required of this applicant",
}
_OPEN_WORDS = {
    GIVE_TODAY: "to give today",
    DUE_NOW: "due, but not before",
    CONDITIONAL: "waiting for a fact (e.g. pregnancy)",
}


@dataclass(frozen=True, slots=True)
class VaccineOutcome:
    vaccine: str
    state: str  # one of STATES
    waiver: str | None  # the waiver reason when the state is a waiver
    words: str  # what it means, in a nurse's words (no codes)


@dataclass(frozen=True, slots=True)
class VaccinationOutcome:
    value: str  # one of OUTCOMES
    vaccines: tuple[VaccineOutcome, ...]
    trace: tuple[str, ...]  # why, one line per step, for the CLI and the audit

    @property
    def words(self) -> str:
        return OUTCOME_WORDS[self.value]

    @property
    def refused(self) -> tuple[str, ...]:
        return tuple(v.vaccine for v in self.vaccines if v.state == REFUSED)

    @property
    def open(self) -> tuple[str, ...]:
        return tuple(v.vaccine for v in self.vaccines if v.state == OPEN)

    @property
    def blanket_waivers(self) -> tuple[VaccineOutcome, ...]:
        return tuple(v for v in self.vaccines if v.state == BLANKET_WAIVER)

    @property
    def completable(self) -> bool:
        """The review may be completed: nothing left but refusals the policy decides."""
        return self.value in (COMPLETE, CLASS_A, REFUSED)

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.value,
            "words": self.words,
            "vaccines": [
                {"vaccine": v.vaccine, "state": v.state, "waiver": v.waiver, "words": v.words}
                for v in self.vaccines
            ],
            "trace": list(self.trace),
        }


def vaccine_outcome(req: VaccineRequirement, given: Collection[str] = ()) -> VaccineOutcome:
    """One requirement's state and its words. `given`: the vaccines with a dose given at this
    exam (the rest of the valid doses are documented)."""
    name = req.vaccine
    if req.status == DONE:
        if req.cdsi_status == IMMUNE:
            return VaccineOutcome(name, DOCUMENTED, None, "Documented: evidence of immunity")
        if name in given:
            return VaccineOutcome(name, GIVEN, None, "Given: a valid dose given at this exam")
        return VaccineOutcome(name, DOCUMENTED, None, "Documented: a valid dose on record")
    if req.status == WAIVED and req.waiver == "insufficient_interval" and req.valid_doses:
        # One valid dose meets the requirement; the rest of the series is waived [S13a].
        state, words = (
            (GIVEN, "Given: a valid dose given at this exam")
            if name in given
            else (DOCUMENTED, "Documented: a valid dose on record")
        )
        return VaccineOutcome(
            name,
            state,
            req.waiver,
            f"{words}; the next dose is waived (insufficient time since the last dose)",
        )
    if req.status == WAIVED:
        waiver = req.waiver or ""
        if waiver in BLANKET_WAIVERS:
            return VaccineOutcome(
                name, BLANKET_WAIVER, waiver, f"Waived: {BLANKET_WAIVERS[waiver].lower()}"
            )
        if waiver in INDIVIDUAL_WAIVERS:
            return VaccineOutcome(
                name, INDIVIDUAL_WAIVER, waiver, f"Waived: {INDIVIDUAL_WAIVERS[waiver].lower()}"
            )
        if waiver in DOCUMENTED_WAIVERS:
            return VaccineOutcome(name, DOCUMENTED, None, "Documented: evidence of immunity")
        return VaccineOutcome(name, OPEN, waiver, "A waiver this page does not know: check it")
    if req.status == REFUSED:
        day = f" on {req.refused_on.strftime('%-d %B %Y')}" if req.refused_on else ""
        return VaccineOutcome(name, REFUSED, None, f"Refused by the applicant{day} (not a waiver)")
    if req.status == NOT_REQUIRED:
        return VaccineOutcome(name, NOT_REQUIRED, None, "Not required of this applicant")
    words = _OPEN_WORDS.get(req.status, "still to settle")
    if req.status == DUE_NOW and req.earliest is not None:
        words = f"due, not before {req.earliest.strftime('%-d %B %Y')}"
    return VaccineOutcome(name, OPEN, None, words[:1].upper() + words[1:])


def vaccination_outcome(
    reqs: Sequence[VaccineRequirement],
    policy: VaccinationPolicy | None,
    *,
    given: Collection[str] = (),
) -> VaccinationOutcome:
    """The applicant's vaccination outcome under the destination's policy, with its trace."""
    vaccines = tuple(vaccine_outcome(r, given) for r in reqs)
    trace: list[str] = [f"{v.vaccine}: {v.words}" for v in vaccines]
    accepted = policy.individual_waiver if policy is not None else None
    checked: list[VaccineOutcome] = []
    for v in vaccines:
        if v.state == INDIVIDUAL_WAIVER and v.waiver != accepted:
            # Not a route this destination offers: it settles nothing (hold and say why).
            trace.append(f"{v.vaccine}: this destination's rules name no such individual waiver")
            v = VaccineOutcome(v.vaccine, OPEN, v.waiver, "Waiver not accepted here: check it")
        checked.append(v)
    vaccines = tuple(checked)
    if all(v.state == NOT_REQUIRED for v in vaccines):
        trace.append("no vaccine is required of this applicant")
        return VaccinationOutcome(NOT_APPLICABLE, vaccines, tuple(trace))
    if any(v.state == OPEN for v in vaccines):
        trace.append("open: " + ", ".join(v.vaccine for v in vaccines if v.state == OPEN))
        return VaccinationOutcome(OPEN, vaccines, tuple(trace))
    refused = [v.vaccine for v in vaccines if v.state == REFUSED]
    if not refused:
        return VaccinationOutcome(COMPLETE, vaccines, tuple(trace))
    if policy is None:
        trace.append("refused, and the destination's rules say nothing about refusals: hold")
        return VaccinationOutcome(OPEN, vaccines, tuple(trace))
    if policy.refusal_outcome == CLASS_A:
        trace.append(
            f"refused without waiver ({', '.join(refused)}): Class A under the destination's "
            f"policy [{', '.join(policy.source)}]"
        )
        return VaccinationOutcome(CLASS_A, vaccines, tuple(trace))
    trace.append(
        f"refused ({', '.join(refused)}): recorded, travel not held under the destination's "
        f"policy [{', '.join(policy.source)}]"
    )
    return VaccinationOutcome(REFUSED, vaccines, tuple(trace))


def season_note(req: VaccineRequirement) -> str | None:
    """For influenza when CDSi's seasonal data disagrees with the rule file's season: a note
    that the destination's season decides here (None otherwise)."""
    if req.vaccine != "Influenza" or "seasonal" not in (req.cdsi_reason or "").lower():
        return None
    return (
        "Follow this row, not the CDSi forecast below: its influenza dates differ from the "
        "destination's influenza season for this country, which decides here."
    )
