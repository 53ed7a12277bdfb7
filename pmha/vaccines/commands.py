"""What the vaccination write verbs take (issue 21): frozen commands built by the schemas'
post_load at the edge, so the services read typed fields and mypy sees a renamed one."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from pmha.vaccines.models import ImmunityEvidence, RecordKind


@dataclass(frozen=True, kw_only=True)
class NewVaccination:
    """A dose given here (from a lot in stock, with the live-vaccine screening answers), a
    historical or sub-potent dose, a refusal or evidence of immunity. The service checks that
    what the kind asks for is there, and names the missing field."""

    kind: RecordKind
    cvx: str | None = None
    mvx: str | None = None
    given_at: dt.datetime | None = None  # a dose given here
    date: dt.date | None = None  # the other kinds
    lot_id: uuid.UUID | None = None  # a dose given here: the lot in stock
    lot: str | None = None  # historical: the lot, if known
    amount: Decimal | None = None
    unit: str | None = None
    route: str | None = None
    body_site: str | None = None
    vis_published: dt.date | None = None
    vis_given_on: dt.date | None = None
    information_source: str | None = None
    refusal_reason: str | None = None
    immunity_evidence: ImmunityEvidence | None = None
    immunity_disease: str | None = None
    pregnancy_override: str | None = None
    outbreak_override: str | None = None
    immunosuppressed: bool | None = None
    immunosuppression_override: str | None = None
    pregnant: bool | None = None
    screening_note: str | None = None


@dataclass(frozen=True, kw_only=True)
class NewObservation:
    """A condition that changes the vaccine schedule (a CDSi observation code), with its dates."""

    code: str
    begin: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class NewLot:
    """A lot received into a site's stock (the site by code when the actor works at several)."""

    cvx: str
    mvx: str
    lot: str
    expiry: dt.date
    quantity: int
    received_on: dt.date
    site_code: str | None = None
