"""Review of an import against the record: which record each patient is, and for every fact whether it is new,
already there, changed since an earlier import, in conflict with what staff entered, or not acceptable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from desk.errors import FieldError
from desk.history.facts import KEY_FIELDS, SECTIONS, Fact, PatientHistory, PatientIdentity, Section
from desk.models import (
    Coverage,
    Diagnosis,
    ImportedFact,
    InpatientStay,
    MedicationTrial,
    Patient,
    PsychotherapyTrial,
    RatingScore,
    Site,
)
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    PsychotherapyDetails,
    ScoreDetails,
    StayDetails,
    TrialDetails,
    coverage_clash,
    coverage_errors,
    diagnosis_errors,
    psychotherapy_errors,
    score_errors,
    stay_errors,
    trial_errors,
)

MODEL_OF: dict[Section, type[Any]] = {
    "coverages": Coverage, "diagnoses": Diagnosis, "trials": MedicationTrial, "psychotherapy": PsychotherapyTrial,
    "scores": RatingScore, "stays": InpatientStay,
}
Status = Literal["new", "unchanged", "changed", "conflict", "invalid"]
STATUS_WORDS: dict[str, str] = {
    "new": "new", "unchanged": "already on the record", "changed": "changed since the last import",
    "conflict": "differs from what staff entered (kept as entered)", "invalid": "cannot be imported",
}


@dataclass(frozen=True)
class PatientMatch:
    """The record an imported patient belongs to, and how it was found."""

    patient_id: int | None
    how: Literal["identifier", "name_and_dob", "none", "ambiguous"]
    label: str = ""

    @property
    def needs_confirmation(self) -> bool:
        return self.how == "name_and_dob"

    @property
    def message(self) -> str:
        return {
            "identifier": "matched by MRN",
            "name_and_dob": "matched by name and date of birth only: confirm it is the same person",
            "none": "no record on the desk has this MRN, or this name and date of birth; add the patient first",
            "ambiguous": "more than one record matches; add the MRN to the right record first",
        }[self.how]


@dataclass(frozen=True)
class FactReview:
    fact: Fact
    status: Status
    row_id: int | None = None
    differences: tuple[str, ...] = ()
    on_record: tuple[tuple[str, Any], ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class PatientReview:
    history: PatientHistory
    match: PatientMatch
    facts: tuple[FactReview, ...]

    def counts(self) -> Counter[str]:
        return Counter(f.status for f in self.facts)

    def section(self, section: Section) -> list[FactReview]:
        return [f for f in self.facts if f.fact.section == section]

    def writable(self, sections: Collection[str]) -> list[FactReview]:
        return [f for f in self.facts if f.fact.section in sections and f.status in ("new", "changed")]


def match_patient(session: Session, identity: PatientIdentity) -> PatientMatch:
    """By MRN (any of the patient's identifiers equal to a record's MRN), else by name and date of birth."""
    if identity.identifiers:
        rows = session.exec(
            select(Patient.id, Patient.mrn, Site.name).join(Site, col(Site.id) == col(Patient.site_id))
            .where(col(Patient.mrn).in_(identity.identifiers))
        ).all()
        if len(rows) == 1:
            return PatientMatch(rows[0][0], "identifier", f"MRN {rows[0][1]} · {rows[0][2]}")
        if len(rows) > 1:
            return PatientMatch(None, "ambiguous")
    if identity.last_name and identity.first_name and identity.dob is not None:
        rows = session.exec(
            select(Patient.id, Patient.mrn, Site.name).join(Site, col(Site.id) == col(Patient.site_id)).where(
                func.lower(Patient.last_name) == identity.last_name.strip().lower(),
                func.lower(Patient.first_name) == identity.first_name.strip().lower(),
                Patient.dob == identity.dob,
            )
        ).all()
        if len(rows) == 1:
            return PatientMatch(rows[0][0], "name_and_dob", f"MRN {rows[0][1]} · {rows[0][2]}")
        if len(rows) > 1:
            return PatientMatch(None, "ambiguous")
    return PatientMatch(None, "none")


def fact_errors(
    session: Session, fact: Fact, *, patient: Patient, known_payers: Collection[str], today: date
) -> list[FieldError]:
    """What the record's own checks say about this fact for this patient."""
    details = fact.details
    if isinstance(details, TrialDetails):
        return trial_errors(details, dob=patient.dob, today=today)
    if isinstance(details, ScoreDetails):
        return score_errors(details, dob=patient.dob, today=today)
    if isinstance(details, DiagnosisDetails):
        return diagnosis_errors(details, dob=patient.dob, today=today)
    if isinstance(details, PsychotherapyDetails):
        return psychotherapy_errors(details, dob=patient.dob, today=today)
    if isinstance(details, StayDetails):
        return stay_errors(details, dob=patient.dob, today=today)
    assert isinstance(details, CoverageDetails)
    return coverage_errors(details, known_payers=known_payers)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 0.05
    return bool(a == b)


def review_patient(
    session: Session,
    *,
    history: PatientHistory,
    patient_id: int,
    match: PatientMatch,
    known_payers: Collection[str],
    today: date,
) -> PatientReview:
    """Every fact of `history` against the record of `patient_id`."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        return PatientReview(history, PatientMatch(None, "none"), ())
    imported = {(section, row_id) for section, row_id in session.exec(
        select(ImportedFact.section, ImportedFact.row_id).where(ImportedFact.patient_id == patient_id)).all()}
    existing: dict[Section, dict[tuple[Any, ...], Any]] = {}
    for section in SECTIONS:
        model = MODEL_OF[section]
        rows = session.exec(select(model).where(model.patient_id == patient_id).order_by(model.id)).all()
        existing[section] = {}
        for row in rows:
            existing[section].setdefault(tuple(getattr(row, name) for name in KEY_FIELDS[section]), row)
    reviews: list[FactReview] = []
    for fact in history.facts:
        row = existing[fact.section].get(fact.key)
        if row is None:
            errors = fact_errors(session, fact, patient=patient, known_payers=known_payers, today=today)
            if isinstance(fact.details, CoverageDetails) and not errors:
                errors = coverage_clash(session, patient_id=patient_id, details=fact.details, today=today)
            if errors:
                reviews.append(FactReview(fact, "invalid", problem="; ".join(str(e) for e in errors)))
            else:
                reviews.append(FactReview(fact, "new"))
            continue
        row_id = int(row.id)
        differences = tuple(name for name in fact.fields if not _same(getattr(row, name), getattr(fact.details, name)))
        if not differences:
            reviews.append(FactReview(fact, "unchanged", row_id))
            continue
        on_record = tuple((name, getattr(row, name)) for name in differences)
        if (fact.section, row_id) not in imported:
            reviews.append(FactReview(fact, "conflict", row_id, differences, on_record))
            continue
        errors = fact_errors(session, fact, patient=patient, known_payers=known_payers, today=today)
        if errors:
            reviews.append(FactReview(fact, "invalid", row_id, differences, on_record,
                                      "; ".join(str(e) for e in errors)))
        else:
            reviews.append(FactReview(fact, "changed", row_id, differences, on_record))
    return PatientReview(history, match, tuple(reviews))
