"""One error for everything the HL7 adapter refuses, listing every problem by field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem: where (segment and field, e.g. `RXA-15`), which record if any, and what."""

    field: str
    message: str
    record: int | None = None  # 1-based index in the records passed, or of the order group read

    def __str__(self) -> str:
        where = f"record {self.record}: " if self.record is not None else ""
        return f"{where}{self.field} {self.message}"


class Hl7Error(ValueError):
    """A VXU that cannot be built, validated or read; `problems` lists each field at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, field: str, message: str, record: int | None = None) -> Hl7Error:
        return cls([Problem(field, message, record)])
