"""FHIR R4 resources as plain dicts: a traveller's International Patient Summary and its checks."""

from pmha.exports.fhir.document import bundle, composition
from pmha.exports.fhir.immunization import immunization
from pmha.exports.fhir.resources import (
    Centre,
    ChestXray,
    Classification,
    Clearance,
    Clinician,
    LabResult,
    Measure,
    Traveller,
    clearance,
    condition,
    follow_up,
    imaging,
    lab_observation,
    laboratory,
    organization,
    patient,
    practitioner,
    practitioner_role,
    vital_observations,
)
from pmha.exports.fhir.validate import check_bundle

__all__ = [
    "Centre",
    "ChestXray",
    "Classification",
    "Clearance",
    "Clinician",
    "LabResult",
    "Measure",
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
    "laboratory",
    "organization",
    "patient",
    "practitioner",
    "practitioner_role",
    "vital_observations",
]
