"""The facts an EHR import keeps beyond the record's own sections: ECT and TMS courses, allergies, and the EHR's
prescribers of a patient. Input shapes and the checks every source (FHIR, spreadsheet) goes through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from desk.errors import FieldError
from desk.models import ALLERGY_CRITICALITIES, ALLERGY_STATUSES, NEUROMODULATION_THERAPIES
from desk.reference import is_esketamine
from desk.validation import npi_problem, past_date_problem, text_problem


@dataclass(frozen=True)
class NeuromodulationDetails:
    """A course of ECT or TMS: first and last session (none while it goes on) and how many sessions."""

    therapy: str
    start_date: date
    end_date: date | None = None
    sessions: int | None = None


@dataclass(frozen=True)
class AllergyDetails:
    """An allergy or intolerance as the source names and codes it ("RxNorm 6130", "SNOMED CT 91936005")."""

    substance: str
    code: str = ""
    criticality: str = ""
    reaction: str = ""
    status: str = "active"
    onset: date | None = None


@dataclass(frozen=True)
class PrescriberDetails:
    """A clinician the EHR names as the patient's prescriber: name, NPI and role as the EHR gives them."""

    name: str
    npi: str = ""
    role: str = ""


def _collect(checks: list[tuple[str, str | None]]) -> list[FieldError]:
    return [FieldError(name, message) for name, message in checks if message]


def _dated(value: date | None, *, dob: date, today: date, label: str) -> str | None:
    if value is not None and value < dob:
        return f"{label} is before the patient's date of birth"
    return past_date_problem(value, today=today, label=label)


def _text(value: str, *, required: bool, limit: int = 200) -> str | None:
    if required and not value.strip():
        return "required"
    if len(value) > limit:
        return f"at most {limit} characters"
    return text_problem(value)


def neuromodulation_errors(details: NeuromodulationDetails, *, dob: date, today: date) -> list[FieldError]:
    return _collect([
        ("therapy", None if details.therapy in NEUROMODULATION_THERAPIES
         else f"unknown therapy; expected one of {', '.join(NEUROMODULATION_THERAPIES)}"),
        ("start_date", _dated(details.start_date, dob=dob, today=today, label="start date")),
        ("end_date", _dated(details.end_date, dob=dob, today=today, label="end date")
         or ("end date is before the start date" if details.end_date and details.end_date < details.start_date
             else None)),
        ("sessions", "at least 1" if details.sessions is not None and details.sessions < 1 else None),
    ])


def allergy_errors(details: AllergyDetails, *, dob: date, today: date) -> list[FieldError]:
    return _collect([
        ("substance", _text(details.substance, required=True)),
        ("code", _text(details.code, required=False, limit=80)),
        ("criticality", None if details.criticality in ("", *ALLERGY_CRITICALITIES)
         else f"unknown criticality; expected one of {', '.join(ALLERGY_CRITICALITIES)}"),
        ("reaction", _text(details.reaction, required=False)),
        ("status", None if details.status in ALLERGY_STATUSES
         else f"unknown status; expected one of {', '.join(ALLERGY_STATUSES)}"),
        ("onset", _dated(details.onset, dob=dob, today=today, label="onset")),
    ])


def prescriber_errors(details: PrescriberDetails) -> list[FieldError]:
    return _collect([
        ("name", _text(details.name, required=True)),
        ("npi", npi_problem(details.npi) if details.npi else None),
        ("role", _text(details.role, required=False)),
    ])


def is_esketamine_allergy(substance: str) -> bool:
    """An allergy to esketamine or ketamine (the label's hypersensitivity contraindication)."""
    return is_esketamine(substance) or "ketamine" in substance.lower()
