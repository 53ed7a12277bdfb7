"""Which CVX codes are live vaccines, and which of them interfere with each other and with TB tests.

Data, not logic: BRIEF §7.4 (CDSi live-virus conflict [C S34b]; contraindications [C S34]) and
§1.6 (US refugee programme: no live vaccine < 4 weeks before departure; TST/IGRA and other live
vaccines "varicella, OPV, MMR, MMRV" not for >= 28 days after one [C S15]). CVX names: §7.1.
"""

from __future__ import annotations

from pmha.vaccines.cdsi.data import normalise_cvx, supporting_data

# Live attenuated vaccines (pregnancy contraindication, departure window): BRIEF §7.1 codes of
# vaccines that are live (MMR family, varicella, OPV, BCG, yellow fever, oral typhoid, LAIV,
# live cholera, rotavirus).
LIVE: frozenset[str] = frozenset(
    {
        "03", "04", "05", "06", "07", "94",  # MMR, M/R, measles, rubella, mumps, MMRV
        "21",  # varicella
        "02", "178", "179", "182",  # OPV (trivalent, bivalent, monovalent, unspecified)
        "19",  # BCG
        "37",  # yellow fever
        "25",  # typhoid, oral (Ty21a)
        "149",  # influenza, live, intranasal
        "174",  # cholera, live attenuated
        "116", "119", "122",  # rotavirus (oral)
    }
)  # fmt: skip

# Live vaccines that must be given the same day as another of them or 28 days apart, and
# after which a TST/IGRA waits 28 days: the parenteral live vaccines of the CDSi conflict rule
# (BRIEF §7.4) and OPV, which the refugee programme lists with them (BRIEF §1.6).
INTERFERING: frozenset[str] = frozenset(
    {"03", "04", "05", "06", "07", "94", "21", "37", "02", "178", "179", "182"}
)

SPACING_DAYS = 28  # BRIEF §7.4: "a full 28 days"; §1.6 ">= 28 days"
DEPARTURE_DAYS = 28  # BRIEF §1.6: "not routinely given < 4 weeks before departure"
TB_TESTS = ("igra", "tst")  # BRIEF §7.4: same day as a live vaccine or >= 28 days after it


def antigens(cvx: str) -> frozenset[str]:
    """The antigens a CVX code covers, from CDC's CDSi supporting data (MMRV: measles, mumps,
    rubella, varicella); an unmapped code covers itself only."""
    found = supporting_data().cvx_codes.get(normalise_cvx(cvx))
    if found is None or not found.associations:
        return frozenset({f"CVX {cvx}"})
    return frozenset(a.antigen for a in found.associations)


def overlaps(first: str, second: str) -> bool:
    """Two doses of the same antigen on one day (MMR and MMRV, say) are one dose too many."""
    return first == second or bool(antigens(first) & antigens(second))


def is_live(cvx: str) -> bool:
    return cvx in LIVE


def interferes(cvx: str) -> bool:
    return cvx in INTERFERING
