"""The one place where codes a user can see become sentences (issue 18, "Words").

Requirement, outcome and value codes are worded in pmha.workflow.labels; this module adds the rest
and the Jinja filters the pages use: statuses, waiver and refusal reasons, permissions, and the
validators' messages ("Must be greater than or equal to 30.") as a sentence naming the field as its
label says ("Temperature (°C) must be at least 30."). Field errors reach the page through the
macros in macros.html (field, select, error_summary), which apply `error_sentence` with the label
the page gives the field, so every form benefits without each view wording its errors.

The API keeps the validators' own messages: clients read `errors` by field name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from flask import Flask, has_request_context

from pmha.core.auth import Role, current_actor
from pmha.core.db import utcnow
from pmha.core.i18n import N_
from pmha.workflow import labels as wl

# Field names -> the words a page uses for them, where a page does not pass its own label.
FIELD_LABELS: dict[str, str] = {
    "temperature_c": "Temperature (°C)",
    "pulse_bpm": "Pulse (beats per minute)",
    "respiratory_rate": "Breathing rate (per minute)",
    "spo2": "Oxygen saturation (%)",
    "oxygen_saturation": "Oxygen saturation (%)",
    "systolic": "Systolic blood pressure",
    "diastolic": "Diastolic blood pressure",
    "weight_kg": "Weight (kg)",
    "height_cm": "Height (cm)",
    "dob": "Date of birth",
    "date_of_birth": "Date of birth",
    "given_names": "Given names",
    "family_name": "Family name",
    "passport_number": "Passport number",
    "case_number": "Case number",
    "checked_at": "Checked at",
    "departs_at": "Departs at",
    "flight_number": "Flight number",
    "given_at": "Date given",
    "result_date": "Result date",
    "value": "Result",
    "reason": "Reason",
    "override_reason": "Reason for the override",
    "waiver_reason": "Reason for the waiver",
    "not_done_reason": "Reason it was not done",
    "full_name": "Full name",
    "username": "Username",
    "password": "Password",
    "roles": "Roles",
    "sites": "Sites",
    "site_codes": "Sites",
    "lot_number": "Lot number",
    "expires_on": "Expiry date",
    "version": "Version",
    "_form": "",
} | wl.FACT_LABELS

# Plan statuses (VOCABULARY.md: a requirement's status) and step states.
STATUS_WORDS = {
    "required": "Required",
    "conditional": "Only if needed",
    "not_required": "Not required",
    "done": "Done",
    "waived": "Waived",
    "blocked": "Blocked",
    "pending": "Waiting",
    "in_progress": "In progress",
    "not_done": "Not done",
    "alternative": "Done another way",
    "decided": "Decided",
    "final": "Final",
} | {status: text for status, (text, _mod) in wl.CLEARANCE.items()}

# VOCABULARY.md "Waiver / not-given reasons", and the UK certificate's reasons.
REASON_WORDS = {
    "not_age_appropriate": "Not appropriate for the applicant's age",
    "contraindicated": "Medically contraindicated",
    "insufficient_interval": "Too soon after the last dose",
    "not_routinely_available": "Not routinely available",
    "not_flu_season": "Not flu season",
    "refused": "Refused by the applicant",
    "religious_or_moral_waiver": "Religious or moral objection (waiver)",
    "evidence_of_immunity": "Immune already (evidence on file)",
    "confirmed_or_suspected_tb": "Confirmed or suspected TB",
    "testing_postponed": "Testing postponed",
    "withdrawn": "Withdrawn",
    # Why a vaccine is or is not due: the requirement check and CDC's CDSi forecast wording
    "condition not met": "Not asked of this applicant (age, sex or programme)",
    "Patient series is complete": "All doses given",
    "Patient series is not complete": "More doses are due",
    "Not recommended due to past history": "Not needed after the doses given",
    "Patient has exceeded the maximum age": "Past the age for this vaccine",
    "Patient is unable to finish the series before the maximum age": (
        "Too old to finish the series"
    ),
    "Patient has evidence of immunity": "Immune (evidence on file)",
    "Patient has a contraindication": "Contraindicated",
    "Past seasonal recommendation end date": "Past this season's end",
    "No relevant patient series": "No schedule applies to this applicant",
}

# What each permission lets a role do, to say what a refused page needed (pmha.core.auth).
PERMISSION_WORDS = {
    "cases:read": "open cases",
    "cases:write": "register or change cases",
    "exams:read": "see examination records",
    "exams:write": "record examinations",
    "exams:sign": "sign examination records",
    "labs:read": "see lab results",
    "labs:write": "record lab results",
    "radiology:read": "see chest X-rays",
    "radiology:write": "report on chest X-rays",
    "vaccines:read": "see vaccination records",
    "vaccines:write": "record vaccinations",
    "tb_dot:read": "see TB treatment",
    "tb_dot:write": "record TB treatment doses",
    "clearance:read": "see clearances",
    "travel:write": "record departures, travel checks and certificates",
    "exports:create": "send records to a destination",
    "exports:import": "import records from a centre",
    "exports:keys": "manage the receiving authorities' certificates",
    "users:manage": "manage user accounts",
    "tokens:own": "revoke its own API token",
    "audit:read": "read the audit trail",
}
ASK = "Ask your centre's administrator if your work needs it."


# Fitness to travel (a check's outcome), in words and the tone of its badge.
FITNESS = {
    "fit": ("Fit to travel", "ok"),
    "fit_with_conditions": ("Fit with conditions", "ok"),
    "fit_with_escort": ("Fit with escort", "wait"),
    "fit_with_medical_escort": ("Fit with medical escort", "wait"),
    "deferred": ("Deferred", "bad"),
    "unfit": ("Unfit to travel", "bad"),
}

# What a TB treatment's flags say, and the tone of their badge.
FLAG_WORDS = {
    "lost_to_follow_up": ("Lost to follow-up: 2 months without a dose", "bad"),
    "interruption": ("Treatment interrupted", "bad"),
    "missed_dose": ("Missed dose", "wait"),
    "sputum_overdue": ("Sputum check overdue", "wait"),
    "phase_late": ("Phase past its window", "bad"),
    "doses_complete": ("All doses taken: ready to close", "ok"),
}

# An authority certificate's state in the registry, and the tone of its badge.
CERTIFICATE_STATUS = {
    "in_use": ("In use", "ok"),
    "scheduled": ("Waiting for its first day of use", "wait"),
    "replaced": ("Replaced: no longer used for new bundles", "plain"),
    "not_yet_valid": ("Not yet valid", "wait"),
    "expired": ("Expired", "bad"),
}


def humanise(code: str) -> str:
    """The last resort for a code nobody worded: 'class_b1_pulmonary' -> 'Class b1 pulmonary'."""
    return code.replace("_", " ").replace(":", " ").strip().capitalize()


def code_words(code: str | None) -> str:
    """Any code a page may show, in words: requirement, outcome, value, reason or status."""
    if not code:
        return ""
    for table in (wl.LABELS, wl.OUTCOMES, wl.VALUES, REASON_WORDS, STATUS_WORDS):
        if code in table:
            return table[code]
    return humanise(code)


def status_words(status: str | None) -> str:
    return STATUS_WORDS.get(status or "", humanise(status or ""))


def reason_words(reason: str | None) -> str:
    text = reason or ""
    if text in REASON_WORDS:
        return REASON_WORDS[text]
    # "Patient has a contraindication until 2027-01-20": the words, then the rest as it is
    for said, words in REASON_WORDS.items():
        if " " in said and text.startswith(said + " "):
            return words + text[len(said) :]
    return text if " " in text else humanise(text)


def awaiting_words(codes: Iterable[str]) -> str:
    """('tb_treatment_dot',) -> 'Waiting for TB treatment under directly observed therapy'."""
    names = [_spelt_out(wl.FACT_SHORT.get(c) or wl.label(c)) for c in codes if c != "results"]
    if not names:
        return "Waiting for results"
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    return "Waiting for " + listed


def _spelt_out(text: str) -> str:
    return text.replace("under DOT", "under directly observed therapy")


def permission_denied(permission: str) -> str:
    """'cases:read' -> 'Your role cannot open cases. Ask your centre's administrator ...'."""
    doing = PERMISSION_WORDS.get(permission, "do this")
    return f"Your role cannot {doing}. {ASK}"


_NOT_ALLOWED = re.compile(r"Your role does not allow ([a-z_]+:[a-z_]+)\.")


def error_detail(detail: str) -> str:
    """An error's detail as a page shows it: permission names become what they allow."""
    found = _NOT_ALLOWED.search(detail)
    if found:
        return _NOT_ALLOWED.sub(lambda m: permission_denied(m.group(1)), detail)
    if detail.startswith("Your role does not allow this"):
        return f"Your role cannot open this page. {ASK}"
    return sentence(detail) if _RAW.search(detail) else detail


def field_label(name: str) -> str:
    """'vitals.temperature_c' -> 'Temperature (°C)'; 'principal.dob' -> 'Date of birth'."""
    last = name.rsplit(".", 1)[-1]
    if last.isdigit():  # a row of a repeated group: "substance_use.0" -> the group's words
        return field_label(name.rsplit(".", 1)[0])
    return FIELD_LABELS.get(name) or FIELD_LABELS.get(last) or wl.LABELS.get(last) or humanise(last)


def _num(text: str) -> str:
    """'30.0' -> '30'."""
    return text[:-2] if text.endswith(".0") else text


# marshmallow's default messages (marshmallow.validate and .fields), worded for a page: each gives
# the predicate after the label, "{label} must be at least 30."; {1} and {2} are the numbers.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), words)
    for p, words in [
        (r"Missing data for required field\.?", N_("is required")),
        (r"Field may not be (?:null|blank)\.?", N_("is required")),
        (r"Must be greater than or equal to (\S+?) and less than or equal to (\S+?)\.?",
         N_("must be from {1} to {2}")),
        (r"Must be greater than or equal to (\S+?)\.?", N_("must be at least {1}")),
        (r"Must be less than or equal to (\S+?)\.?", N_("must be at most {1}")),
        (r"Must be greater than (\S+?) and less than (\S+?)\.?",
         N_("must be more than {1} and less than {2}")),
        (r"Must be greater than (\S+?)\.?", N_("must be more than {1}")),
        (r"Must be less than (\S+?)\.?", N_("must be less than {1}")),
        (r"Length must be between (\d+) and (\d+)\.?", N_("must be {1} to {2} characters long")),
        (r"Length must be (\d+)\.?", N_("must be exactly {1} characters long")),
        (r"Shorter than minimum length 1\.?", N_("is required")),
        (r"Shorter than minimum length (\d+)\.?", N_("must be at least {1} characters long")),
        (r"Longer than maximum length (\d+)\.?", N_("must be at most {1} characters long")),
        (r"Not a valid integer\.?", N_("must be a whole number")),
        (r"Not a valid number\.?", N_("must be a number")),
        (r"Not a valid date\.?", N_("must be a date")),
        (r"Not a valid datetime\.?", N_("must be a date and time")),
        (r"Not a valid time\.?", N_("must be a time")),
        (r"Not a valid boolean\.?", N_("must be yes or no")),
        (r"Not a valid email address\.?", N_("must be an email address")),
        (r"Not a valid UUID\.?", N_("does not name a known record")),
        (r"Not a valid (?:string|list|mapping|tuple)\.?", N_("is not in the right form")),
        (r"Invalid input type\.?", N_("is not in the right form")),
        (r"Must be one of: .*|Invalid value\.?|Must be equal to .*",
         N_("must be one of the choices offered")),
        (r"Unknown field\.?", N_("is not part of this form")),
    ]
]  # fmt: skip
_RAW = re.compile(
    r"Missing data for required field|Field may not be|Must be (greater|less) than|Length must be|"
    r"Shorter than minimum|Longer than maximum|Not a valid|Must be one of|Unknown field|"
    r"Invalid value|Invalid input type|Must be equal to"
)


def error_sentence(message: str, label: str = "") -> str:
    """A validator's message as a sentence about the field: ('Must be greater than or equal to
    30.', 'Temperature (°C)') -> 'Temperature (°C) must be at least 30.' Messages already worded
    by a view or service pass through unchanged."""
    text = message.strip()
    for pattern, words in _RULES:
        found = pattern.fullmatch(text)
        if found:
            numbers = [_num(n) for n in found.groups()]
            if _plural(label) and words.startswith("is "):
                words = "are " + words.removeprefix("is ")
            said = _t(words).format(None, *numbers)
            return f"{label or _t(N_('This field'))} {said}."
    return text


def _t(text: str) -> str:
    """The page's language (Flask-Babel, pmha.core.i18n); English outside a request."""
    if not has_request_context():
        return text
    from flask_babel import gettext  # type: ignore[import-untyped]

    return str(gettext(text))


def _plural(label: str) -> bool:
    """'Given names', 'Roles' take 'are'; 'Diagnosis', 'Address', 'Status' do not."""
    return label.endswith("s") and not label.endswith(("ss", "is", "us"))


def sentence(text: str) -> str:
    """A message that may carry a field's name in front ('Temperature c: Must be ...')."""
    head, sep, tail = text.partition(": ")
    if sep and _RAW.match(tail):
        said = error_sentence(tail, field_label(head.strip().replace(" ", "_").lower()))
        return text if said == tail.strip() else said
    return error_sentence(text) if _RAW.match(text.strip()) else text


def field_errors(
    errors: Mapping[str, list[str]], labels: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Every message of a form's errors as a sentence naming its field."""
    labels = labels or {}
    out: dict[str, list[str]] = {}
    for name, messages in errors.items():
        label = "" if name.startswith("_") else labels.get(name) or field_label(name)
        out[name] = [error_sentence(str(m), label) for m in messages]
    return out


def rule_details_shown() -> bool:
    """Rule ids and sources are for the panel physician, who reads the plan (issue 18)."""
    me = current_actor(optional=True)
    return me is not None and Role.PANEL_PHYSICIAN in me.roles


def finalize(value: Any) -> Any:
    """Jinja's `finalize`, the safety net under every page: a plain string printed by a template
    that is a validator's raw message ("Must be greater than or equal to 30.", one or several
    joined) becomes a sentence. The macros name the field with its label first (error_sentence);
    a template printing errors itself gets "This field must be at least 30." Markup (macro and
    filter output) and every other value pass through untouched."""
    if type(value) is not str or not _RAW.search(value):
        return value
    # Sentences and the space between them: a note typed by a user keeps its line breaks, and
    # only a sentence that is wholly a validator's message changes.
    parts = re.split(r"(?<=\.)(\s+)", value)
    return "".join(part if i % 2 else sentence(part) for i, part in enumerate(parts))


def init_words(app: Flask) -> None:
    """The filters and globals the templates use, and the safety net (set before any render)."""
    app.jinja_options = {**app.jinja_options, "finalize": finalize}
    app.jinja_env.finalize = finalize  # the environment may exist already; templates compile later
    app.add_template_filter(error_sentence, "error_sentence")
    app.add_template_filter(error_detail, "error_detail")
    app.add_template_filter(field_label, "field_label")
    app.add_template_filter(code_words, "words")
    app.add_template_filter(status_words, "status_words")
    app.add_template_filter(reason_words, "reason_words")
    app.add_template_global(awaiting_words, "awaiting_words")
    # Codes in words on every page: requirement and test names, values, outcomes; ages.
    app.add_template_global(wl.label, "label")
    app.add_template_global(wl.value_label, "value_label")
    app.add_template_global(wl.outcome_label, "outcome_label")
    app.add_template_global(age_text, "age")
    app.add_template_global(permission_denied, "permission_denied")
    app.add_template_global(rule_details_shown, "rule_details_shown")


def age_text(dob: date, today: date | None = None) -> str:
    """'40 years'; under two, in months ('8 months'), as clinics count small children."""
    today = today or utcnow().date()
    months = (today.year - dob.year) * 12 + today.month - dob.month - (today.day < dob.day)
    if months >= 24:
        return f"{months // 12} years"
    return "1 month" if months == 1 else f"{max(months, 0)} months"
