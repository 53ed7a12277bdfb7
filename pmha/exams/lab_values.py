"""What a lab result's values say: interpretations derived from the values, never typed.

Pure (no Flask, no database): functions from values (and the applicant's clinical facts) to an
interpretation, with the words a clinician reads. The cut-offs live in
country_rules/labs/assays.toml with their sources; the syphilis reverse algorithm (BRIEF 1.4,
[S12c]) is the logic itself. A `Contradiction` is values that cannot all be true; a derivation
whose `value` is None needs a physician's review (nothing follows from the values alone).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmha.config import PROJECT_ROOT

ASSAYS_FILE = PROJECT_ROOT / "country_rules" / "labs" / "assays.toml"
DERIVED_CODES = frozenset({"syphilis_serology", "igra", "tst"})
NEEDS_REVIEW = "needs_review"


class Contradiction(Exception):
    """Values that cannot all be true: field -> what is wrong, in words."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


class Incomplete(Contradiction):
    """Values missing that the interpretation needs (not a contradiction: nothing disagrees)."""


@dataclass(frozen=True, slots=True)
class Derived:
    value: str | None  # None: the values settle nothing on their own; a physician reviews
    why: str


@dataclass(frozen=True, slots=True)
class Criterion:
    fact: str
    words: str
    at_least_mm: float


@dataclass(frozen=True, slots=True)
class TstCutoffs:
    default_mm: float
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True, slots=True)
class Assay:
    name: str
    unit: str
    antigens: tuple[str, ...]
    positive_at_least: float
    positive_fraction_of_nil: float
    negative_below: float
    nil_at_most: float
    mitogen_at_least: float
    mitogen_minus_nil: bool


@dataclass(frozen=True, slots=True)
class Catalogue:
    tst: TstCutoffs
    assays: Mapping[str, Assay]


def load(path: Path) -> Catalogue:
    """Read the cut-offs file (a missing key is an error: no silent default for a cut-off)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sources = set(data["sources"])
    cited = [data["tst"], *data["tst"].get("criterion", []), *data["igra"]]
    unknown = sorted({s for entry in cited for s in entry["source"]} - sources)
    if unknown:
        raise ValueError(f"{path.name}: sources not listed: {', '.join(unknown)}")
    tst = TstCutoffs(
        float(data["tst"]["default_mm"]),
        tuple(
            Criterion(c["fact"], c["words"], float(c["at_least_mm"]))
            for c in data["tst"].get("criterion", [])
        ),
    )
    assays = {
        a["assay"]: Assay(
            a["assay"],
            a["unit"],
            tuple(a["antigens"]),
            float(a["positive_at_least"]),
            float(a["positive_fraction_of_nil"]),
            float(a["negative_below"]),
            float(a["nil_at_most"]),
            float(a["mitogen_at_least"]),
            bool(a["mitogen_minus_nil"]),
        )
        for a in data["igra"]
    }
    return Catalogue(tst, assays)


@functools.cache
def catalogue() -> Catalogue:
    """The centre's cut-offs (read once)."""
    return load(ASSAYS_FILE)


def _titre_dilution(titre: str) -> int:
    """1:8 -> 8; anything not written as 1:N (8, 1/8, 1:x) -> 0, which is refused in words."""
    one, sep, dilution = titre.strip().partition(":")
    if not sep or one.strip() != "1" or not dilution.strip().isdigit():
        return 0
    return int(dilution)


def syphilis(details: Mapping[str, Any]) -> Derived:
    """Reverse algorithm (BRIEF 1.4 [S12c]): treponemal first; if reactive, non-treponemal with
    its titre; reactive treponemal with a non-reactive non-treponemal needs a second treponemal
    test, then documented past treatment decides."""
    trep, non_trep = details.get("treponemal"), details.get("non_treponemal")
    titre, second = details.get("titre"), details.get("second_treponemal")
    treated = details.get("treatment_documented")
    if titre and non_trep != "reactive":
        raise Contradiction(
            {
                "titre": [
                    "A titre is measured only on a reactive non-treponemal test (RPR or VDRL): "
                    "the non-treponemal test here is "
                    + ("non-reactive." if non_trep == "non_reactive" else "not given.")
                ]
            }
        )
    if titre and _titre_dilution(str(titre)) < 1:
        raise Contradiction({"titre": ["Write a titre as 1:1 or more (e.g. 1:8)."]})
    if trep is None:
        raise Incomplete({"treponemal": ["Give the treponemal test result."]})
    if trep == "non_reactive":
        if second is not None:
            raise Contradiction(
                {
                    "second_treponemal": [
                        "A second treponemal test is done only after a reactive first one."
                    ]
                }
            )
        if non_trep == "reactive":
            return Derived(
                None,
                "A reactive non-treponemal test with a non-reactive treponemal test: "
                "possibly a false positive, for the physician to review.",
            )
        return Derived("non_reactive", "Treponemal test non-reactive.")
    if non_trep is None:
        raise Incomplete(
            {
                "non_treponemal": [
                    "The treponemal test is reactive: give the non-treponemal test (RPR or VDRL)."
                ]
            }
        )
    if non_trep == "reactive":
        if not titre:
            raise Incomplete(
                {"titre": ["The non-treponemal test is reactive: give its titre (e.g. 1:8)."]}
            )
        if second is not None:
            raise Contradiction(
                {
                    "second_treponemal": [
                        "A second treponemal test follows a non-reactive non-treponemal test "
                        "only; here both tests are reactive."
                    ]
                }
            )
        return Derived("reactive", f"Both tests reactive, titre {titre}.")
    if second is None:
        raise Incomplete(
            {
                "second_treponemal": [
                    "Treponemal reactive, non-treponemal non-reactive: give the second "
                    "treponemal test (e.g. TP-PA)."
                ]
            }
        )
    if second == "non_reactive":
        return Derived(
            None,
            "The two treponemal tests disagree: for the physician to review.",
        )
    if treated is True:
        return Derived(
            "reactive_previously_treated",
            "Both treponemal tests reactive, non-treponemal non-reactive, past treatment "
            "documented: a previous, treated infection.",
        )
    return Derived(
        "reactive",
        "Both treponemal tests reactive, non-treponemal non-reactive, no documented treatment.",
    )


def tst(mm: float, facts: Mapping[str, bool | None], cut: TstCutoffs) -> Derived:
    """Positive at or above the cut-off of the first risk criterion the applicant meets, else
    the default (BRIEF 1.2-1.3: 10 mm; contacts 5 mm [C S8, S6])."""
    for criterion in cut.criteria:
        if facts.get(criterion.fact) is True:
            limit, who = criterion.at_least_mm, criterion.words
            break
    else:
        limit, who = cut.default_mm, "this applicant"
    value = "positive" if mm >= limit else "negative"
    unknown = [c.words for c in cut.criteria if facts.get(c.fact) is None]
    note = (
        f" (not yet known whether {', '.join(unknown)})"
        if unknown and who == "this applicant"
        else ""
    )
    return Derived(value, f"{mm:g} mm against {limit:g} mm for {who}{note}.")


def igra(details: Mapping[str, Any], assays: Mapping[str, Assay]) -> Derived:
    """Per the assay's cut-offs (country_rules/labs/assays.toml)."""
    name = details.get("assay")
    if name not in assays:
        raise Incomplete({"assay": [f"Choose the assay: {', '.join(assays)}."]})
    assay = assays[str(name)]
    needed = ["nil", *assay.antigens, "mitogen"]
    missing = [k for k in needed if details.get(k) is None]
    if missing:
        raise Incomplete(
            {k: [f"Give the {k.replace('_', ' ')} value ({assay.unit})."] for k in missing}
        )
    unit = assay.unit
    nil, mitogen = float(details["nil"]), float(details["mitogen"])
    for k in ("tb1", "tb2", "panel_a", "panel_b"):
        if k not in assay.antigens and details.get(k) is not None:
            raise Contradiction({k: [f"{assay.name} has no {k.replace('_', ' ')} value."]})
    if nil > assay.nil_at_most:
        return Derived(
            "indeterminate", f"Nil {nil:g} {unit} is above {assay.nil_at_most:g} {unit}."
        )
    # rounded: 0.45 - 0.1 must be 0.35 exactly at the cut-off, not 0.35000000000000003
    responses = {k: round(float(details[k]) - nil, 6) for k in assay.antigens}
    for k, r in responses.items():
        if r >= assay.positive_at_least and r >= assay.positive_fraction_of_nil * nil:
            return Derived(
                "positive",
                f"{k.replace('_', ' ').upper()} minus nil {r:g} {unit}, at or above "
                f"{assay.positive_at_least:g} {unit}"
                + (
                    f" and {assay.positive_fraction_of_nil:.0%} of nil."
                    if assay.positive_fraction_of_nil
                    else "."
                ),
            )
    control = round(mitogen - nil, 6) if assay.mitogen_minus_nil else mitogen
    if control < assay.mitogen_at_least:
        return Derived(
            "indeterminate",
            f"Mitogen{' minus nil' if assay.mitogen_minus_nil else ''} {control:g} {unit} is "
            f"below {assay.mitogen_at_least:g} {unit}: the control did not answer.",
        )
    fraction = assay.positive_fraction_of_nil * nil
    if all(r < assay.negative_below or r < fraction for r in responses.values()):
        return Derived(
            "negative", f"Every antigen minus nil below {assay.negative_below:g} {unit}."
        )
    return Derived(
        "indeterminate",
        f"An antigen response between {assay.negative_below:g} and "
        f"{assay.positive_at_least:g} {unit}: borderline.",
    )


def derive(
    code: str, value: str, details: Mapping[str, Any], facts: Mapping[str, bool | None]
) -> Derived | None:
    """The interpretation the values give, or None for a test whose value is typed."""
    if code == "syphilis_serology":
        return syphilis(details)
    if code == "igra":
        return igra(details, catalogue().assays)
    if code == "tst":
        return tst(float(value), facts, catalogue().tst)
    return None
