"""Exam section forms on a page: the fields of each section's schema, in words and units.

The page posts flat names ("vitals.temperature_c", "substance_use.0.substance"); `to_data`
turns them into the section's data for the service (which validates it with the schema), and
`to_values` turns saved data back into those names to fill the form again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from pmha.exams.models import SectionKind
from pmha.exams.sections import SCHEMAS, SYSTEMS

LABELS = {
    "past_illnesses": "Past illnesses and operations",
    "tb_history": "Past TB disease (diagnosed or treated)",
    "tb_treatment": "TB treatment: regimen, dates, completed?",
    "tb_contact_past_year": "Close contact with TB in the past year",
    "tb_symptoms": "TB symptoms now",
    "cough_3_weeks": "Cough for 3 weeks or more",
    "haemoptysis": "Coughing up blood",
    "fever": "Fever",
    "night_sweats": "Night sweats",
    "weight_loss": "Weight loss",
    "known_hiv": "Known HIV infection",
    "extrapulmonary_tb": "Signs of extrapulmonary TB",
    "medications": "Current medications",
    "allergies": "Allergies",
    "pregnant": "Pregnant",
    "gestation_weeks": "Weeks of gestation",
    "disabilities": "Disabilities",
    "vitals": "Vital signs and measurements",
    "temperature_c": "Temperature",
    "pulse_bpm": "Pulse",
    "respiratory_rate": "Respiratory rate",
    "systolic_mmhg": "Blood pressure, systolic",
    "diastolic_mmhg": "Blood pressure, diastolic",
    "spo2_percent": "Oxygen saturation (SpO₂)",
    "height_cm": "Height",
    "weight_kg": "Weight",
    "systems": "Examination by system",
    "findings": "Findings",
    "overall": "Overall result of the examination",
    "screening_tool": "Screening tool",
    "screening_score": "Screening score",
    "disorder": "A physical or mental disorder is present",
    "harmful_behaviour": "With harmful behaviour (current or likely to recur)",
    "substance_use": "Substance use",
    "substance": "Substance",
    "controlled": "Controlled substance",
    "in_remission": "In remission",
    "classification": "Physician's classification",
    "classification_reason": "Reason for the class",
    "notes": "Notes",
    "specialty": "Specialty",
    "reason": "Reason for referral",
    "status": "Status",
    "appointment_date": "Appointment date",
    "report_summary": "Specialist's report (summary)",
    "special_schooling": "Special educational needs (special schooling)",
    "schooling_notes": "Schooling: what is needed",
    "work_arrangements": "Work arrangements",
    "daily_living": "Activities of daily living",
    "accommodation_mobility": "Accommodation and mobility needs",
    "sessions": "Health education and counselling sessions",
    "date": "Date",
    "topic": "Topic",
    "language": "Language",
    "interpreter_used": "Interpreter used",
}
# The unit shown beside a number (the schema's ranges follow as the hint).
UNITS = {
    "temperature_c": "°C",
    "pulse_bpm": "beats/min",
    "respiratory_rate": "breaths/min",
    "systolic_mmhg": "mmHg",
    "diastolic_mmhg": "mmHg",
    "spo2_percent": "%",
    "height_cm": "cm",
    "weight_kg": "kg",
    "screening_score": "points",
    "gestation_weeks": "weeks",
}
CHOICE_WORDS = {
    "normal": "Normal",
    "abnormal": "Abnormal",
    "not_examined": "Not examined",
    "none": "No class (no disorder)",
    "class_a": "Class A",
    "class_b": "Class B",
    "requested": "Requested",
    "appointment_made": "Appointment made",
    "seen": "Seen by the specialist",
    "report_received": "Report received",
    "cancelled": "Cancelled",
}
SYSTEM_WORDS = {
    "ears_nose_throat": "Ears, nose, throat",
    "lymph_nodes": "Lymph nodes",
    "genitourinary": "Genito-urinary",
}
# Blank rows offered after the saved ones in a repeated group.
SPARE_ROWS = 2
TRI = {"yes": True, "no": False}
LONG_TEXT = 500  # strings allowed this long or longer get a text area


def words(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def choice_words(value: str) -> str:
    return (
        CHOICE_WORDS.get(value) or SYSTEM_WORDS.get(value) or value.replace("_", " ").capitalize()
    )


@dataclass
class Field:
    """One input of a section form (or a group of them)."""

    name: str  # the flat name, e.g. "vitals.temperature_c"
    key: str  # the schema's name, e.g. "temperature_c"
    kind: str  # text, textarea, number, integer, flag, check, choice, date, group, systems, rows
    label: str
    required: bool = False
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    hint: str = ""

    @property
    def step(self) -> str:
        return "1" if self.kind == "integer" else "any"


def _range(f: fields.Field[Any]) -> tuple[float | None, float | None]:
    for v in f.validators:
        if isinstance(v, validate.Range):
            return v.min, v.max
    return None, None


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def _describe(schema: Schema, prefix: str = "") -> list[Field]:
    out = []
    for key, f in schema.fields.items():
        name = f"{prefix}{key}"
        label, required = words(key), bool(f.required)
        if isinstance(f, fields.Nested) and not isinstance(f, fields.Pluck):
            nested = f.schema
            out.append(
                Field(name, key, "group", label, required, children=_describe(nested, f"{name}."))
            )
        elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            children = _describe(f.inner.schema, "")
            out.append(Field(name, key, "rows", label, required, children=children))
        elif isinstance(f, fields.Dict):
            out.append(
                Field(
                    name,
                    key,
                    "systems",
                    label,
                    required,
                    choices=[(s, choice_words(s)) for s in SYSTEMS],
                )
            )
        elif isinstance(f, fields.Boolean):
            kind = "flag" if f.allow_none else "check"
            out.append(Field(name, key, kind, label, required))
        elif isinstance(f, fields.Float | fields.Integer):
            low, high = _range(f)
            unit = UNITS.get(key, "")
            hint = f"{_number_text(low)} to {_number_text(high)} {unit}".strip()
            kind = "integer" if isinstance(f, fields.Integer) else "number"
            out.append(Field(name, key, kind, label, required, unit, low, high, hint=hint))
        elif isinstance(f, fields.Date):
            out.append(Field(name, key, "date", label, required))
        else:
            one_of = next((v for v in f.validators if isinstance(v, validate.OneOf)), None)
            if one_of is not None:
                choices = [(str(c), choice_words(str(c))) for c in one_of.choices]
                out.append(Field(name, key, "choice", label, required, choices=choices))
                continue
            length = next((v for v in f.validators if isinstance(v, validate.Length)), None)
            long = length is not None and (length.max or 0) >= LONG_TEXT
            out.append(Field(name, key, "textarea" if long else "text", label, required))
    return out


FORMS: dict[SectionKind, list[Field]] = {kind: _describe(cls()) for kind, cls in SCHEMAS.items()}


# --- the posted form -> the section's data -------------------------------------------------------


def _value(spec: Field, form: MultiDict[str, str], name: str) -> tuple[bool, Any]:
    """(given, value) of one simple input; a value that does not parse is passed on as it is,
    so that the schema names what is wrong with it."""
    raw = form.get(name, "").strip()
    if spec.kind == "check":
        return True, raw in ("y", "on", "yes")
    if spec.kind == "flag":
        if raw == "":
            return False, None
        return True, TRI.get(raw, raw)
    if raw == "":
        return False, None
    if spec.kind == "integer" and raw.isascii() and raw.lstrip("-").isdigit():
        return True, int(raw)
    if spec.kind == "number":
        try:
            return True, float(raw.replace(",", "."))
        except ValueError:
            return True, raw
    return True, raw


def _fill(
    specs: list[Field], form: MultiDict[str, str], prefix: str
) -> tuple[dict[str, Any], bool]:
    """The data of these fields, and whether anything was typed or chosen (ticks aside)."""
    data: dict[str, Any] = {}
    typed = False
    for spec in specs:
        name = f"{prefix}{spec.key}"
        if spec.kind == "group":
            inner, some = _fill(spec.children, form, f"{name}.")
            if some or spec.required:
                data[spec.key] = inner
            typed = typed or some
        elif spec.kind == "systems":
            systems: dict[str, dict[str, Any]] = {}
            for system, _ in spec.choices:
                status = form.get(f"{name}.{system}.status", "").strip()
                note = form.get(f"{name}.{system}.note", "").strip()
                if status or note:
                    systems[system] = {"note": note or None}
                    if status:
                        systems[system]["status"] = status
            data[spec.key] = systems
            typed = typed or bool(systems)
        elif spec.kind == "rows":
            rows = []
            for i in range(_row_count(form, name)):
                row, some = _fill(spec.children, form, f"{name}.{i}.")
                if some:
                    rows.append(row)
            data[spec.key] = rows
            typed = typed or bool(rows)
        else:
            given, value = _value(spec, form, name)
            if given:
                data[spec.key] = value
                typed = typed or spec.kind != "check"
    return data, typed


def _row_count(form: MultiDict[str, str], name: str) -> int:
    indices = {
        int(k.split(".")[1]) for k in form if k.startswith(f"{name}.") and k.split(".")[1].isdigit()
    }
    return min(max(indices, default=-1) + 1, 30)


def to_data(kind: SectionKind, form: MultiDict[str, str]) -> dict[str, Any]:
    """The section's data as the service takes it, from the posted page form."""
    data, _ = _fill(FORMS[kind], form, "")
    return data


# --- saved data -> the form's values --------------------------------------------------------------


def to_values(kind: SectionKind, data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    _values(FORMS[kind], data or {}, "", out)
    return out


def _values(specs: list[Field], data: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for spec in specs:
        name, value = f"{prefix}{spec.key}", data.get(spec.key)
        if value is None:
            continue
        if spec.kind == "group":
            _values(spec.children, value, f"{name}.", out)
        elif spec.kind == "systems":
            for system, finding in value.items():
                out[f"{name}.{system}.status"] = finding.get("status") or ""
                out[f"{name}.{system}.note"] = finding.get("note") or ""
        elif spec.kind == "rows":
            for i, row in enumerate(value):
                _values(spec.children, row, f"{name}.{i}.", out)
        elif spec.kind == "flag":
            out[name] = "yes" if value else "no"
        elif spec.kind == "check":
            out[name] = "y" if value else ""
        elif spec.kind in ("number", "integer"):
            out[name] = _number_text(float(value)) if isinstance(value, int | float) else str(value)
        else:
            out[name] = str(value)


def row_counts(kind: SectionKind, values: dict[str, str]) -> dict[str, int]:
    """How many rows each repeated group shows: those filled in, then a few blank ones."""
    counts = {}
    for spec in FORMS[kind]:
        if spec.kind == "rows":
            filled = {int(k.split(".")[1]) for k in values if k.startswith(f"{spec.name}.")}
            counts[spec.name] = max(filled, default=-1) + 1 + SPARE_ROWS
    return counts


def error_names(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Marshmallow's dict errors ("systems.lungs.value.status") under the form's names."""
    out: dict[str, list[str]] = {}
    for name, messages in errors.items():
        parts = [p for p in name.split(".") if p not in ("value", "key")]
        out.setdefault(".".join(parts), []).extend(messages)
    return out


def humane(kind: SectionKind, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """'Missing data for required field.' in the page's words."""
    specs = {s.name: s for s in _flat(FORMS[kind])}
    out = {}
    for name, messages in error_names(errors).items():
        spec = specs.get(name) or specs.get(name.split(".")[-1])
        label = (spec.label if spec else words(name.split(".")[-1])).lower()
        verb = "Choose" if spec and spec.kind in ("choice", "flag") else "Enter"
        out[name] = [_in_words(spec, verb, label, m) for m in messages]
    return out


def _in_words(spec: Field | None, verb: str, label: str, message: str) -> str:
    if message == "Missing data for required field.":
        return f"{verb} the {label}."
    if spec is not None and spec.low is not None and message.startswith("Must be greater"):
        # "Must be greater than or equal to 30 and less than or equal to 45." in a clinic's words
        return f"{spec.label} must be from {spec.hint}."
    return message


def _flat(specs: list[Field]) -> list[Field]:
    out = []
    for spec in specs:
        out.append(spec)
        if spec.kind == "group":
            out.extend(_flat(spec.children))
        elif spec.kind == "rows":
            out.extend(spec.children)
    return out


def label_of(kind: SectionKind, name: str) -> str:
    """The words for an error's field name, for the summary at the top."""
    specs = {s.name: s for s in _flat(FORMS[kind])}
    parts = name.split(".")
    spec = specs.get(name)
    if spec is not None:
        return spec.label
    if len(parts) >= 3 and parts[1].isdigit():  # a repeated row: "Substance use, row 2: Substance"
        return f"{words(parts[0])}, row {int(parts[1]) + 1}: {words(parts[-1])}"
    if len(parts) >= 2 and parts[0] == "systems":
        return f"{choice_words(parts[1])}: {words(parts[-1])}"
    return words(parts[-1])
