"""Interpretations derived from a result's values, one row per rule, each with its source.

Syphilis: the CDC reverse algorithm (BRIEF 1.4, [S12c]): reactive treponemal + reactive
non-treponemal with a titre -> Class A (reactive); reactive treponemal + non-reactive
non-treponemal -> a second treponemal test; reactive second test with documented past treatment
-> no class (previously treated); without -> reactive.
TST: BRIEF 1.2-1.3: positive at 10 mm (Class B2 [C S3, S5d]), 5 mm for contacts [C S8, S6].
IGRA: cut-offs per assay in country_rules/labs/assays.toml (QFT-Plus, QFT-GIT, T-SPOT.TB
package inserts [U], values on the DS-3030 [C S8]).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pmha.exams import lab_values
from pmha.exams.lab_values import Contradiction, Incomplete

R, NR = "reactive", "non_reactive"


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        # [S12c] first step: a non-reactive treponemal test ends the algorithm
        ({"treponemal": NR}, "non_reactive"),
        ({"treponemal": NR, "non_treponemal": NR}, "non_reactive"),
        # [S12c] both reactive, with a titre: Class A syphilis
        ({"treponemal": R, "non_treponemal": R, "titre": "1:64"}, "reactive"),
        ({"treponemal": R, "non_treponemal": R, "titre": "1:1"}, "reactive"),
        # [S12c] treponemal reactive, non-treponemal not: the second treponemal test decides,
        # then documented past treatment
        (
            {"treponemal": R, "non_treponemal": NR, "second_treponemal": R,
             "treatment_documented": True},
            "reactive_previously_treated",
        ),
        (
            {"treponemal": R, "non_treponemal": NR, "second_treponemal": R,
             "treatment_documented": False},
            "reactive",
        ),
        ({"treponemal": R, "non_treponemal": NR, "second_treponemal": R}, "reactive"),
        # Outside the algorithm's branches: a physician reviews (None)
        ({"treponemal": R, "non_treponemal": NR, "second_treponemal": NR}, None),
        ({"treponemal": NR, "non_treponemal": R}, None),
    ],
)  # fmt: skip
def test_syphilis_is_derived_from_the_reverse_algorithm(details, expected):
    assert lab_values.syphilis(details).value == expected


@pytest.mark.parametrize(
    ("details", "field"),
    [
        # A titre is measured on a reactive non-treponemal test only [S12c]
        ({"treponemal": R, "non_treponemal": NR, "titre": "1:64", "second_treponemal": R},
         "titre"),
        ({"treponemal": NR, "titre": "1:8"}, "titre"),
        # A second treponemal test follows a reactive first one and a non-reactive RPR [S12c]
        ({"treponemal": NR, "second_treponemal": R}, "second_treponemal"),
        ({"treponemal": R, "non_treponemal": R, "titre": "1:8", "second_treponemal": R},
         "second_treponemal"),
    ],
)  # fmt: skip
def test_syphilis_values_that_contradict_each_other_are_refused(details, field):
    with pytest.raises(Contradiction) as caught:
        lab_values.syphilis(details)
    assert not isinstance(caught.value, Incomplete)
    assert field in caught.value.errors


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({}, "treponemal"),
        ({"treponemal": R}, "non_treponemal"),
        ({"treponemal": R, "non_treponemal": R}, "titre"),  # Class A needs the titre [S12c]
        ({"treponemal": R, "non_treponemal": NR}, "second_treponemal"),
    ],
)
def test_syphilis_asks_for_what_the_algorithm_needs_next(details, field):
    with pytest.raises(Incomplete) as caught:
        lab_values.syphilis(details)
    assert field in caught.value.errors


CUT = lab_values.catalogue().tst
NOTHING = {"tb_contact": False, "known_hiv": False}
CONTACT = {"tb_contact": True, "known_hiv": False}


@pytest.mark.parametrize(
    ("mm", "facts", "expected"),
    [
        # BRIEF 1.3 Class B2: TST >= 10 mm [C S3, S5d]; 1.2: CXR if TST >= 10 mm [C S8]
        (9, NOTHING, "negative"),
        (9.9, NOTHING, "negative"),
        (10, NOTHING, "positive"),
        (15, NOTHING, "positive"),
        (0, NOTHING, "negative"),
        # BRIEF 1.2/1.3: contacts TST >= 5 mm [C S8, S6]
        (4, CONTACT, "negative"),
        (5, CONTACT, "positive"),
        (9, CONTACT, "positive"),
        # not known yet whether a contact: the general cut-off, and the words say so
        (7, {}, "negative"),
    ],
)
def test_tst_cut_off_by_risk_criterion(mm, facts, expected):
    assert lab_values.tst(mm, facts, CUT).value == expected


def test_tst_says_which_cut_off_it_used():
    assert "5 mm" in lab_values.tst(6, CONTACT, CUT).why
    assert "not yet known" in lab_values.tst(6, {}, CUT).why


QFT = {"assay": "QFT-Plus", "mitogen": 5.0}
GIT = {"assay": "QFT-GIT", "mitogen": 5.0}
TSPOT = {"assay": "T-SPOT.TB", "mitogen": 30}


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        # QFT-Plus [QFT-PI, U]: TB1 or TB2 minus nil >= 0.35 IU/mL and >= 25% of nil
        ({**QFT, "nil": 0.1, "tb1": 0.45, "tb2": 0.1}, "positive"),  # 0.35 exactly
        ({**QFT, "nil": 0.1, "tb1": 0.1, "tb2": 0.44}, "negative"),  # 0.34
        ({**QFT, "nil": 0.1, "tb1": 0.1, "tb2": 0.45}, "positive"),  # TB2 alone suffices
        ({**QFT, "nil": 2.0, "tb1": 2.5, "tb2": 2.0}, "positive"),  # 0.5 = 25% of 2.0
        ({**QFT, "nil": 2.0, "tb1": 2.45, "tb2": 2.0}, "negative"),  # 0.45 < 25% of 2.0
        # nil above 8.0 IU/mL: indeterminate; at 8.0 the result stands
        ({**QFT, "nil": 8.1, "tb1": 12.0, "tb2": 12.0, "mitogen": 15.0}, "indeterminate"),
        ({**QFT, "nil": 8.0, "tb1": 10.0, "tb2": 8.0, "mitogen": 15.0}, "positive"),
        # mitogen minus nil below 0.5 IU/mL: indeterminate unless positive
        ({**QFT, "nil": 0.1, "tb1": 0.1, "tb2": 0.1, "mitogen": 0.59}, "indeterminate"),
        ({**QFT, "nil": 0.1, "tb1": 0.1, "tb2": 0.1, "mitogen": 0.6}, "negative"),
        ({**QFT, "nil": 0.1, "tb1": 1.0, "tb2": 0.1, "mitogen": 0.2}, "positive"),
        # QFT-GIT [QFT-GIT-PI, U]: one antigen tube, same cut-offs
        ({**GIT, "nil": 0.0, "tb1": 0.35}, "positive"),
        ({**GIT, "nil": 0.0, "tb1": 0.34}, "negative"),
        # T-SPOT.TB [TSPOT-PI, U]: spots; panel minus nil >= 8 positive, <= 4 negative,
        # 5-7 borderline; nil above 10 or positive control below 20 (unless positive) invalid
        ({**TSPOT, "nil": 2, "panel_a": 10, "panel_b": 2}, "positive"),
        ({**TSPOT, "nil": 2, "panel_a": 2, "panel_b": 9}, "indeterminate"),
        ({**TSPOT, "nil": 2, "panel_a": 6, "panel_b": 6}, "negative"),
        ({**TSPOT, "nil": 2, "panel_a": 7, "panel_b": 2}, "indeterminate"),
        ({**TSPOT, "nil": 11, "panel_a": 30, "panel_b": 30}, "indeterminate"),
        ({**TSPOT, "nil": 0, "panel_a": 1, "panel_b": 0, "mitogen": 19}, "indeterminate"),
        ({**TSPOT, "nil": 0, "panel_a": 9, "panel_b": 0, "mitogen": 5}, "positive"),
    ],
)
def test_igra_per_assay_at_its_cut_offs(details, expected):
    assert lab_values.igra(details, lab_values.catalogue().assays).value == expected


def test_igra_needs_the_assay_and_its_values():
    assays = lab_values.catalogue().assays
    with pytest.raises(Incomplete) as caught:
        lab_values.igra({"assay": "QFT-Plus", "nil": 0.1}, assays)
    assert {"tb1", "tb2", "mitogen"} <= set(caught.value.errors)
    with pytest.raises(Incomplete):
        lab_values.igra({"nil": 0.1}, assays)
    with pytest.raises(Contradiction):  # a T-SPOT panel on a QuantiFERON
        lab_values.igra({**QFT, "nil": 0.1, "tb1": 0.1, "tb2": 0.1, "panel_a": 3}, assays)


def test_every_cut_off_cites_a_listed_source(tmp_path: Path):
    text = lab_values.ASSAYS_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "assays.toml"
    broken.write_text(text.replace('source = ["S8", "S6"]', 'source = ["S99"]'))
    with pytest.raises(ValueError, match="S99"):
        lab_values.load(broken)
