"""What an import read, before anyone accepted it: per patient, facts shaped like the record's input details,
each with its provenance. Held in memory (or the signed-in user's own session state) until accepted."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal

from desk.history.ehr_details import AllergyDetails, NeuromodulationDetails, PrescriberDetails
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    PsychotherapyDetails,
    ScoreDetails,
    StayDetails,
    TrialDetails,
)

Section = Literal["coverages", "diagnoses", "trials", "psychotherapy", "scores", "stays", "neuromodulation",
                  "allergies", "prescribers"]
SECTIONS: tuple[Section, ...] = ("coverages", "diagnoses", "trials", "psychotherapy", "scores", "stays",
                                 "neuromodulation", "allergies", "prescribers")
SECTION_LABELS: dict[Section, str] = {
    "coverages": "Coverage", "diagnoses": "Diagnoses", "trials": "Medication trials",
    "psychotherapy": "Psychotherapy", "scores": "Rating scales", "stays": "Inpatient stays",
    "neuromodulation": "ECT and TMS", "allergies": "Allergies", "prescribers": "Prescribers in the EHR",
}
# The value an imported trial's outcome keeps until staff set it: an export never says whether a drug worked.
OUTCOME_NOT_RECORDED = "not_recorded"

Details = (CoverageDetails | DiagnosisDetails | TrialDetails | PsychotherapyDetails | ScoreDetails | StayDetails
           | NeuromodulationDetails | AllergyDetails | PrescriberDetails)
DETAILS_OF: dict[Section, type[Any]] = {
    "coverages": CoverageDetails, "diagnoses": DiagnosisDetails, "trials": TrialDetails,
    "psychotherapy": PsychotherapyDetails, "scores": ScoreDetails, "stays": StayDetails,
    "neuromodulation": NeuromodulationDetails, "allergies": AllergyDetails, "prescribers": PrescriberDetails,
}
# The fields that identify one fact on the record (a second import of it is the same row, not a new one).
KEY_FIELDS: dict[Section, tuple[str, ...]] = {
    "coverages": ("payer_id", "member_id"),
    "diagnoses": ("icd10", "episode_start"),
    "trials": ("drug", "start_date"),
    "psychotherapy": ("modality", "start_date"),
    "scores": ("instrument", "measured_on"),
    "stays": ("admitted_on",),
    "neuromodulation": ("therapy", "start_date"),
    "allergies": ("substance",),
    "prescribers": ("npi", "name"),
}


@dataclass(frozen=True)
class Provenance:
    """Where a fact was read: the file's name and the resource (or spreadsheet row) within it."""

    source_file: str
    resource_id: str


@dataclass(frozen=True)
class Fact:
    """One fact for one record section. `fields` are the ones the source gave (only those are compared and
    updated; staff-owned fields such as a trial's outcome are left alone on a later import)."""

    section: Section
    details: Details
    fields: tuple[str, ...]
    provenance: tuple[Provenance, ...]

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self.details, name) for name in KEY_FIELDS[self.section])

    def values(self) -> dict[str, Any]:
        return {name: getattr(self.details, name) for name in self.fields}


def all_fields(section: Section) -> tuple[str, ...]:
    return tuple(f.name for f in fields(DETAILS_OF[section]))


@dataclass(frozen=True)
class PatientIdentity:
    """How the source names the patient (used only to find the record; never written by the import)."""

    resource_id: str
    identifiers: tuple[str, ...]
    first_name: str = ""
    last_name: str = ""
    dob: date | None = None


@dataclass
class PatientHistory:
    """Everything read for one patient: facts to review, and notes on what was read but cannot be stored."""

    identity: PatientIdentity
    facts: list[Fact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, order=True)
class ResourceProblem:
    """A resource (or row) that was refused: where, which one, why. Never a value from it."""

    source_file: str
    resource_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source_file}: {self.resource_id}: {self.reason}"


@dataclass
class HistoryImport:
    """One import waiting for review."""

    kind: Literal["fhir", "spreadsheet"]
    files: tuple[str, ...]
    imported_on: date
    patients: list[PatientHistory] = field(default_factory=list)
    problems: list[ResourceProblem] = field(default_factory=list)
    resources_read: int = 0

    @property
    def fact_count(self) -> int:
        return sum(len(p.facts) for p in self.patients)
