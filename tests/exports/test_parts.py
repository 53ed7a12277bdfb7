"""What the bundle tells the receiving authority to do, from the plan's outcomes."""

from __future__ import annotations

import pytest

from pmha.exports.parts import _classifications, _follow_up


def plan(kind: str, value: str, status: str = "final", **extra) -> dict:
    return {"outcomes": [{"kind": kind, "values": [value], "status": status, **extra}]}


@pytest.mark.parametrize(
    ("value", "follow_up"),
    [
        # BRIEF §TB classes: Class B is admissible but needs follow-up [C S13b]; B1 to B3 [S3, S5].
        ("class_b1_pulmonary", True),
        ("class_b1_extrapulmonary", True),
        ("class_b2_ltbi", True),
        ("class_b3_contact", True),
        ("class_a_waiver", True),
        ("class_b0", False),
        ("none", False),
    ],
)
def test_a_tb_class_b_asks_for_an_evaluation_after_arrival(value, follow_up):
    found = _follow_up(plan("tb_class", value))
    assert bool(found) is follow_up
    if follow_up:
        assert found[0].startswith("TB evaluation after arrival")


def test_canadian_medical_surveillance_gives_its_reporting_window():
    # BRIEF: medical surveillance is Canada's post-arrival follow-up for inactive TB [C S28e].
    found = _follow_up(plan("medical_surveillance", "required", report_within_days=30))
    assert found == ["Report for medical surveillance within 30 days"]


def test_a_none_classification_is_not_a_condition():
    assert _classifications(plan("syphilis", "none"), None) == []
    found = _classifications(plan("tb_class", "class_b2_ltbi"), "class_b")
    assert [(c.kind, c.value) for c in found] == [
        ("tb_class", "class_b2_ltbi"),
        ("mental_health", "class_b"),
    ]
