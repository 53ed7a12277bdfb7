"""What partial updates share (issue 21): a command whose fields default to UNSET names only
the fields the caller sends; `given` lists them with their values (None included: cleared)."""

from __future__ import annotations

import enum
from dataclasses import fields
from typing import Any


class Unset(enum.Enum):
    """A field the caller did not send (distinct from None, which clears it)."""

    UNSET = "unset"


UNSET = Unset.UNSET


def given(command: Any, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of a partial command that were sent, by name, in declaration order."""
    return {
        f.name: getattr(command, f.name)
        for f in fields(command)
        if f.name not in leave_out and getattr(command, f.name) is not UNSET
    }
