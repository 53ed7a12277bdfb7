"""The shape of a rule file (marshmallow): keys, types and codes. Meaning: build.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from pmha.rules import vocabulary as vocab
from pmha.rules.dates import Period

SOURCE_ID = r"^[A-Z][A-Za-z0-9]*$"
RULE_ID = r"^[a-z][a-z0-9_.-]*$"
ANCHORS = ("exam_date", "departure_date", "dob")


class TomlDate(fields.Field[date]):
    """A bare TOML date (2021-09-03), not a string and not a date-time."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> date:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValidationError("use a bare TOML date like 2021-09-03 (no quotes, no time)")
        return value


def _sources(value: Any) -> None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise ValidationError('give a source id or a non-empty list of them, e.g. ["S1"]')


def _period(value: str) -> None:
    try:
        Period.parse(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _anchor(value: str) -> None:
    code = value.removeprefix("result:")
    if value not in ANCHORS and not (
        value.startswith("result:") and code in vocab.REQUIREMENT_CODES
    ):
        raise ValidationError(
            f"unknown date anchor {value!r}: use {', '.join(ANCHORS)} or result:<requirement code>"
        )


class Strict(Schema):
    class Meta:
        unknown = RAISE


class MetaSchema(Strict):
    destination = fields.String(required=True, validate=validate.OneOf(sorted(vocab.DESTINATIONS)))
    version = fields.String(required=True, validate=validate.Length(min=1, max=40))
    title = fields.String(required=True)
    programmes = fields.List(
        fields.String(validate=validate.OneOf(sorted(vocab.PROGRAMMES))),
        required=True,
        validate=validate.Length(min=1),
    )


class SourceSchema(Strict):
    title = fields.String(required=True, validate=validate.Length(min=1))
    url = fields.String(load_default=None)
    note = fields.String(load_default=None)


class Cited(Strict):
    source = fields.Raw(required=True, validate=_sources)
    confidence = fields.String(load_default=None, validate=validate.OneOf(["C", "S", "U"]))
    note = fields.String(load_default=None)


class BurdenSchema(Cited):
    threshold_per_100k = fields.Float(required=True, validate=validate.Range(min=0))


class IncidenceSchema(Cited):
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    per_100k = fields.Float(required=True, validate=validate.Range(min=0))
    year = fields.Integer(required=True, validate=validate.Range(min=1990, max=2100))


class DateRuleSchema(Strict):
    anchor = fields.String(required=True, validate=_anchor)
    after = fields.String(load_default=None, validate=_period)
    before = fields.String(load_default=None, validate=_period)


class RuleSchema(Cited):
    id = fields.String(required=True, validate=validate.Regexp(RULE_ID))
    effective_from = TomlDate(required=True)
    effective_until = TomlDate(load_default=None)
    when = fields.Raw(load_default=dict)


class RequirementSchema(RuleSchema):
    code = fields.String(required=True, validate=validate.OneOf(sorted(vocab.REQUIREMENT_CODES)))
    status = fields.String(
        load_default=vocab.REQUIRED, validate=validate.OneOf(sorted(vocab.RULE_STATUSES))
    )
    blocked_when = fields.Raw(load_default=None)
    count = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10))
    due_by = fields.Nested(DateRuleSchema, load_default=None)
    not_before = fields.Nested(DateRuleSchema, load_default=None)
    valid_for = fields.String(load_default=None, validate=_period)


class VaccineSchema(RuleSchema):
    vaccine = fields.String(required=True, validate=validate.OneOf(sorted(vocab.VACCINES)))
    status = fields.String(
        load_default=vocab.REQUIRED, validate=validate.OneOf(sorted(vocab.RULE_STATUSES))
    )


class OutcomeSchema(RuleSchema):
    kind = fields.String(required=True, validate=validate.OneOf(sorted(vocab.OUTCOME_KINDS)))
    value = fields.String(required=True)
    unless = fields.List(fields.String(), load_default=list)
    reason = fields.String(
        load_default=None, validate=validate.OneOf(sorted(vocab.CERTIFICATE_REASONS))
    )
    date = fields.List(fields.String(validate=_anchor), load_default=None)
    valid_for = fields.String(load_default=None, validate=_period)
    report_within_days = fields.Integer(load_default=None, validate=validate.Range(min=1))


def _outcome_value(text: str) -> None:
    kind, _, value = text.partition(":")
    found = vocab.OUTCOME_KINDS.get(kind)
    if found is None:
        raise ValidationError(f"unknown outcome kind {kind!r} (write kind:value)")
    if value not in found.values:
        raise ValidationError(f"{value!r} is not a value of {kind}")


class ClearanceSchema(Cited):
    """How outcomes decide travel: values that hold it, values that clear it with conditions,
    and whether one traveller's hold holds the whole family."""

    family = fields.String(
        required=True, validate=validate.OneOf(["all_travellers", "each_traveller"])
    )
    hold = fields.List(fields.String(validate=_outcome_value), load_default=list)
    conditions = fields.List(fields.String(validate=_outcome_value), load_default=list)


class RuleFileSchema(Strict):
    meta = fields.Nested(MetaSchema, required=True)
    sources = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(SOURCE_ID, error="not a source id like S1 or S12a")
        ),
        values=fields.Nested(SourceSchema),
        required=True,
    )
    tb_burden = fields.Nested(BurdenSchema, load_default=None)
    tb_incidence = fields.List(fields.Nested(IncidenceSchema), load_default=list)
    requirement = fields.List(fields.Nested(RequirementSchema), load_default=list)
    vaccine = fields.List(fields.Nested(VaccineSchema), load_default=list)
    outcome = fields.List(fields.Nested(OutcomeSchema), load_default=list)
    clearance = fields.Nested(ClearanceSchema, required=True)


def flatten(messages: Any, raw: Any, path: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested messages as (key path, message), lists named by index and rule id."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, list):
        return [(path, str(m)) for m in messages]
    for key, sub in messages.items():
        child = raw.get(key) if isinstance(raw, dict) else None
        if isinstance(key, int):
            item = raw[key] if isinstance(raw, list) and key < len(raw) else None
            label = f"{path}[{key}]"
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label += f" ({item['id']})"
            out += flatten(sub, item, label)
        elif key == "_schema":
            out += flatten(sub, raw, path)
        else:
            out += flatten(sub, child, f"{path}.{key}" if path else str(key))
    return out
