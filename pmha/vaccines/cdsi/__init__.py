"""CDC CDSi immunization evaluation and forecasting, driven by CDC's supporting data (pure)."""

from pmha.vaccines.cdsi.engine import forecast
from pmha.vaccines.cdsi.model import (
    AntigenForecast,
    CdsiInputError,
    Dose,
    DoseEvaluation,
    Forecast,
    GroupForecast,
    Observation,
    Patient,
)

__all__ = [
    "AntigenForecast",
    "CdsiInputError",
    "Dose",
    "DoseEvaluation",
    "Forecast",
    "GroupForecast",
    "Observation",
    "Patient",
    "forecast",
]
