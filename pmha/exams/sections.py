"""What each exam section holds, field by field, with the ranges a human body allows.

Modelled on what DS-3026 (medical history and physical examination worksheet), DS-2054 (mental
health and substance use lines) and the UK and Canadian forms ask. Free text is bounded; numbers
outside physiological ranges are refused with a message naming the field.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from pmha.core.schemas import StrictSchema, date_in_range, strict_integer
from pmha.exams.models import SectionKind


def _text(max_length: int = 2000, **kwargs: Any) -> fields.String:
    return fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=max_length), **kwargs
    )


def _number(low: float, high: float, unit: str) -> fields.Float:
    return fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=low, max=high),
        metadata={"description": f"{unit}, {low} to {high}"},
    )


def _flag(description: str = "") -> fields.Boolean:
    return fields.Boolean(load_default=None, allow_none=True, metadata={"description": description})


class TbSymptoms(StrictSchema):
    cough_3_weeks = _flag("cough for three weeks or more")
    haemoptysis = _flag()
    fever = _flag()
    night_sweats = _flag()
    weight_loss = _flag()


class MedicalHistory(StrictSchema):
    past_illnesses = _text()
    tb_history = _flag("TB disease in the past (diagnosed or treated)")
    tb_treatment = _text(500, metadata={"description": "regimen, dates, completed or not"})
    tb_contact_past_year = _flag("close contact with a TB case in the past year")
    tb_symptoms = fields.Nested(TbSymptoms, load_default=None, allow_none=True)
    known_hiv = _flag()
    extrapulmonary_tb = _flag()
    medications = _text()
    allergies = _text()
    pregnant = _flag()
    gestation_weeks = strict_integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=45)
    )
    disabilities = _text()

    @validates_schema
    def _gestation_needs_pregnancy(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("gestation_weeks") is not None and not data.get("pregnant"):
            raise ValidationError(
                "Gestation is given but the applicant is not pregnant.", "gestation_weeks"
            )


class Vitals(StrictSchema):
    temperature_c = _number(30, 45, "degrees Celsius")
    pulse_bpm = _number(20, 250, "beats per minute")
    respiratory_rate = _number(4, 80, "breaths per minute")
    systolic_mmhg = _number(50, 260, "mmHg")
    diastolic_mmhg = _number(20, 160, "mmHg")
    spo2_percent = _number(50, 100, "%")
    height_cm = _number(30, 250, "cm")
    weight_kg = _number(0.5, 350, "kg")

    @validates_schema
    def _pressure(self, data: dict[str, Any], **_: Any) -> None:
        sys, dia = data.get("systolic_mmhg"), data.get("diastolic_mmhg")
        if sys is not None and dia is not None and dia >= sys:
            raise ValidationError("Diastolic pressure must be below systolic.", "diastolic_mmhg")


SYSTEMS = ("general", "skin", "eyes", "ears_nose_throat", "heart", "lungs", "abdomen",
           "lymph_nodes", "musculoskeletal", "neurological", "genitourinary")  # fmt: skip


class SystemFinding(StrictSchema):
    status = fields.String(
        required=True, validate=validate.OneOf(["normal", "abnormal", "not_examined"])
    )
    note = _text(500)


class PhysicalExam(StrictSchema):
    vitals = fields.Nested(Vitals, required=True)
    systems = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SYSTEMS)),
        values=fields.Nested(SystemFinding),
        load_default=dict,
    )
    findings = _text()
    overall = fields.String(required=True, validate=validate.OneOf(["normal", "abnormal"]))


class Substance(StrictSchema):
    substance = fields.String(required=True, validate=validate.Length(min=1, max=80))
    controlled = fields.Boolean(
        required=True, metadata={"description": "a Controlled Substances Act substance"}
    )
    disorder = fields.Boolean(required=True, metadata={"description": "meets disorder criteria"})
    in_remission = fields.Boolean(load_default=False)


class MentalHealth(StrictSchema):
    screening_tool = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"description": "e.g. GMHAT/PC, PHQ-9"},
    )
    screening_score = _number(0, 1000, "points")
    disorder = _flag("a physical or mental disorder is present")
    harmful_behaviour = _flag("with associated harmful behaviour, current or likely to recur")
    substance_use = fields.List(
        fields.Nested(Substance), load_default=list, validate=validate.Length(max=10)
    )
    classification = fields.String(
        required=True,
        validate=validate.OneOf(["none", "class_a", "class_b"]),
        metadata={"description": "the physician's; see implied_classification"},
    )
    classification_reason = _text(
        500,
        metadata={
            "description": "why the physician's class differs from the one the answers imply "
            "(required to sign when they differ)"
        },
    )
    notes = _text()


class Referral(StrictSchema):
    specialty = fields.String(required=True, validate=validate.Length(min=2, max=80))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=1000))
    status = fields.String(
        required=True,
        validate=validate.OneOf(
            ["requested", "appointment_made", "seen", "report_received", "cancelled"]
        ),
    )
    appointment_date = fields.Date(load_default=None, allow_none=True, validate=date_in_range)
    report_summary = _text()


class Recommendations(StrictSchema):
    special_schooling = _flag("special educational needs and disabilities")
    schooling_notes = _text()
    work_arrangements = _text()
    daily_living = _text(metadata={"description": "activities of daily living"})
    accommodation_mobility = _text(metadata={"description": "accommodation and mobility needs"})


class Session(StrictSchema):
    date = fields.Date(required=True, validate=date_in_range)
    topic = fields.String(required=True, validate=validate.Length(min=2, max=120))
    language = fields.String(required=True, validate=validate.Length(min=2, max=40))
    interpreter_used = fields.Boolean(required=True)


class Counselling(StrictSchema):
    sessions = fields.List(
        fields.Nested(Session), required=True, validate=validate.Length(min=1, max=30)
    )


SCHEMAS: dict[SectionKind, type[StrictSchema]] = {
    SectionKind.MEDICAL_HISTORY: MedicalHistory,
    SectionKind.PHYSICAL_EXAM: PhysicalExam,
    SectionKind.MENTAL_HEALTH: MentalHealth,
    SectionKind.SPECIALIST_REFERRAL: Referral,
    SectionKind.RECOMMENDATIONS: Recommendations,
    SectionKind.COUNSELLING: Counselling,
}

# Who may sign each section: the physician signs the clinical record; counselling the nurse too.
SIGN_PERMISSION: dict[SectionKind, str] = {
    kind: ("exams:write" if kind == SectionKind.COUNSELLING else "exams:sign")
    for kind in SectionKind
}


def implied_mental_health_class(data: dict[str, Any]) -> str:
    """What the answers imply (US, DS-2054 lines): a controlled-substance use disorder, or a
    disorder with harmful behaviour, is Class A [S13b, S13c]; another disorder is Class B."""
    substances = data.get("substance_use") or []
    if any(s["disorder"] and s["controlled"] and not s.get("in_remission") for s in substances):
        return "class_a"
    if data.get("disorder") and data.get("harmful_behaviour"):
        return "class_a"
    if data.get("disorder") or any(s["disorder"] for s in substances):
        return "class_b"
    return "none"


CLASS_WORDS = {"none": "No class", "class_a": "Class A", "class_b": "Class B"}


def class_mismatch(data: dict[str, Any]) -> str | None:
    """In words, when the physician's class differs from the one the answers imply [S13b]."""
    chosen = data.get("classification")
    implied = implied_mental_health_class(data)
    if not chosen or chosen == implied:
        return None
    return (
        f"The answers imply {CLASS_WORDS[implied]}; you chose {CLASS_WORDS.get(chosen, chosen)}: "
        "give your reason."
    )


# Asked only of an applicant who can be pregnant (not of a male applicant).
SEX_SPECIFIC = ("pregnant", "gestation_weeks")


def bmi(data: dict[str, Any]) -> float | None:
    vitals = data.get("vitals") or {}
    height, weight = vitals.get("height_cm"), vitals.get("weight_kg")
    if not height or not weight:
        return None
    return round(float(weight) / (float(height) / 100) ** 2, 1)
