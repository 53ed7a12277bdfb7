"""Structure validation against hl7apy's HL7 v2.5.1 reference (the only place besides the parser
that touches hl7apy).

Parsing every message with hl7apy at STRICT level costs about 15 ms a message here, too slow for
a departure's batch. So `check_structure` compiles hl7apy's own segment definitions (required
fields, repetitions, components, data types) once, and checks our text against them in
microseconds; `validate_strict` runs hl7apy's full STRICT parse and validation, which the tests
run on every pattern to show the two agree, and which callers can ask for (`strict=True`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from hl7apy import load_reference  # type: ignore[import-untyped]
from hl7apy.consts import VALIDATION_LEVEL  # type: ignore[import-untyped]
from hl7apy.exceptions import HL7apyException  # type: ignore[import-untyped]
from hl7apy.parser import parse_message  # type: ignore[import-untyped]

from pmha.exports.hl7.errors import Hl7Error, Problem

VERSION = "2.5.1"
_NM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_DTM = re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$")
_SI = re.compile(r"^\d+$")
# VXU_V04 as we write it: MSH PID, then order groups ORC RXA [RXR] {OBX}.
_VXU_SHAPE = re.compile(r"^MSH PID( ORC RXA( RXR)?( OBX)*)+$")


@dataclass(frozen=True)
class FieldSpec:
    required: bool
    repeats: bool
    components: int  # 1 for a primitive
    datatype: str


@cache
def segment_spec(name: str) -> tuple[FieldSpec, ...]:
    """hl7apy's definition of one v2.5.1 segment, compiled to what `check_structure` needs."""
    reference: Any = load_reference(name, "Segment", VERSION)
    specs = []
    for _, definition, (low, high), _ in reference[1]:
        primitive = definition[0] == "leaf"
        specs.append(
            FieldSpec(
                required=low >= 1,
                repeats=high != 1,
                components=1 if primitive else len(definition[1]),
                datatype=definition[2],
            )
        )
    return tuple(specs)


def _check_value(field: str, spec: FieldSpec, value: str, problems: list[Problem]) -> None:
    for repetition in value.split("~") if spec.repeats else (value,):
        components = repetition.split("^")
        if spec.datatype != "varies" and len(components) > spec.components:
            problems.append(
                Problem(field, f"has {len(components)} components, at most {spec.components}")
            )
            continue
        first = components[0]
        if not first:
            continue
        if spec.datatype == "NM" and not _NM.match(first):
            problems.append(Problem(field, f"is not a number: {first!r}"))
        elif spec.datatype in ("TS", "DTM", "DT") and not _DTM.match(first):
            problems.append(Problem(field, f"is not an HL7 date/time: {first!r}"))
        elif spec.datatype == "SI" and not _SI.match(first):
            problems.append(Problem(field, f"is not a sequence number: {first!r}"))


@cache
def _required(name: str) -> tuple[int, ...]:
    return tuple(n for n, spec in enumerate(segment_spec(name), start=1) if spec.required)


_PLAIN = frozenset({"ST", "ID", "IS", "TX", "FT"})  # no format to check beyond the components


def check_segment(text: str, problems: list[Problem]) -> str:
    """Check one segment against hl7apy's definition; returns the segment's name."""
    name = text[:3]
    try:
        specs = segment_spec(name)
    except HL7apyException:
        problems.append(Problem(name, "is not an HL7 v2.5.1 segment"))
        return name
    values = text.split("|")
    header = name in ("MSH", "FHS", "BHS")
    if header:
        values[0:1] = [name, "|"]  # field 1 is the separator itself
    if len(values) - 1 > len(specs):
        problems.append(Problem(name, f"has {len(values) - 1} fields, at most {len(specs)}"))
        values = values[: len(specs) + 1]
    for position in _required(name):
        if position >= len(values) or not values[position]:
            problems.append(Problem(f"{name}-{position}", "is required"))
    for position in range(3 if header else 1, len(values)):
        value = values[position]
        if not value:
            continue
        spec = specs[position - 1]
        if not spec.repeats and "~" in value:
            problems.append(Problem(f"{name}-{position}", "does not repeat"))
        elif spec.components == 1 and spec.datatype in _PLAIN:
            if "^" in value:
                problems.append(Problem(f"{name}-{position}", "has components, it takes none"))
        else:
            _check_value(f"{name}-{position}", spec, value, problems)
    return name


def check_structure(text: str) -> list[Problem]:
    """Every field of every segment against hl7apy's reference, and the VXU_V04 segment order."""
    problems: list[Problem] = []
    names = [check_segment(segment, problems) for segment in text.split("\r") if segment]
    if not _VXU_SHAPE.match(" ".join(names)):
        problems.append(Problem("VXU_V04", f"segments out of order: {' '.join(names)}"))
    return problems


_REFERENCE = re.compile(r"\b([A-Z][A-Z0-9]{2})_(\d+)\b")


def validate_strict(text: str) -> None:
    """hl7apy's own STRICT parse and validation of a VXU; raises `Hl7Error` naming the field."""
    try:
        message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
        message.validate()
    except (HL7apyException, ValueError) as exc:  # hl7apy's data type factories raise ValueError
        detail = str(exc)
        match = _REFERENCE.search(detail)
        field = f"{match.group(1)}-{match.group(2)}" if match else "VXU_V04"
        raise Hl7Error.one(field, f"fails hl7apy's strict validation: {detail}") from None
