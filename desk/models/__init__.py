"""Every table model, imported here so the metadata (and Alembic) see them all."""

from desk.models.audit import AuditEvent
from desk.models.base import utcnow
from desk.models.clinic import ROLES, SPECIALTIES, Prescriber, Site, User
from desk.models.patients import (
    BENEFITS,
    CONCURRENT_THERAPIES,
    GOVERNMENT_PLAN_TYPES,
    PLAN_TYPES,
    PRIORITIES,
    SEXES,
    SUBSTANCE_USE,
    Coverage,
    CurrentMedication,
    Diagnosis,
    InpatientStay,
    MedicationTrial,
    Patient,
    PsychotherapyTrial,
    RatingScore,
)

__all__ = [
    "BENEFITS",
    "CONCURRENT_THERAPIES",
    "GOVERNMENT_PLAN_TYPES",
    "PLAN_TYPES",
    "PRIORITIES",
    "ROLES",
    "SEXES",
    "SPECIALTIES",
    "SUBSTANCE_USE",
    "AuditEvent",
    "Coverage",
    "CurrentMedication",
    "Diagnosis",
    "InpatientStay",
    "MedicationTrial",
    "Patient",
    "Prescriber",
    "PsychotherapyTrial",
    "RatingScore",
    "Site",
    "User",
    "utcnow",
]
