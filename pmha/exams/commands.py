"""What the exam, laboratory and X-ray write verbs take (issue 21): frozen commands built at
the edge, so the services read typed fields and mypy sees a renamed one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmha.exams.models import SectionKind


@dataclass(frozen=True, kw_only=True)
class SectionDraft:
    """A draft of one exam section. Its content is the section's form as a JSON document,
    whose fields depend on the kind: the service checks it against the kind's schema (and the
    applicant) before anything is stored. `version`: the draft's version the caller saw (none
    for a first draft)."""

    kind: SectionKind
    content: Mapping[str, Any]
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class NewLabResult:
    """A result of an ordered test: the specimen number on the label, the typed value (mm for
    a TST, or an interpretation), the test's details and measured values, by date."""

    date: dt.date
    specimen_number: str | None = None
    value: Any = None  # mm (a number) or an interpretation (text), as typed
    collected_on: dt.date | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # by test: dates, assays, notes
    measurements: Mapping[str, float | None] = field(default_factory=dict)  # empty: not given
    performing_lab: str | None = None


@dataclass(frozen=True, kw_only=True)
class Reinterpretation:
    """A physician's interpretation in place of the one derived from the values, and why."""

    value: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class XrayRead:
    """The radiologist's DS-3030 findings (none, or no_abnormal_finding alone: normal)."""

    findings: Sequence[str]
    comments: str | None = None
