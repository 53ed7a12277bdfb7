"""The fitness-to-travel suggestion and the `[travel]` tables, one row per rule.

Sources: BRIEF 5.1 (outcome vocabulary, IOM practice [U]); 5.2 (pregnancy: single pregnancy no
travel after week 36, multiple after week 32, certificate from week 28, airlines differ: make it
configurable [U]; newborns under 7 days [S32h]); 5.3 (infectious disease and heavy fever: not fit
[S32f, S32j]; oxygen pre-arranged [S32k]); 1.6 (presumptive treatment [S16, S17]).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pmha.rules.cli import DEFAULT_DIR
from pmha.rules.dates import Age
from pmha.travel.policy import Carrier, Findings, load_policies, suggest

IATA = Carrier("XX", "Test Air", 36, 32, 28, True, 38.0, 7, True)
STRICT = Carrier("YY", "Strict Air", 32, 28, 26, True, 37.5, 14, True)


@pytest.mark.parametrize(
    ("findings", "carrier", "outcome", "reason"),
    [
        (Findings(), IATA, "fit", None),
        # 5.3: infectious disease is unfit; a fever defers (re-check)
        (Findings(symptoms=("rash",)), IATA, "unfit", "communicable"),
        (Findings(temperature_c=38.4), IATA, "deferred", "temperature"),
        (Findings(temperature_c=37.7), IATA, "fit", None),
        (Findings(temperature_c=37.7), STRICT, "deferred", "temperature"),
        (Findings(symptoms=("fever",)), IATA, "deferred", "fever"),
        # 5.2: pregnancy limits, per carrier
        (Findings(pregnancy_weeks=27), IATA, "fit", None),
        (Findings(pregnancy_weeks=28), IATA, "fit_with_conditions", "certificate"),
        (Findings(pregnancy_weeks=36), IATA, "fit_with_conditions", "certificate"),
        (Findings(pregnancy_weeks=37), IATA, "unfit", "single pregnancy past week 36"),
        (Findings(pregnancy_weeks=32, pregnancy_multiple=True), IATA, "fit_with_conditions", None),
        (Findings(pregnancy_weeks=33, pregnancy_multiple=True), IATA, "unfit", "multiple"),
        (Findings(pregnancy_weeks=33), STRICT, "unfit", "past week 32"),
        (Findings(pregnancy_weeks=26), STRICT, "fit_with_conditions", "certificate"),
        # 5.2: newborns
        (Findings(age_days=5), IATA, "unfit", "newborn under 7 days"),
        (Findings(age_days=10), IATA, "fit", None),
        (Findings(age_days=10), STRICT, "unfit", "newborn under 14 days"),
        # 5.1: mobility, oxygen, mental state, escorts
        (Findings(mobility="WCHR"), IATA, "fit_with_conditions", "WCHR"),
        (Findings(mobility="WCHS"), IATA, "fit_with_conditions", "WCHS"),
        (Findings(mobility="WCHC"), IATA, "fit_with_escort", "WCHC"),
        (Findings(mobility="stretcher"), IATA, "fit_with_medical_escort", "stretcher"),
        (Findings(oxygen=True), IATA, "fit_with_conditions", "oxygen"),
        (Findings(mental_state="needs_support"), IATA, "fit_with_medical_escort", "mental"),
        (Findings(mental_state="acute"), IATA, "unfit", "psychosis"),
        # the worst finding wins, every reason is kept
        (Findings(mobility="WCHR", symptoms=("cough",)), IATA, "unfit", "wheelchair"),
    ],
)
def test_suggestion(findings, carrier, outcome, reason):
    found = suggest(findings, carrier)
    assert found.outcome == outcome
    if reason:
        assert any(reason in r for r in found.reasons), found.reasons


def test_the_destination_files_carry_the_travel_rules():
    policies = load_policies(DEFAULT_DIR)
    us, ca, au = policies["US"], policies["CA"], policies["AU"]
    assert us.windows == {"pec": 72, "pdms": 504}  # BRIEF 1.6 [S19]: 72 h and 3 weeks
    assert au.windows == {"dhc": 72}  # BRIEF 4.1 [S29f]
    assert ca.languages == ("en", "fr") and us.languages == ("en",)
    tk = us.carrier("TK")
    assert tk is not None and (
        tk.pregnancy_single_max_weeks,
        tk.pregnancy_multiple_max_weeks,
        tk.pregnancy_certificate_from_weeks,
    ) == (36, 32, 28)
    assert us.carrier("ZZ") is None


ADULT = Age.between(date(1990, 1, 1), date(2026, 1, 1))


@pytest.mark.parametrize(
    ("exam_country", "origin", "pregnant", "rule", "drugs"),
    [
        ("TR", "SY", False, "us.presumptive.none_tr_lb", []),  # 2017 table: Turkiye none [S16]
        ("JO", "SY", False, "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),
        # the entry still matches in pregnancy: each drug decides (tests/travel/
        # test_presumptive_residence.py: albendazole left out in any trimester [S17])
        ("PK", "AF", True, "us.presumptive.middle_east_asia", ["albendazole", "ivermectin"]),
        # Kenya is in sub-Saharan Africa: the 2017 table's Africa regimen [S16]
        (
            "KE",
            "SO",
            False,
            "us.presumptive.sub_saharan_africa",
            ["albendazole", "praziquantel", "ivermectin", "artemether-lumefantrine"],
        ),
        ("DE", "SY", False, None, None),  # no rule: the page says none applies
    ],
)
def test_presumptive_treatment_by_origin_and_pregnancy(exam_country, origin, pregnant, rule, drugs):
    us = load_policies(DEFAULT_DIR)["US"]
    found = us.treatment_for(exam_country=exam_country, origin=origin, age=ADULT, pregnant=pregnant)
    assert (found.id if found else None) == rule
    if found is not None:
        assert [d.drug for d in found.drugs] == drugs


BAD = """
[[travel.carrier]]
code = "tk"
name = "x"
pregnancy_single_max_weeks = 36
pregnancy_multiple_max_weeks = 32
pregnancy_certificate_from_weeks = 28
source = ["S404"]
"""


def test_rules_check_names_a_bad_carrier_rule(tmp_path: Path):
    from pmha.rules import check_rules

    for path in DEFAULT_DIR.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        (tmp_path / path.name).write_text(text + (BAD if path.stem == "NZ" else ""), "utf-8")
    _, problems = check_rules(tmp_path)
    text = "\n".join(map(str, problems))
    assert "NZ.toml: travel.carrier[2].code" in text
    # no carrier value falls back to one in code, and the file says how sure it is
    for name in ("fever_celsius", "newborn_min_days", "infectious_unfit", "confidence"):
        assert f"NZ.toml: travel.carrier[2].{name}" in text, text
    assert "S404" in text
    assert len({p.file for p in problems}) == 1


def test_presumptive_treatment_by_origin_and_age():
    """The filters the schema offers (origin = nationality, age_from/age_below) decide too; the
    files shipped filter by exam country and pregnancy only (BRIEF 1.6 [S16]: regimens by origin
    for sub-Saharan Africa are not modelled), so a table of our own shows the rest."""
    from pmha.travel.policy import policy_from

    entry = {"kind": "presumptive_treatment", "source": ["S16"]}
    section = {
        "languages": ["en"],
        "check": [],
        "carrier": [],
        "follow_up": [],
        "presumptive": [
            {**entry, "id": "t.child", "origin": ["SO"], "age_below": "2y", "drugs": []},
            {
                **entry,
                "id": "t.africa",
                "origin": ["SO", "ET"],
                "age_from": "2y",
                "drugs": [{"drug": "praziquantel", "dose": "40 mg/kg"}],
            },
        ],
    }
    policy = policy_from("XX", section)
    infant = Age.between(date(2025, 6, 1), date(2026, 1, 1))

    def rule(origin, age):
        found = policy.treatment_for(exam_country="KE", origin=origin, age=age, pregnant=False)
        return found.id if found else None

    assert rule("SO", ADULT) == "t.africa"
    assert rule("SO", infant) == "t.child"  # under 2 years: the rule says none applies
    assert rule("ET", infant) is None  # no entry matches: nothing to give
    assert rule("SY", ADULT) is None


def test_a_check_counts_only_inside_its_window_before_departure():
    """BRIEF 1.6 / 5.1 [S19, S31c]: PEC 24-48 h, never more than 72 h, before departure; PDMS
    within 3 weeks (504 h). The file's `within_hours` is the hard bound; a check made closer to
    the flight than 24 h still counts (the 24-48 h is the usual timing, not a limit in S19)."""
    from datetime import UTC, datetime, timedelta

    from pmha.travel.status import in_window

    departs = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    hours = load_policies(DEFAULT_DIR)["US"].windows
    pec, pdms = hours["pec"], hours["pdms"]
    assert in_window(departs - timedelta(hours=72), departs, pec)
    assert not in_window(departs - timedelta(hours=72, minutes=1), departs, pec)
    assert in_window(departs - timedelta(hours=30), departs, pec)
    assert in_window(departs - timedelta(hours=3), departs, pec)
    assert not in_window(departs + timedelta(minutes=1), departs, pec)  # after the flight
    assert in_window(departs - timedelta(days=21), departs, pdms)
    assert not in_window(departs - timedelta(days=21, minutes=1), departs, pdms)
