"""Factories for test records: each returns a flushed row with sensible synthetic defaults."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from argon2 import PasswordHasher
from sqlmodel import Session

from desk.models import (
    Coverage,
    Diagnosis,
    MedicationTrial,
    Patient,
    Prescriber,
    RatingScore,
    Site,
    User,
)

_counter = itertools.count(1)
# The CMS example NPI; its check digit is valid (Luhn over 80840 + the first nine digits).
VALID_NPI = "1234567893"


def _save(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def make_site(session: Session, **overrides: Any) -> Site:
    """A certified clinic site."""
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Test Clinic {n}",
        "address_line": "100 Main St",
        "city": "Springfield",
        "state": "IL",
        "zip_code": "62701",
        "phone": "217-555-0100",
        "fax": "217-555-0101",
        "npi": VALID_NPI,
        "tin": "12-3456789",
        "rems_setting_id": f"RS{n:06d}",
        "rems_certified_on": date(2024, 1, 15),
        "authorized_representative": "Pat Rep",
    }
    values.update(overrides)
    return _save(session, Site(**values))


def make_prescriber(session: Session, **overrides: Any) -> Prescriber:
    """A psychiatrist with a valid NPI."""
    n = next(_counter)
    values: dict[str, Any] = {
        "first_name": "Alex",
        "last_name": f"Prescriber{n}",
        "credentials": "MD",
        "npi": _luhn_npi(n),
        "specialty": "psychiatrist",
        "phone": "217-555-0110",
        "fax": "217-555-0111",
    }
    values.update(overrides)
    return _save(session, Prescriber(**values))


def _luhn_npi(seed: int) -> str:
    """A unique synthetic NPI whose check digit is valid (Luhn over '80840' + first nine digits)."""
    body = f"1{seed:08d}"[-9:]
    digits = [int(d) for d in "80840" + body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def make_patient(session: Session, *, site: Site | None = None, **overrides: Any) -> Patient:
    """An adult patient with a synthetic name and MRN."""
    n = next(_counter)
    site = site or make_site(session)
    values: dict[str, Any] = {
        "site_id": site.id,
        "mrn": f"MRN{n:06d}",
        "first_name": "Testy",
        "last_name": f"Patient{n}",
        "dob": date(1980, 5, 17),
        "sex": "F",
        "state": "IL",
        "psychosis_history": False,
        "substance_use": "none",
        "aneurysmal_vascular_disease": False,
        "intracerebral_hemorrhage_history": False,
        "esketamine_hypersensitivity": False,
    }
    values.update(overrides)
    return _save(session, Patient(**values))


def make_coverage(session: Session, *, patient: Patient, **overrides: Any) -> Coverage:
    """A primary commercial medical coverage."""
    values: dict[str, Any] = {
        "patient_id": patient.id,
        "payer_id": "generic-commercial",
        "plan_type": "commercial",
        "benefit": "medical",
        "member_id": f"M{next(_counter):08d}",
        "priority": "primary",
        "start_date": date(2025, 1, 1),
    }
    values.update(overrides)
    return _save(session, Coverage(**values))


def make_diagnosis(session: Session, *, patient: Patient, **overrides: Any) -> Diagnosis:
    """A current recurrent severe MDD diagnosis."""
    values: dict[str, Any] = {
        "patient_id": patient.id,
        "icd10": "F33.2",
        "description": "Major depressive disorder, recurrent, severe without psychotic features",
        "episode_start": date(2025, 3, 1),
        "episode_type": "recurrent",
        "diagnosis_method": "structured_interview",
        "psychotic_features": False,
        "dsm_edition": "DSM-5-TR",
        "diagnosed_on": date(2025, 3, 10),
    }
    values.update(overrides)
    return _save(session, Diagnosis(**values))


def make_trial(session: Session, *, patient: Patient, **overrides: Any) -> MedicationTrial:
    """An 8-week adequate-dose sertraline trial without response in the current episode."""
    values: dict[str, Any] = {
        "patient_id": patient.id,
        "drug": "sertraline",
        "daily_dose_mg": 150,
        "start_date": date(2025, 4, 1),
        "end_date": date(2025, 5, 27),
        "adherence_pct": 95,
        "outcome": "non_response",
        "improvement_pct": 10,
        "current_episode": True,
    }
    values.update(overrides)
    return _save(session, MedicationTrial(**values))


def make_score(session: Session, *, patient: Patient, **overrides: Any) -> RatingScore:
    """A recent severe PHQ-9."""
    values: dict[str, Any] = {"patient_id": patient.id, "instrument": "PHQ-9", "score": 21,
                              "measured_on": date(2026, 10, 1)}
    values.update(overrides)
    return _save(session, RatingScore(**values))


def make_user(session: Session, *, hasher: PasswordHasher, roles: str = "billing", **overrides: Any) -> User:
    """An active account whose password is 'correct horse battery'."""
    n = next(_counter)
    values: dict[str, Any] = {
        "username": f"user{n}",
        "display_name": f"User {n}",
        "roles": roles,
        "password_hash": hasher.hash("correct horse battery"),
    }
    values.update(overrides)
    return _save(session, User(**values))


def make_enrollment(session: Session, *, patient: Patient, **overrides: Any) -> Any:
    """A complete REMS patient enrollment (both signatures, submitted, confirmed)."""
    from desk.models import RemsEnrollment

    values: dict[str, Any] = {
        "patient_id": patient.id,
        "patient_signed_on": date(2026, 1, 5),
        "prescriber_signed_on": date(2026, 1, 5),
        "submitted_on": date(2026, 1, 6),
        "confirmation_number": "REMS-ENR-0001",
    }
    values.update(overrides)
    return _save(session, RemsEnrollment(**values))
