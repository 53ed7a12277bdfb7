"""The shape of a rule file (marshmallow): keys, types and codes. Meaning: build.py."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from pmha.rules import vocabulary as vocab
from pmha.rules.dates import Period

SOURCE_ID = r"^[A-Z][A-Za-z0-9]*$"
RULE_ID = r"^[a-z][a-z0-9_.-]*$"
ANCHORS = ("exam_date", "departure_date", "dob")
# The file's [sources] ids while it loads, for the [travel] entries that cite them.
_TOP_SOURCES: ContextVar[frozenset[str]] = ContextVar("rule_file_sources", default=frozenset())


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


def _month_day(value: str) -> None:
    try:
        date.fromisoformat(f"2000-{value}")  # a leap year, so 02-29 is a day
    except ValueError:
        raise ValidationError(f"{value!r} is not a day of the year as MM-DD, e.g. 10-01") from None


class FluSeasonSchema(Cited):
    name = fields.String(required=True, validate=validate.Length(min=1))
    start = fields.String(required=True, validate=_month_day)
    end = fields.String(required=True, validate=_month_day)
    countries = fields.List(
        fields.String(
            validate=validate.Regexp(r"^[A-Z]{2}$", error="not an ISO 3166 code like TR")
        ),
        load_default=list,
    )


class VaccinationPolicySchema(Cited):
    """What the destination does with a refused required vaccine, and the waiver routes
    (`[vaccination]`; issue 15). `refusal_outcome`: `class_a` (a refusal without waiver is
    Class A and holds travel [S13f]) or `recorded` (kept on the record; travel not held)."""

    refusal_outcome = fields.String(required=True, validate=validate.OneOf(["class_a", "recorded"]))
    individual_waiver = fields.String(
        load_default=None, validate=validate.OneOf(["religious_or_moral_waiver"])
    )
    doses = fields.String(load_default="one", validate=validate.OneOf(["one", "series"]))
    # Vaccines the destination requires at ages past the routine schedule's last dose (e.g. US
    # adult IPV from 1 May 2024 [S23c]): past CDSi's maximum age a dose is given, not waived.
    past_forecast_age = fields.List(
        fields.String(validate=validate.OneOf(sorted(vocab.VACCINES))), load_default=list
    )


class IncidenceSchema(Cited):
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    per_100k = fields.Float(required=True, validate=validate.Range(min=0))
    year = fields.Integer(required=True, validate=validate.Range(min=1990, max=2100))


class OpenQuestionSchema(Strict):
    """A question the sources did not answer: written down instead of guessed (issue 15)."""

    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_.-]+$"))
    about = fields.String(required=True, validate=validate.Length(min=1))  # a rule id or a section
    question = fields.String(required=True, validate=validate.Length(min=1))
    asked = TomlDate(required=True)  # the day the question was written down


class IncidenceMetaSchema(Strict):
    title = fields.String(required=True, validate=validate.Length(min=1))
    dataset = fields.String(required=True, validate=validate.Length(min=1))
    countries = fields.Integer(load_default=None, validate=validate.Range(min=0))


class IncidenceFileSchema(Strict):
    """country_rules/tb_incidence.toml: the TB incidence table every destination reads."""

    meta = fields.Nested(IncidenceMetaSchema, required=True)
    sources = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(SOURCE_ID, error="not a source id like S1 or S12a")
        ),
        values=fields.Nested(SourceSchema),
        required=True,
    )
    tb_incidence = fields.List(fields.Nested(IncidenceSchema), required=True)
    open_question = fields.List(fields.Nested(OpenQuestionSchema), load_default=list)


class DateRuleSchema(Strict):
    anchor = fields.String(required=True, validate=_anchor)
    after = fields.String(load_default=None, validate=_period)
    before = fields.String(load_default=None, validate=_period)


class RuleSchema(Cited):
    id = fields.String(required=True, validate=validate.Regexp(RULE_ID))
    effective_from = TomlDate(required=True)
    effective_until = TomlDate(load_default=None)
    when = fields.Raw(load_default=dict)


class WaiversSchema(Strict):
    """The waiver reasons a destination allows for one requirement, with the source saying so."""

    reasons = fields.List(
        fields.String(validate=validate.OneOf(sorted(vocab.WAIVER_REASONS))),
        required=True,
        validate=validate.Length(min=1),
    )
    source = fields.Raw(load_default=None)
    note = fields.String(load_default=None)


class AlternativeSchema(Strict):
    """Another way to settle a requirement: when `when` holds, results meeting `by` settle it."""

    when = fields.Raw(load_default=dict)
    by = fields.Raw(required=True)
    source = fields.Raw(required=True, validate=_sources)
    note = fields.String(required=True, validate=validate.Length(min=1, max=200))


class NotRequiredSchema(Strict):
    """Why a test is not taken when its rules do not ask for it (`not_required` of `not_done`)."""

    reason = fields.String(required=True, validate=validate.OneOf(sorted(vocab.NOT_DONE_REASONS)))
    when = fields.Raw(required=True)


class NotDoneSchema(Strict):
    """The destination's own words for why a test was not taken (e.g. the UK certificate's
    "reason X-ray not taken" [S25]), by NOT_DONE_REASONS code, with the source that gives them.
    None of them settles the test: only its result or a declared alternative route does."""

    reasons = fields.Dict(
        keys=fields.String(validate=validate.OneOf(sorted(vocab.NOT_DONE_REASONS))),
        values=fields.String(validate=validate.Length(min=1, max=120)),
        required=True,
        validate=validate.Length(min=1),
    )
    not_required = fields.List(fields.Nested(NotRequiredSchema), load_default=list)
    source = fields.Raw(required=True, validate=_sources)
    note = fields.String(load_default=None, validate=validate.Length(max=300))


def _check_waivers(code: str, waivers: dict[str, Any] | None, allowed: frozenset[str]) -> None:
    """A waiver needs its source; a screening test or a refusal is never waived by default."""
    if waivers is None:
        return
    errors: list[str] = []
    if waivers.get("source") is None:
        what = "a screening test" if code in vocab.SCREENING_TESTS else "a requirement"
        errors.append(f"{what} ({code}) may be waived only with a cited source: add source = [...]")
    else:
        try:
            _sources(waivers["source"])
        except ValidationError as exc:
            errors += [str(m) for m in exc.messages]
    wrong = [r for r in waivers.get("reasons") or () if r not in allowed]
    if wrong:
        errors.append(
            f"{', '.join(wrong)} cannot waive {code}: a refusal is recorded as not done "
            "(declined), and the blanket vaccine waivers are for vaccines only"
        )
    if errors:
        raise ValidationError({"waivers": errors})


class RequirementSchema(RuleSchema):
    code = fields.String(required=True, validate=validate.OneOf(sorted(vocab.REQUIREMENT_CODES)))
    waivers = fields.Nested(WaiversSchema, load_default=None)
    alternative = fields.Nested(AlternativeSchema, load_default=None)
    not_done = fields.Nested(NotDoneSchema, load_default=None)
    status = fields.String(
        load_default=vocab.REQUIRED, validate=validate.OneOf(sorted(vocab.RULE_STATUSES))
    )
    blocked_when = fields.Raw(load_default=None)
    count = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10))
    due_by = fields.Nested(DateRuleSchema, load_default=None)
    not_before = fields.Nested(DateRuleSchema, load_default=None)
    valid_for = fields.String(load_default=None, validate=_period)

    @validates_schema(skip_on_field_errors=True)
    def _waivable(self, data: dict[str, Any], **_: Any) -> None:
        code = data["code"]
        allowed = (
            vocab.VACCINE_WAIVER_REASONS
            if code == "vaccination_review"
            else vocab.TEST_WAIVER_REASONS
        )
        _check_waivers(code, data.get("waivers"), allowed)


class VaccineSchema(RuleSchema):
    vaccine = fields.String(required=True, validate=validate.OneOf(sorted(vocab.VACCINES)))
    status = fields.String(
        load_default=vocab.REQUIRED, validate=validate.OneOf(sorted(vocab.RULE_STATUSES))
    )
    waivers = fields.Nested(WaiversSchema, load_default=None)

    @validates_schema(skip_on_field_errors=True)
    def _waivable(self, data: dict[str, Any], **_: Any) -> None:
        _check_waivers(data["vaccine"], data.get("waivers"), vocab.VACCINE_WAIVER_REASONS)


DATE_CHOICES = ("first", "latest", "earliest")


class TierSchema(Cited):
    """A reporting deadline that applies when a clinical flag says so (Canada: 7 days for urgent
    or complex non-infectious TB instead of 30 [S28h, S28i])."""

    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    when = fields.Raw(required=True)
    report_within_days = fields.Integer(required=True, validate=validate.Range(min=1))


class OutcomeSchema(RuleSchema):
    kind = fields.String(required=True, validate=validate.OneOf(sorted(vocab.OUTCOME_KINDS)))
    value = fields.String(required=True)
    unless = fields.List(fields.String(), load_default=list)
    reason = fields.String(
        load_default=None, validate=validate.OneOf(sorted(vocab.CERTIFICATE_REASONS))
    )
    date = fields.List(
        fields.String(validate=_anchor), load_default=None, validate=validate.Length(min=1)
    )
    # Which of the `date` anchors dates the outcome (issue 15): `first` = the first one known, in
    # the order written (a preference: the X-ray date, else the screening date); `latest` = the
    # latest of those known (the exam, or the final evaluation after treatment if later);
    # `earliest` = the earliest known (several certificates: the oldest one expires first).
    date_choice = fields.String(load_default="first", validate=validate.OneOf(DATE_CHOICES))
    valid_for = fields.String(load_default=None, validate=_period)
    report_within_days = fields.Integer(load_default=None, validate=validate.Range(min=1))
    # Shorter (or other) reporting deadlines by a clinical flag: the first tier whose `when` holds
    # decides; one not known yet makes the shorter of the two deadlines apply.
    tiers = fields.List(fields.Nested(TierSchema), load_default=list)

    @validates_schema(skip_on_field_errors=True)
    def _dated(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("valid_for") and not data.get("date"):
            raise ValidationError({"valid_for": ["a validity needs its anchor: add date = [...]"]})
        if data.get("tiers") and data.get("report_within_days") is None:
            raise ValidationError(
                {"tiers": ["tiers shorten a deadline: give report_within_days as well"]}
            )


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


class TbPhaseSchema(Strict):
    """A phase of a TB regimen: its drugs, its daily doses, the days allowed to take them."""

    name = fields.String(required=True, validate=validate.OneOf(["intensive", "continuation"]))
    drugs = fields.String(required=True, validate=validate.Length(min=1, max=40))
    doses = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))
    within_days = fields.Integer(required=True, validate=validate.Range(min=1, max=2000))


class TbWeightBandSchema(Strict):
    from_kg = fields.Float(required=True, validate=validate.Range(min=0, max=300))
    below_kg = fields.Float(load_default=None, validate=validate.Range(min=0, max=300))
    dose = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TbEligibilitySchema(Strict):
    min_age = fields.String(load_default=None, validate=_period)
    min_weight_kg = fields.Float(load_default=None, validate=validate.Range(min=0, max=300))
    sites = fields.List(
        fields.String(validate=validate.OneOf(["pulmonary", "extrapulmonary"])), load_default=None
    )
    susceptibility = fields.List(
        fields.String(validate=validate.OneOf(["susceptible", "resistant", "unknown"])),
        load_default=None,
    )
    pregnant = fields.Boolean(load_default=None)


def _months(value: list[int]) -> None:
    if list(value) != sorted(set(value)):
        raise ValidationError("list each treatment month once, in order, e.g. [2, 5, 6]")


class TbSputumSchema(Cited):
    """Which treatment months need a sputum check (month 1 = the first month of treatment)."""

    months = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=24)), load_default=list, validate=_months
    )
    until_conversion = fields.Boolean(load_default=False)


class TbExtensionSchema(Strict):
    """Extend the continuation phase (cavitation and a positive culture at month N)."""

    continuation_doses = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))
    within_days = fields.Integer(required=True, validate=validate.Range(min=1, max=2000))
    cavitation = fields.Boolean(load_default=True)
    positive_culture_month = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    sputum_months = fields.List(  # the regimen's fixed check months once extended
        fields.Integer(validate=validate.Range(min=1, max=24)), load_default=None, validate=_months
    )


class TbRegimenSchema(Cited):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9/.+-]{1,20}$"))
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phases = fields.List(
        fields.Nested(TbPhaseSchema), required=True, validate=validate.Length(min=1, max=2)
    )
    eligibility = fields.Nested(TbEligibilitySchema, load_default=None)
    weight_bands = fields.List(fields.Nested(TbWeightBandSchema), load_default=list)
    extension = fields.Nested(TbExtensionSchema, load_default=None)
    sputum = fields.Nested(TbSputumSchema, required=True)


class TbTreatmentSchema(Cited):
    """TB treatment under DOT (pmha.tb_dot): the regimen catalogue and the adherence rules."""

    taken = fields.List(
        fields.String(
            validate=validate.OneOf(
                ["observed", "missed", "self_administered", "refused", "adverse_event"]
            )
        ),
        load_default=lambda: ["observed"],
    )
    interruption_alert_after = fields.Integer(required=True, validate=validate.Range(min=1))
    lost_to_follow_up_after = fields.String(required=True, validate=_period)
    custom_sputum = fields.Nested(TbSputumSchema, required=True)  # physician-written regimens
    sputum_grace_days = fields.Integer(load_default=7, validate=validate.Range(min=0, max=60))
    failure_positive_from_month = fields.Integer(
        required=True, validate=validate.Range(min=1, max=24)
    )
    custom_within_factor = fields.Float(load_default=1.5, validate=validate.Range(min=1, max=5))
    regimen = fields.List(fields.Nested(TbRegimenSchema), required=True)


# --- departures (pmha/travel): check windows, carriers, presumptive treatment, follow-up ---------

FITNESS = ("fit", "fit_with_conditions", "fit_with_escort", "fit_with_medical_escort", "deferred",
           "unfit")  # fmt: skip


class TravelCheckSchema(Cited):
    """How long before departure a check counts (PEC 24-72 h, PDMS 3 weeks, DHC 72 h)."""

    code = fields.String(required=True, validate=validate.OneOf(["pdms", "pec", "dhc"]))
    within_hours = fields.Integer(required=True, validate=validate.Range(min=1, max=24 * 90))


class CarrierSchema(Cited):
    """One airline's fitness-to-fly rules (they differ: BRIEF 5.2 says make them configurable)."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9]{2}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    pregnancy_single_max_weeks = fields.Integer(required=True, validate=validate.Range(20, 42))
    pregnancy_multiple_max_weeks = fields.Integer(required=True, validate=validate.Range(20, 42))
    pregnancy_certificate_from_weeks = fields.Integer(
        required=True, validate=validate.Range(12, 42)
    )
    # Every value is the file's, never a default in code; the file says how sure it is.
    infectious_unfit = fields.Boolean(required=True)
    fever_celsius = fields.Float(required=True, validate=validate.Range(37, 41))
    newborn_min_days = fields.Integer(required=True, validate=validate.Range(0, 60))
    oxygen_needs_medif = fields.Boolean(required=True)
    confidence = fields.String(required=True, validate=validate.OneOf(["C", "S", "U"]))


def _places(value: Any) -> None:
    """Region names of country_rules/regions/regions.toml or ISO codes (pmha.rules.regions)."""
    from pmha.rules.regions import resolve

    try:
        resolve(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class DrugSchema(Strict):
    """One drug of a regimen, with its precautions (pmha.travel.policy explains each omission)."""

    drug = fields.String(required=True, validate=validate.Length(min=1, max=80))
    dose = fields.String(required=True, validate=validate.Length(min=1, max=80))
    # given | omit | not_first_trimester | physician (the physician decides: held until then)
    in_pregnancy = fields.String(
        load_default="physician",
        validate=validate.OneOf(["given", "omit", "not_first_trimester", "physician"]),
    )
    lived_in = fields.Raw(validate=_places)  # only for those who lived there (or are there)
    not_lived_in = fields.Raw(validate=_places)  # never for those who lived there
    living_in = fields.Raw(validate=_places)  # only for those living there at the exam
    min_age = fields.String(validate=_period)
    min_weight_kg = fields.Float(validate=validate.Range(min=0, max=200))  # a caution to weigh
    note = fields.String(validate=validate.Length(min=1, max=300))


class PresumptiveSchema(Cited):
    """Presumptive treatment or a pre-departure procedure, by origin, age and pregnancy; the
    first entry that matches decides, and an entry with no drugs says that none applies."""

    id = fields.String(required=True, validate=validate.Regexp(RULE_ID))
    kind = fields.String(
        load_default="presumptive_treatment",
        validate=validate.OneOf(["presumptive_treatment", "procedure"]),
    )
    exam_country = fields.List(fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")))
    origin = fields.List(fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")))
    age_from = fields.String(validate=_period)
    age_below = fields.String(validate=_period)
    pregnant = fields.Boolean()
    lived_in = fields.Raw(validate=_places)  # residence or exam country in these regions/codes
    living_in = fields.Raw(validate=_places)
    drugs = fields.List(fields.Nested(DrugSchema), required=True)


class FollowUpSchema(Cited):
    """What the destination asks after arrival when an outcome holds (kind:value)."""

    id = fields.String(required=True, validate=validate.Regexp(RULE_ID))
    outcome = fields.List(
        fields.String(validate=_outcome_value), required=True, validate=validate.Length(min=1)
    )
    what = fields.String(required=True, validate=validate.Length(min=1, max=300))
    within_days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=365))


class TravelSchema(Cited):
    languages = fields.List(
        fields.String(validate=validate.OneOf(["en", "fr"])),
        required=True,
        validate=validate.Length(min=1),
    )
    sources = fields.Dict(
        keys=fields.String(validate=validate.Regexp(SOURCE_ID)),
        values=fields.Nested(SourceSchema),
        load_default=dict,
    )
    check = fields.List(fields.Nested(TravelCheckSchema), load_default=list)
    carrier = fields.List(fields.Nested(CarrierSchema), load_default=list)
    presumptive = fields.List(fields.Nested(PresumptiveSchema), load_default=list)
    follow_up = fields.List(fields.Nested(FollowUpSchema), load_default=list)

    @validates_schema(skip_on_field_errors=False)
    def _cited_and_unique(self, data: dict[str, Any], **_: Any) -> None:
        known = set(data.get("sources") or {}) | _TOP_SOURCES.get()
        errors: dict[str, list[str]] = {}
        for section in ("check", "carrier", "presumptive", "follow_up"):
            keys: set[str] = set()
            for i, entry in enumerate(data.get(section) or []):
                raw = entry.get("source") or []
                cited = [raw] if isinstance(raw, str) else list(raw)
                missing = [s for s in cited if s not in known]
                if missing:
                    errors.setdefault(f"{section}[{i}].source", []).append(
                        f"source {missing[0]!r} is in neither [sources] nor [travel.sources]"
                    )
                key = entry.get("id") or entry.get("code")
                if key in keys:
                    errors.setdefault(f"{section}[{i}]", []).append(f"{key!r} is listed twice")
                keys.add(key)
        if errors:
            raise ValidationError(errors)


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
    flu_season = fields.List(fields.Nested(FluSeasonSchema), load_default=list)
    vaccination = fields.Nested(VaccinationPolicySchema, load_default=None)
    requirement = fields.List(fields.Nested(RequirementSchema), load_default=list)
    vaccine = fields.List(fields.Nested(VaccineSchema), load_default=list)
    outcome = fields.List(fields.Nested(OutcomeSchema), load_default=list)
    clearance = fields.Nested(ClearanceSchema, required=True)
    travel = fields.Nested(TravelSchema, load_default=None)
    open_question = fields.List(fields.Nested(OpenQuestionSchema), load_default=list)

    @pre_load
    def _remember_sources(self, data: Any, **_: Any) -> Any:
        sources = data.get("sources") if isinstance(data, dict) else None
        _TOP_SOURCES.set(frozenset(sources) if isinstance(sources, dict) else frozenset())
        return data

    tb_treatment = fields.Nested(TbTreatmentSchema, load_default=None)


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
