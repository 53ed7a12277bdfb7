"""Immunization records as the HL7 adapter sees them: our own frozen dataclasses, no hl7apy.

The vaccination records and pages build these from their models and hand them to
`pmha.exports.hl7`; the parser returns the same types for registry extracts that migrants bring.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pmha.codes import CVX, SNOMED_IMMUNITY


class RecordKind(StrEnum):
    """What happened, in the CDC guide's patterns (BRIEF §8.3)."""

    ADMINISTERED = "administered"
    HISTORICAL = "historical"
    REFUSED = "refused"
    SUBPOTENT = "subpotent"
    EVIDENCE_OF_IMMUNITY = "evidence_of_immunity"


class Action(StrEnum):
    """RXA-21, HL70323."""

    ADD = "A"
    UPDATE = "U"
    DELETE = "D"


@dataclass(frozen=True)
class Identifier:
    """One more PID-3 repetition: the value, its type (HL70203, e.g. PPN for a passport) and
    who assigned it (CX-4; for a passport, the issuing country)."""

    value: str
    type_code: str
    assigning_authority: str


@dataclass(frozen=True)
class Patient:
    """PID: our identifier with its assigning authority (sent as MR), legal name, birth date
    and sex (F/M/U); `identifiers` are the other repetitions of PID-3 (the passport)."""

    identifier: str
    assigning_authority: str
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    middle_name: str = ""
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class Facility:
    """A sending/receiving system (MSH-3/4, -5/6) or the place a dose was given (RXA-11)."""

    id: str
    name: str = ""
    application: str = ""


@dataclass(frozen=True)
class Provider:
    """The administering provider (RXA-10, XCN)."""

    id: str
    family_name: str = ""
    given_name: str = ""


@dataclass(frozen=True)
class VisDates:
    """One Vaccine Information Statement: its edition (publication) date, the day it was given,
    and the document's bar code (cdcgs1vis GDTI) when known; the VXU names the document then
    (OBX 69764-9), else the vaccine type and edition date (30956-7, 29768-9)."""

    published: dt.date
    presented: dt.date
    document: str = ""


@dataclass(frozen=True)
class ImmunizationRecord:
    """One immunization event: one ORC + RXA (+ RXR, OBX) in a VXU."""

    kind: RecordKind
    immunization_id: str  # ORC-3: unique and stable, so that U and D find the original
    occurred_at: dt.date | dt.datetime  # RXA-3
    cvx: str  # RXA-5; 998 for evidence of immunity
    vaccine_name: str = ""  # RXA-5.2; the CVX table's name when empty
    action: Action = Action.ADD
    amount: Decimal | None = None  # RXA-6; None is sent as 999 (unknown)
    unit: str = ""  # RXA-7, UCUM (mL)
    information_source: str = ""  # RXA-9, NIP001; 00 when administered, 01-08 when historical
    provider: Provider | None = None  # RXA-10
    location: Facility | None = None  # RXA-11.4
    lot: str = ""  # RXA-15
    lot_expiry: dt.date | None = None  # RXA-16
    mvx: str = ""  # RXA-17
    refusal_reason: str = ""  # RXA-18, NIP002
    route: str = ""  # RXR-1, HL70162
    site: str = ""  # RXR-2, HL70163
    vis: tuple[VisDates, ...] = ()  # OBX 29768-9 / 29769-7
    immunity_disease: str = ""  # OBX 59784-9, SNOMED CT code
    dose_number: int | None = None  # OBX 30973-2
    immunity_disease_name: str = ""  # its display text; the SNOMED CT term when empty
    eligibility: str = ""  # OBX 64994-7, HL70064: a dose given here; from the registry file
    funding_source: str = ""  # OBX 30963-3, CDCPHINVS: a dose given here; likewise

    def __post_init__(self) -> None:
        # Fill the defaults the guide implies, so that a record read back equals the one sent.
        if not self.vaccine_name and self.cvx in CVX:
            object.__setattr__(self, "vaccine_name", CVX[self.cvx])
        if not self.immunity_disease_name and self.immunity_disease in SNOMED_IMMUNITY:
            name = SNOMED_IMMUNITY[self.immunity_disease]
            object.__setattr__(self, "immunity_disease_name", name)
        if not self.information_source:
            source = _DEFAULT_SOURCE.get(self.kind, "")
            object.__setattr__(self, "information_source", source)


_DEFAULT_SOURCE = {
    RecordKind.ADMINISTERED: "00",
    RecordKind.SUBPOTENT: "00",
    RecordKind.HISTORICAL: "01",
}
