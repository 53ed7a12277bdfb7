"""FHIR R4 resources as plain dicts: a traveller's summary (IPS style) and its checks."""

from pmha.exports.fhir.immunization import immunization
from pmha.exports.fhir.resources import (
    ChestXray,
    Classification,
    Clearance,
    LabResult,
    Traveller,
    bundle,
    clearance,
    composition,
    condition,
    follow_up,
    imaging,
    lab_observation,
    patient,
    vital_observations,
)
from pmha.exports.fhir.validate import check_bundle

__all__ = [
    "ChestXray",
    "Classification",
    "Clearance",
    "LabResult",
    "Traveller",
    "bundle",
    "check_bundle",
    "clearance",
    "composition",
    "condition",
    "follow_up",
    "imaging",
    "immunization",
    "lab_observation",
    "patient",
    "vital_observations",
]
