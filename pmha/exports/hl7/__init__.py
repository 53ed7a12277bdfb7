"""HL7 v2.5.1 VXU^V04 for immunization registries (CDC IG release 1.5): the only hl7apy user.

`build_vxu` writes and validates one message per applicant, `build_batch` wraps messages in a
batch file for a departure, `parse_vxu` reads a VXU back into `pmha.exports.immunization` records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pmha.exports.hl7.batch import build_batch, split_batch
from pmha.exports.hl7.build import vxu_text
from pmha.exports.hl7.checks import check_message
from pmha.exports.hl7.errors import Hl7Error, Problem
from pmha.exports.hl7.parse import parse_vxu
from pmha.exports.hl7.registry import Registry, complete, registry
from pmha.exports.hl7.structure import check_structure, validate_strict
from pmha.exports.immunization import Facility, ImmunizationRecord, Patient

__all__ = [
    "Hl7Error",
    "Problem",
    "build_batch",
    "build_vxu",
    "parse_vxu",
    "split_batch",
    "validate_strict",
]


def build_vxu(
    patient: Patient,
    records: Sequence[ImmunizationRecord],
    sender: Facility,
    receiver: Facility,
    control_id: str,
    now: dt.datetime,
    *,
    strict: bool = False,
    registry_file: Registry | None = None,
) -> str:
    """One VXU^V04 for `patient`, validated before it leaves; `Hl7Error` lists every problem.

    The records are completed from the registry file (country_rules/hl7/vxu.toml: funding
    values for the destination `receiver.id` and centre `sender.id`, VIS bar codes). Validation
    is the CDC profile's rules on the records, then every segment against hl7apy's v2.5.1
    definitions; `strict=True` also runs hl7apy's full STRICT parse (about 15 ms more).
    """
    found = registry_file if registry_file is not None else registry()
    records = complete(records, found, receiver.id, sender.id)
    problems = check_message(patient, records, sender, receiver, control_id, now, found)
    if problems:
        raise Hl7Error(problems)
    text = vxu_text(patient, records, sender, receiver, control_id, now, found)
    problems = check_structure(text)
    if problems:
        raise Hl7Error(problems)
    if strict:
        validate_strict(text)
    return text
