"""Field helpers shared by every domain's marshmallow schemas."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, ClassVar

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate

from pmha.core.db import utcnow

EARLIEST_DOB = date(1900, 1, 1)
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,39}$")


_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def _control_characters(value: Any, path: str, errors: dict[str, Any]) -> None:
    if isinstance(value, str):
        if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in value):
            errors[path] = ["Contains a control character."]
    elif isinstance(value, dict):
        for key, item in value.items():
            _control_characters(item, f"{path}.{key}" if path else str(key), errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _control_characters(item, f"{path}.{i}", errors)


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped; control characters (NUL and the
    like, which PostgreSQL refuses in text) are an error in any field, at any depth."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _no_control_characters(self, data: Any, **_: Any) -> Any:
        errors: dict[str, Any] = {}
        _control_characters(data, "", errors)
        if errors:
            raise ValidationError(_nest(errors))
        return data


class CommandSchema(StrictSchema):
    """A schema whose load is the command its service verb takes (issue 21): a frozen
    dataclass named by `command`, so no dict crosses into a service. An update's command leaves
    the fields not sent UNSET (pmha.core.commands)."""

    command: ClassVar[type[Any]]

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> Any:
        return self.command(**data)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"principal.family_name": [...]} -> {"principal": {"family_name": [...]}}."""
    out: dict[str, Any] = {}
    for path, messages in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = messages
    return out


def password_again(who: str) -> fields.String:
    """The signer's password, asked again by an API call that signs: the bearer token says who
    calls, not that they sign (accounts.signatures checks it). `who`: "physician", "reader"..."""
    return fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=200),
        metadata={"description": f"The {who}'s password again: a bearer token is not a signature."},
    )


def strict_integer(**kwargs: Any) -> fields.Integer:
    """An integer in a JSON body: 1.5 or "1" is an error, not silently 1."""
    return fields.Integer(strict=True, **kwargs)


# ISO 3166-1 leaves XX to users; we use it for a stateless person or an unknown nationality
# (common among refugees: Rohingya, Bidoon), rather than forcing a wrong country.
STATELESS_OR_UNKNOWN = "XX"


def nationality_code(value: str) -> None:
    if value != STATELESS_OR_UNKNOWN:
        country_code(value)


def country_code(value: str) -> None:
    if not isinstance(value, str) or pycountry.countries.get(alpha_2=value.upper()) is None:
        raise ValidationError("Not an ISO 3166-1 alpha-2 country code (e.g. TR, SY, AF).")
    if value != value.upper():
        raise ValidationError("Write the country code in capitals (e.g. TR).")


def reference(value: str) -> None:
    if not _REFERENCE.match(value):
        raise ValidationError("Use letters, digits, spaces, dots, slashes or dashes (max 40).")


def past_date_of_birth(value: date) -> None:
    if value > utcnow().date():
        raise ValidationError("Date of birth cannot be in the future.")
    if value < EARLIEST_DOB:
        raise ValidationError("Date of birth cannot be before 1900-01-01.")


def date_in_range(value: date) -> None:
    if not date(1900, 1, 1) <= value <= date(2100, 12, 31):
        raise ValidationError("Date must be between 1900 and 2100.")


def enum_field(cls: Any, **kwargs: Any) -> fields.Enum[Any]:
    return fields.Enum(cls, by_value=True, **kwargs)


def text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class JsonPageArgs(StrictSchema):
    """Paging in a JSON body, where numbers are numbers."""

    page = strict_integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = strict_integer(load_default=25, validate=validate.Range(min=1, max=100))
