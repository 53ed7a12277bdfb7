"""No date the CDSi engine gives precedes the patient's birth (issue 16), as a property.

Random histories: a random date of birth, random doses of random CVX codes (any code in CDC's
CVX map, with or without a manufacturer, some sub-standard) given on random days from birth to
the assessment date, random observations (CDSi codes from the schedule supporting data, plain or
with begin and end dates), any gender, with or without a birth country. For every one, the
engine either answers or raises its own `CdsiInputError` (never anything else), and no date
anywhere in its answer (dose evaluations; every vaccine group's and antigen's earliest,
recommended, past-due and latest dates) is before the date of birth, and none is one of the
specification's "no limit" stand-in dates (01/01/1900, 12/31/2999): they are not dates to give a
nurse. A second property sends bad input (unknown codes, missing dates, doses before birth or
after the assessment date, observations dated anyhow, any gender): the answer is still an answer
or a `CdsiInputError` naming each problem.

The examples are the same every run (derandomized, like tests/workflow/test_clearance_property.py);
set PMHA_PROPERTY_EXAMPLES for more and PMHA_PROPERTY_RANDOM=1 to search new ones.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pmha.vaccines.cdsi import CdsiInputError, Dose, Forecast, Observation, Patient, forecast
from pmha.vaccines.cdsi.data import supporting_data
from pmha.vaccines.cdsi.dates import DATE_MAX

EXAMPLES = int(os.environ.get("PMHA_PROPERTY_EXAMPLES", "0")) or 150
RANDOM = bool(os.environ.get("PMHA_PROPERTY_RANDOM"))

DATA = supporting_data()
CVX = sorted(DATA.cvx_codes)
OBSERVATIONS = sorted(DATA.observations)
MVX = [None, "MSD", "SKB", "PMC", "WAL", "PFR", "MOD", "DVX", "NOV"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[Patient, list[Dose], list[str | Observation], date]:
    dob = draw(st.dates(date(1880, 1, 1), date(2026, 12, 31)))
    # Newborns and the very old are where "no limit" ages and dates show.
    age_days = draw(st.one_of(st.integers(0, 400), st.integers(0, 95 * 366)))
    assessed = dob + timedelta(days=age_days)
    doses = [
        Dose(
            dob + timedelta(days=draw(st.integers(0, age_days))),
            draw(st.sampled_from(CVX)),
            draw(st.sampled_from(MVX)),
            draw(st.booleans()) if draw(st.integers(0, 9)) == 0 else False,
        )
        for _ in range(draw(st.integers(0, 8)))
    ]
    codes = draw(st.lists(st.sampled_from(OBSERVATIONS), max_size=3, unique=True))
    observations: list[str | Observation] = []
    for code in codes:
        # A plain code, or dated: begun between birth and a year after the assessment date,
        # open or ending up to two years later.
        if draw(st.booleans()):
            observations.append(code)
            continue
        begin = dob + timedelta(days=draw(st.integers(0, age_days + 365)))
        end = draw(st.one_of(st.none(), st.integers(0, 730)))
        observations.append(
            Observation(code, begin, None if end is None else begin + timedelta(days=end))
        )
    patient = Patient(dob, draw(st.sampled_from("FMU")), draw(st.sampled_from([None, "US", "AF"])))
    return patient, doses, observations, assessed


def _dates(value: Any, where: str) -> Iterator[tuple[str, date]]:
    """Every date in an engine answer, with where it is."""
    if isinstance(value, date):
        yield where, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _dates(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _dates(item, f"{where}[{key}]")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from _dates(item, f"{where}[{index}]")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=[HealthCheck.too_slow],
    **({} if RANDOM else {"database": None}),
)
@given(histories())
# Found by this test: a meningococcal risk series (observation 154) whose next target dose has
# no minimum age gave 01/01/1900 as the earliest date.
@example((Patient(date(2000, 1, 1), "F"), [], ["154"], date(2000, 8, 1)))
def test_no_output_date_precedes_birth(
    history: tuple[Patient, list[Dose], list[str | Observation], date],
) -> None:
    patient, doses, observations, assessed = history
    try:
        result = forecast(patient, doses, observations, assessed)
    except CdsiInputError:
        return
    assert isinstance(result, Forecast)
    found = list(_dates(result, "forecast"))
    early = [(where, day) for where, day in found if day < patient.dob]
    assert not early, f"dates before birth {patient.dob}: {early[:5]}"
    # 01/01/1900 is a real date for a patient born on or before it; after, it is before birth.
    stand_ins = [(where, day) for where, day in found if day == DATE_MAX]
    assert not stand_ins, f"'no limit' stand-in dates in the answer: {stand_ins[:5]}"


@st.composite
def bad_inputs(draw: st.DrawFn) -> tuple[Patient, list[Dose], list[str | Observation], date]:
    """Input a nurse or an import might send: any code, any date, any gender."""
    dob = draw(st.dates(date(1880, 1, 1), date(2030, 12, 31)))
    assessed = draw(st.dates(date(1900, 1, 1), date(2040, 12, 31)))
    code = st.one_of(st.sampled_from(CVX), st.text(max_size=4))
    doses = draw(
        st.lists(
            st.builds(
                Dose,
                st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2040, 12, 31))),
                code,
                st.one_of(st.none(), st.text(max_size=4)),
                st.booleans(),
            ),
            max_size=5,
        )
    )
    any_day = st.one_of(st.none(), st.dates(date(1870, 1, 1), date(2040, 12, 31)))
    observations = draw(
        st.lists(
            st.one_of(
                st.sampled_from(OBSERVATIONS),
                st.text(max_size=4),
                st.builds(
                    Observation,
                    st.one_of(st.sampled_from(OBSERVATIONS), st.text(max_size=4)),
                    any_day,
                    any_day,
                ),
            ),
            max_size=3,
        )
    )
    gender = draw(st.one_of(st.sampled_from("FMUX"), st.text(max_size=3)))
    return Patient(dob, gender), doses, observations, assessed


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=[HealthCheck.too_slow],
    **({} if RANDOM else {"database": None}),
)
@given(bad_inputs())
# Found by this test: "²" is a digit to str.isdigit, and int() raised ValueError on it.
@example((Patient(date(2000, 1, 1), "F"), [Dose(date(2000, 1, 1), "²")], [], date(2000, 1, 1)))
def test_bad_input_is_an_input_error(
    history: tuple[Patient, list[Dose], list[str | Observation], date],
) -> None:
    patient, doses, observations, assessed = history
    try:
        result = forecast(patient, doses, observations, assessed)
    except CdsiInputError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)
        return
    early = [(where, day) for where, day in _dates(result, "forecast") if day < patient.dob]
    assert not early, f"dates before birth {patient.dob}: {early[:5]}"
